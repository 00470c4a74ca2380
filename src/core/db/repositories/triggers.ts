// agent_triggers: one row for each decision a pass takes about a session or a new cycle; only this file writes it.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toJson } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface TriggerRecord {
  tickId: string | null;
  reason: string;
  sessionId: number | null;
  context?: unknown;
  agentInvoked: boolean;
  skipReason: string | null;
  budgetUsedTodayUsd: number | null;
  budgetRemainingUsd: number | null;
  at: Date;
}

export async function recordTrigger(db: Db, trigger: TriggerRecord): Promise<void> {
  await db
    .insertInto('agent_triggers')
    .values({
      tick_id: trigger.tickId,
      trigger_reason: trigger.reason,
      session_id: trigger.sessionId,
      context: toJson(trigger.context),
      agent_invoked: trigger.agentInvoked,
      skip_reason: trigger.skipReason,
      budget_used_today_usd: trigger.budgetUsedTodayUsd,
      budget_remaining_usd: trigger.budgetRemainingUsd,
      triggered_at: trigger.at,
    })
    .execute();
}

/** Trigger rows written before `before` (what a prune would delete). */
export async function countTriggersBefore(db: Db, before: Date): Promise<number> {
  const row = await db
    .selectFrom('agent_triggers')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('triggered_at', '<', before)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One batch of the oldest trigger rows before `before`, walked on idx_triggers_date (why an id array: retention.ts). */
export async function deleteTriggerBatch(db: Db, before: Date, batchSize: number): Promise<number> {
  const oldest = db.selectFrom('agent_triggers').select('id').where('triggered_at', '<', before).orderBy('triggered_at').limit(batchSize);
  const result = await db.deleteFrom('agent_triggers').where(sql<boolean>`id = ANY (ARRAY(${oldest}))`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
