// agent_ticks: one row for each pass (`tick`), with its summary; only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toJson, withoutNul } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function startTick(db: Db, tick: { id: string; startedAt: Date; host: string }): Promise<void> {
  await db.insertInto('agent_ticks').values({ id: tick.id, started_at: tick.startedAt, host: tick.host, status: 'running' }).execute();
}

export async function finishTick(
  db: Db,
  tick: { id: string; finishedAt: Date; status: 'ok' | 'error' | 'paused' | 'skipped' | 'degraded'; summary: unknown; errorMessage?: string | null },
): Promise<void> {
  await db
    .updateTable('agent_ticks')
    .set({
      finished_at: tick.finishedAt,
      status: tick.status,
      summary: toJson(tick.summary),
      error_message: tick.errorMessage ? withoutNul(tick.errorMessage) : null,
    })
    .where('id', '=', tick.id)
    .execute();
}
