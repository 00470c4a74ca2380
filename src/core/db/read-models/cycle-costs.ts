import { sql, type Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toCount } from '../values.ts';

/** How many finished cycles make "the recent cost per cycle": enough to smooth one odd cycle, recent enough to follow a model change. */
export const RECENT_CYCLES = 20;

/**
 * The mean cost of the last finished cycles, whatever their outcome (a cycle that failed a gate is part of what the
 * research pays per cycle); null when none finished or none cost anything (the no-LLM designers).
 */
export async function recentCostPerCycle(db: Kysely<Database>, limit: number = RECENT_CYCLES): Promise<number | null> {
  const recent = db
    .selectFrom('agent_sessions')
    .select('cost_usd')
    .where('completed_at', 'is not', null)
    .orderBy('completed_at', 'desc')
    .limit(limit)
    .as('recent');
  const row = await db
    .selectFrom(recent)
    .select((eb) => [eb.fn.avg<string | number | null>('recent.cost_usd').as('mean')])
    .executeTakeFirst();
  const mean = row?.mean === null || row?.mean === undefined ? null : Number(row.mean);
  return mean !== null && Number.isFinite(mean) && mean > 0 ? mean : null;
}

export interface ActiveResearchLoad {
  active: number;
  /** Sessions still designing: each will claim a training worker it does not hold yet. */
  designing: number;
  /** What the active sessions are still expected to spend at `costPerCycleUsd`, beyond what each spent so far. */
  owedUsd: number;
}

/** One aggregate over the active sessions (the partial index on active sessions keeps it small). */
export async function activeResearchLoad(db: Kysely<Database>, costPerCycleUsd: number | null): Promise<ActiveResearchLoad> {
  const perCycle = costPerCycleUsd ?? 0;
  const row = await db
    .selectFrom('agent_sessions')
    .select([
      sql<string | number>`count(*)`.as('active'),
      sql<string | number>`count(*) filter (where phase = 'designing')`.as('designing'),
      sql<string | number | null>`sum(greatest(0, ${perCycle}::numeric - cost_usd))`.as('owed'),
    ])
    .where('outcome', 'is', null)
    .executeTakeFirstOrThrow();
  return { active: toCount(row.active), designing: toCount(row.designing), owedUsd: toCount(row.owed) };
}
