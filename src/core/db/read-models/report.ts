// What the report reads of the experiments and the budget ledger, in the report's window (`since`, or everything):
// aggregates computed by PostgreSQL, returned as numbers and dates. cli/views/report/report-data.ts draws them.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SessionOutcome } from '../../session/model.ts';
import { toDate, toNumber } from '../values.ts';

type Db = Kysely<Database>;

/** Every experiment's score, deflated Sharpe and designer, in completion order. */
export async function experimentScoresInOrder(
  db: Db,
  since: Date | null,
): Promise<{ score: number | null; deflated_sharpe: number | null; designer: string }[]> {
  let query = db.selectFrom('agent_experiments').select(['score', 'deflated_sharpe', 'designer']).orderBy('completed_at').orderBy('id');
  if (since) query = query.where('completed_at', '>=', since);
  return query.execute();
}

/**
 * When the first and the last experiment finished; null with none. One aggregate: parsing a timestamp per experiment
 * doubled the read at 100,000 of them.
 */
export async function experimentSpan(db: Db, since: Date | null): Promise<{ first: Date; last: Date } | null> {
  let query = db
    .selectFrom('agent_experiments')
    .select([sql<Date | string | null>`min(completed_at)`.as('first'), sql<Date | string | null>`max(completed_at)`.as('last')]);
  if (since) query = query.where('completed_at', '>=', since);
  const bounds = await query.executeTakeFirst();
  return bounds?.first && bounds.last ? { first: toDate(bounds.first), last: toDate(bounds.last) } : null;
}

/** What the budget ledger says was spent from this UTC day on (every day when null). */
export async function ledgerSpendSince(db: Db, fromDay: string | null): Promise<number> {
  let query = db.selectFrom('agent_budget').select(sql<string | number | null>`sum(budget_used_usd)`.as('used'));
  if (fromDay) query = query.where('date', '>=', fromDay);
  const row = await query.executeTakeFirst();
  return row?.used === null || row?.used === undefined ? 0 : toNumber(row.used);
}

/** The commonest gate failures (`gate: check, check`), most frequent first. */
export async function gateFailureCounts(db: Db, since: Date | null, limit: number): Promise<{ reason: string; count: number }[]> {
  const reason = sql<string>`gate_failed || ': ' || array_to_string(failed_checks, ', ')`;
  let query = db
    .selectFrom('agent_experiments')
    .select([reason.as('reason'), sql<string | number>`count(*)`.as('n')])
    .where('gate_failed', 'is not', null)
    .groupBy(reason)
    .orderBy(sql`count(*)`, 'desc')
    .limit(limit);
  if (since) query = query.where('completed_at', '>=', since);
  return (await query.execute()).map((r) => ({ reason: r.reason, count: toNumber(r.n) }));
}

export interface DesignerTotals {
  designer: string;
  experiments: number;
  /** Passed both gates (has a score). */
  passed: number;
  backtested: number;
  bestScore: number | null;
  medianSharpe: number | null;
  meanDeflatedSharpe: number | null;
  costUsd: number;
}

/** Each designer's experiments and results, the designer with most experiments first. */
export async function designerTotals(db: Db, since: Date | null): Promise<DesignerTotals[]> {
  let query = db
    .selectFrom('agent_experiments')
    .select([
      'designer',
      sql<string | number>`count(*)`.as('n'),
      sql<string | number>`count(score)`.as('passed'),
      sql<string | number>`count(sharpe)`.as('backtested'),
      sql<number | null>`max(score)`.as('best'),
      sql<number | null>`percentile_cont(0.5) WITHIN GROUP (ORDER BY sharpe)`.as('median_sharpe'),
      sql<number | null>`avg(deflated_sharpe)`.as('mean_dsr'),
      sql<string | number | null>`sum(cost_usd)`.as('cost'),
    ])
    .groupBy('designer')
    .orderBy(sql`count(*)`, 'desc');
  if (since) query = query.where('completed_at', '>=', since);
  return (await query.execute()).map((r) => ({
    designer: r.designer,
    experiments: toNumber(r.n),
    passed: toNumber(r.passed),
    backtested: toNumber(r.backtested),
    bestScore: r.best === null ? null : Number(r.best),
    medianSharpe: r.median_sharpe === null ? null : Number(r.median_sharpe),
    meanDeflatedSharpe: r.mean_dsr === null ? null : Number(r.mean_dsr),
    costUsd: r.cost === null ? 0 : toNumber(r.cost),
  }));
}

/** Experiments and their cost per bucket (`start` in ms since the epoch, UTC) and outcome; empty buckets are absent. */
export async function outcomeBuckets(
  db: Db,
  unit: 'hour' | 'day' | 'week' | 'month',
  since: Date | null,
): Promise<{ start: number; outcome: SessionOutcome; count: number; costUsd: number }[]> {
  // The unit is one of four fixed words, inlined so the SELECT and GROUP BY expressions are the same text.
  const bucket = sql<string>`to_char(date_trunc(${sql.lit(unit)}, completed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  let query = db
    .selectFrom('agent_experiments')
    .select([bucket.as('bucket'), 'outcome', sql<string | number>`count(*)`.as('n'), sql<string | number | null>`sum(cost_usd)`.as('cost')])
    .groupBy([bucket, 'outcome']);
  if (since) query = query.where('completed_at', '>=', since);
  return (await query.execute()).map((row) => ({
    start: Date.parse(row.bucket),
    outcome: row.outcome,
    count: toNumber(row.n),
    costUsd: row.cost === null ? 0 : toNumber(row.cost),
  }));
}
