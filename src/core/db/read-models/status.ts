// The sessions `status` shows: the active ones and the latest finished, as rows of agent_sessions with only the
// columns the view reads. Each query is bounded and index-backed (the active partial index, the completed and
// created indexes), so `status` costs the same on a fresh install and after a year of sessions.
import type { Kysely, Selectable } from 'kysely';
import type { AgentSessionsTable, Database } from '../database-schema.ts';
import { toNumber } from '../values.ts';

type Db = Kysely<Database>;

const activeColumns = [
  'id',
  'phase',
  'designer',
  'strategy_name',
  'training_operation_id',
  'backtest_operation_id',
  'operation_progress',
  'progress_changed_at',
  'lease_owner',
  'lease_expires_at',
  'cost_usd',
  'phase_started_at',
  'created_at',
] as const;

export type ActiveSessionRow = Pick<Selectable<AgentSessionsTable>, (typeof activeColumns)[number]>;

/** The active sessions (no outcome yet), oldest first, at most `limit`. */
export async function activeSessionRows(db: Db, limit: number): Promise<ActiveSessionRow[]> {
  return db.selectFrom('agent_sessions').select(activeColumns).where('outcome', 'is', null).orderBy('id').limit(limit).execute();
}

const completedColumns = [
  'id',
  'strategy_name',
  'outcome',
  'created_at',
  'completed_at',
  'backtest_results',
  'training_gate',
  'backtest_gate',
  'failure_reason',
  'assessment',
  'cost_usd',
] as const;

export type CompletedSessionRow = Pick<Selectable<AgentSessionsTable>, (typeof completedColumns)[number]>;

/** The latest finished sessions, newest first. */
export async function recentlyCompletedSessionRows(db: Db, limit: number): Promise<CompletedSessionRow[]> {
  return db
    .selectFrom('agent_sessions')
    .select(completedColumns)
    .where('completed_at', 'is not', null)
    .orderBy('completed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** Sessions created (or completed) since a moment: today's cycle counts. */
export async function countSessionsSince(db: Db, column: 'created_at' | 'completed_at', since: Date): Promise<number> {
  const row = await db
    .selectFrom('agent_sessions')
    .select((eb) => eb.fn.countAll().as('count'))
    .where(column, '>=', since)
    .executeTakeFirstOrThrow();
  return toNumber(row.count as string | number);
}
