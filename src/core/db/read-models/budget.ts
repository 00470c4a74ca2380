// What `budget` reads beside the budget rows (db/repositories/budget.ts): the cycles each UTC day finished.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toNumber } from '../values.ts';

const completedDay = sql<string>`to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

/**
 * Sessions completed on each UTC day (YYYY-MM-DD) from `from` on, or only the successful ones: an index-only range
 * scan of idx_sessions_completed (idx_sessions_outcome for the successful). Days without one are absent.
 */
export async function sessionsCompletedPerDay(db: Kysely<Database>, from: Date, onlySuccess: boolean): Promise<Map<string, number>> {
  let query = db
    .selectFrom('agent_sessions')
    .select([completedDay.as('day'), (eb) => eb.fn.countAll().as('count')])
    .where('completed_at', '>=', from);
  if (onlySuccess) query = query.where('outcome', '=', 'success');
  const rows = await query.groupBy(completedDay).execute();
  return new Map(rows.map((row) => [row.day, toNumber(row.count as string | number)]));
}
