// What every report section may draw, read once: the experiments in the report's window (bucketed to fit their
// span), the designers that ran them, the best ones with their context, and the hypotheses. Sections with data of
// their own read it through their `load` (see sections.ts).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../db/database-schema.ts';
import { childrenOf, findExperiment, queryExperiments, type Experiment } from '../../../db/repositories/experiments.ts';
import { findHypothesis, listHypotheses, type Hypothesis } from '../../../db/repositories/hypotheses.ts';
import { toDate, toNumber } from '../../../db/values.ts';
import { deflatedSharpesNow, type DeflatedSharpeNow } from '../../../db/repositories/trials.ts';
import { utcDay } from '../../../kernel/utc-day.ts';
import { bucketRange, bucketUnitFor, type BucketUnit } from './buckets.ts';

export interface DesignerSummary {
  designer: string;
  experiments: number;
  /** Passed both gates (has a score). */
  passed: number;
  backtested: number;
  bestScore: number | null;
  medianSharpe: number | null;
  meanDeflatedSharpe: number | null;
  costUsd: number;
  /** Running best score by the designer's own experiment count, thinned to at most MAX_POINTS points. */
  bestSoFar: [number, number][];
}

export interface TopExperimentDetail {
  experiment: Experiment;
  hypothesis: Hypothesis | null;
  parent: Experiment | null;
  children: Experiment[];
}

export interface ReportData {
  generatedAt: Date;
  since: Date | null;
  experimentCount: number;
  /** When the first and the last experiment in the window finished; null with none. */
  span: { first: Date; last: Date } | null;
  /** One point per experiment in completion order (thinned to at most MAX_POINTS). */
  cycles: { index: number; bestScore: number | null; deflatedSharpe: number | null }[];
  buckets: { unit: BucketUnit; rows: { start: Date; outcomes: Record<string, number>; costUsd: number }[] };
  /** What the budget ledger says was spent on the days in the window (model calls of unfinished cycles included). */
  ledgerSpendUsd: number;
  gateFailures: { reason: string; count: number }[];
  designers: DesignerSummary[];
  /** The best experiments by score, best first. */
  top: Experiment[];
  /** The first few of `top` with their hypothesis and lineage, for a section each. */
  topDetails: TopExperimentDetail[];
  /** The newest experiments of any outcome, newest first. */
  recent: Experiment[];
  hypotheses: Hypothesis[];
  /** The DSR of the experiments shown (top, recent), over their family's trials now (section-trials.ts writes it). */
  dsrNow: Map<number, DeflatedSharpeNow | null>;
}

export const MAX_POINTS = 400;
export const TOP_LIMIT = 20;
export const DETAILED_TOP = 5;
export const RECENT_LIMIT = 300;

function thin<T>(items: T[], max: number): T[] {
  const step = Math.max(1, Math.ceil(items.length / max));
  return items.filter((_, i) => i % step === 0 || i === items.length - 1);
}

export async function readReportData(db: Kysely<Database>, options: { now: Date; since: Date | null }): Promise<ReportData> {
  const since = options.since;
  let cycleQuery = db.selectFrom('agent_experiments').select(['score', 'deflated_sharpe', 'designer']).orderBy('completed_at').orderBy('id');
  if (since) cycleQuery = cycleQuery.where('completed_at', '>=', since);
  const rows = await cycleQuery.execute();
  // Running bests are computed over every experiment; only the points drawn are thinned out.
  const cycles: ReportData['cycles'] = [];
  const byDesigner = new Map<string, { n: number; best: number | null; points: [number, number][] }>();
  let best: number | null = null;
  rows.forEach((row, index) => {
    if (row.score !== null && (best === null || row.score > best)) best = row.score;
    cycles.push({ index: index + 1, bestScore: best, deflatedSharpe: row.deflated_sharpe });
    const own = byDesigner.get(row.designer) ?? { n: 0, best: null, points: [] };
    own.n += 1;
    if (row.score !== null && (own.best === null || row.score > own.best)) own.best = row.score;
    if (own.best !== null) own.points.push([own.n, own.best]);
    byDesigner.set(row.designer, own);
  });
  // The span from one aggregate: parsing a timestamp per experiment doubled the read at 100,000 of them.
  let spanQuery = db
    .selectFrom('agent_experiments')
    .select([sql<Date | string | null>`min(completed_at)`.as('first'), sql<Date | string | null>`max(completed_at)`.as('last')]);
  if (since) spanQuery = spanQuery.where('completed_at', '>=', since);
  const bounds = await spanQuery.executeTakeFirst();
  const span = rows.length > 0 && bounds?.first && bounds.last ? { first: toDate(bounds.first), last: toDate(bounds.last) } : null;
  const buckets = span ? await readBuckets(db, span, since) : { unit: 'day' as const, rows: [] };

  let ledger = db.selectFrom('agent_budget').select(sql<string | number | null>`sum(budget_used_usd)`.as('used'));
  if (since) ledger = ledger.where('date', '>=', utcDay(since));
  const ledgerRow = await ledger.executeTakeFirst();

  const reason = sql<string>`gate_failed || ': ' || array_to_string(failed_checks, ', ')`;
  let failureQuery = db
    .selectFrom('agent_experiments')
    .select([reason.as('reason'), sql<string | number>`count(*)`.as('n')])
    .where('gate_failed', 'is not', null)
    .groupBy(reason)
    .orderBy(sql`count(*)`, 'desc')
    .limit(12);
  if (since) failureQuery = failureQuery.where('completed_at', '>=', since);
  const gateFailures = (await failureQuery.execute()).map((r) => ({ reason: r.reason, count: toNumber(r.n) }));

  let designerQuery = db
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
  if (since) designerQuery = designerQuery.where('completed_at', '>=', since);
  const designers = (await designerQuery.execute()).map((r) => ({
    designer: r.designer,
    experiments: toNumber(r.n),
    passed: toNumber(r.passed),
    backtested: toNumber(r.backtested),
    bestScore: r.best === null ? null : Number(r.best),
    medianSharpe: r.median_sharpe === null ? null : Number(r.median_sharpe),
    meanDeflatedSharpe: r.mean_dsr === null ? null : Number(r.mean_dsr),
    costUsd: r.cost === null ? 0 : toNumber(r.cost),
    bestSoFar: thin(byDesigner.get(r.designer)?.points ?? [], MAX_POINTS),
  }));

  const top = (await queryExperiments(db, { sort: 'score', limit: TOP_LIMIT, since })).experiments;
  const topDetails: TopExperimentDetail[] = [];
  for (const experiment of top.slice(0, DETAILED_TOP)) {
    topDetails.push({
      experiment,
      hypothesis: experiment.hypothesisId === null ? null : await findHypothesis(db, experiment.hypothesisId),
      parent: experiment.parentExperimentId === null ? null : await findExperiment(db, experiment.parentExperimentId),
      children: await childrenOf(db, experiment.id),
    });
  }
  const recent = (await queryExperiments(db, { sort: 'completed_at', limit: RECENT_LIMIT, since })).experiments;
  const hypotheses = await listHypotheses(db, { includeRetired: true, limit: 200 });
  return {
    generatedAt: options.now,
    since,
    experimentCount: rows.length,
    span,
    cycles: thin(cycles, MAX_POINTS),
    buckets,
    ledgerSpendUsd: ledgerRow?.used === null || ledgerRow?.used === undefined ? 0 : toNumber(ledgerRow.used),
    gateFailures,
    designers,
    top,
    topDetails,
    recent,
    hypotheses,
    dsrNow: await deflatedSharpesNow(db, [...top, ...recent]),
  };
}

async function readBuckets(db: Kysely<Database>, span: { first: Date; last: Date }, since: Date | null): Promise<ReportData['buckets']> {
  const unit = bucketUnitFor(span.first, span.last);
  // The unit is one of four fixed words, inlined so the SELECT and GROUP BY expressions are the same text.
  const bucket = sql<string>`to_char(date_trunc(${sql.lit(unit)}, completed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  let query = db
    .selectFrom('agent_experiments')
    .select([bucket.as('bucket'), 'outcome', sql<string | number>`count(*)`.as('n'), sql<string | number | null>`sum(cost_usd)`.as('cost')])
    .groupBy([bucket, 'outcome']);
  if (since) query = query.where('completed_at', '>=', since);
  const found = new Map<number, { outcomes: Record<string, number>; costUsd: number }>();
  for (const row of await query.execute()) {
    const key = Date.parse(row.bucket);
    const entry = found.get(key) ?? { outcomes: {}, costUsd: 0 };
    entry.outcomes[row.outcome] = toNumber(row.n);
    entry.costUsd += row.cost === null ? 0 : toNumber(row.cost);
    found.set(key, entry);
  }
  return {
    unit,
    rows: bucketRange(span.first, span.last, unit).map((start) => ({ start, ...(found.get(start.getTime()) ?? { outcomes: {}, costUsd: 0 }) })),
  };
}
