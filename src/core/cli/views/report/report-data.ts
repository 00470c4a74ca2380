// What every report section may draw, read once: the experiments in the report's window (bucketed to fit their
// span), the designers that ran them, the best ones with their context, and the hypotheses. Sections with data of
// their own read it through their `load` (see sections.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/database-schema.ts';
import { childrenOf, findExperiment, queryExperiments, type Experiment } from '../../../db/repositories/experiments.ts';
import { findHypothesis, listHypotheses, type Hypothesis } from '../../../db/repositories/hypotheses.ts';
import {
  designerTotals,
  type DesignerTotals,
  experimentScoresInOrder,
  experimentSpan,
  gateFailureCounts,
  ledgerSpendSince,
  outcomeBuckets,
} from '../../../db/read-models/report.ts';
import { deflatedSharpesNow, type DeflatedSharpeNow } from '../../../db/read-models/trials.ts';
import { utcDay } from '../../../kernel/utc-day.ts';
import { bucketRange, bucketUnitFor, type BucketUnit } from './buckets.ts';

export interface DesignerSummary extends DesignerTotals {
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
  const rows = await experimentScoresInOrder(db, since);
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
  const span = rows.length > 0 ? await experimentSpan(db, since) : null;
  const buckets = span ? await readBuckets(db, span, since) : { unit: 'day' as const, rows: [] };

  const ledgerSpendUsd = await ledgerSpendSince(db, since === null ? null : utcDay(since));
  const gateFailures = await gateFailureCounts(db, since, 12);
  const designers = (await designerTotals(db, since)).map((totals) => ({
    ...totals,
    bestSoFar: thin(byDesigner.get(totals.designer)?.points ?? [], MAX_POINTS),
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
    ledgerSpendUsd,
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
  const found = new Map<number, { outcomes: Record<string, number>; costUsd: number }>();
  for (const row of await outcomeBuckets(db, unit, since)) {
    const entry = found.get(row.start) ?? { outcomes: {}, costUsd: 0 };
    entry.outcomes[row.outcome] = row.count;
    entry.costUsd += row.costUsd;
    found.set(row.start, entry);
  }
  return {
    unit,
    rows: bucketRange(span.first, span.last, unit).map((start) => ({ start, ...(found.get(start.getTime()) ?? { outcomes: {}, costUsd: 0 }) })),
  };
}
