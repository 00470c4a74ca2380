import type { Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toDateOrNull } from '../values.ts';

/** KTRDR's clock offset (ms; positive: ahead of ours) as the last pass that reached KTRDR measured it. */
export interface KtrdrClockReading {
  offsetMs: number;
  measuredAt: Date;
}

export async function recordKtrdrClock(db: Kysely<Database>, offsetMs: number, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ ktrdr_clock_offset_ms: Math.round(offsetMs), ktrdr_clock_measured_at: now })
    .where('id', '=', 1)
    .execute();
}

export async function readKtrdrClock(db: Kysely<Database>): Promise<KtrdrClockReading | null> {
  const row = await db.selectFrom('agent_control').select(['ktrdr_clock_offset_ms', 'ktrdr_clock_measured_at']).where('id', '=', 1).executeTakeFirst();
  const measuredAt = toDateOrNull(row?.ktrdr_clock_measured_at ?? null);
  if (row?.ktrdr_clock_offset_ms === null || row?.ktrdr_clock_offset_ms === undefined || measuredAt === null) return null;
  return { offsetMs: Number(row.ktrdr_clock_offset_ms), measuredAt };
}
