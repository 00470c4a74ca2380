// The sessions `history` lists, a page at a time: active sessions (newest first), then finished sessions by completion
// time, newest first, keyset-paginated on (completed_at, id) so page 500 costs what page 1 costs.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AgentSessionsTable, Database } from '../database-schema.ts';
import type { SessionOutcome } from '../../session/model.ts';

type Db = Kysely<Database>;

const listColumns = [
  'id',
  'phase',
  'strategy_name',
  'outcome',
  'created_at',
  'completed_at',
  'training_operation_id',
  'backtest_operation_id',
  'operation_progress',
  'progress_changed_at',
  'training_results',
  'backtest_results',
  'training_gate',
  'backtest_gate',
  'failure_reason',
  'assessment',
  'cost_usd',
  'tokens_input',
  'tokens_output',
] as const;

/** A session as `history` reads it; a finished one carries its completion time in microseconds (the cursor's key). */
export type HistoryRow = Pick<Selectable<AgentSessionsTable>, (typeof listColumns)[number]> & { completed_micros?: string | number | bigint | null };

// Microseconds since the epoch, exact in PostgreSQL and as a JS string: a cursor built from a JS Date would lose
// the sub-millisecond part and skip or repeat rows that finished within the same millisecond.
const completedMicros = sql<string>`(extract(epoch from completed_at) * 1000000)::int8`;
const fromMicros = (micros: string) => sql<Date>`(timestamptz 'epoch' + ${micros}::int8 * interval '1 microsecond')`;

/** Active sessions below `beforeId` (all when null), newest first. */
export async function activeHistoryPage(db: Db, beforeId: number | null, limit: number): Promise<HistoryRow[]> {
  let query = db.selectFrom('agent_sessions').select(listColumns).where('outcome', 'is', null);
  if (beforeId !== null) query = query.where('id', '<', beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

/** Finished sessions after the cursor, newest first; with an outcome, only those (walked on idx_sessions_outcome). */
export async function finishedHistoryPage(
  db: Db,
  input: { outcome: SessionOutcome | null; since: Date | null; after: { completedMicros: string; id: number } | null; limit: number },
): Promise<HistoryRow[]> {
  let query = db.selectFrom('agent_sessions').select(listColumns).select(completedMicros.as('completed_micros')).where('completed_at', 'is not', null);
  if (input.outcome !== null) query = query.where('outcome', '=', input.outcome);
  if (input.since !== null) query = query.where('completed_at', '>=', input.since);
  const after = input.after;
  if (after !== null) {
    const boundary = fromMicros(after.completedMicros);
    query = query.where('completed_at', '<=', boundary).where((eb) => eb.or([eb('completed_at', '<', boundary), eb('id', '<', after.id)]));
  }
  return query.orderBy('completed_at', 'desc').orderBy('id', 'desc').limit(input.limit).execute();
}
