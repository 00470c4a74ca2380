// Trial accounting: a family (symbol, timeframe) counts every backtest run in it as one trial, and a deflated
// Sharpe is a statement about the trials made so far, so views and the promotion stage recompute it now instead of
// reading the value frozen when the session ended (that one stays on the experiment as history).
import { sql, type Kysely, type Transaction } from 'kysely';
import { deflatedSharpeOfBacktest, expectedMaxSharpe, KTRDR_ANNUALISATION, type FamilyMoments } from '../../research/deflated-sharpe.ts';
import type { Database } from '../database-schema.ts';
import { toNumber } from '../values.ts';
import { familyMoments, findExperiment, type Experiment } from '../repositories/experiments.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface DeflatedSharpeNow {
  dsr: number;
  /** The family's trials now, the experiment included: always shown beside the DSR. */
  trials: number;
  /** The annualised Sharpe the best of that many no-edge trials would be expected to reach (the DSR's benchmark). */
  expectedMaxSharpe: number;
}

export function familyKey(symbol: string, timeframe: string): string {
  return `${symbol}\u0000${timeframe}`;
}

/**
 * The DSR of an experiment that is already recorded (so already among its family's moments), over the family as it
 * is now. Pure: the moments come from familyMoments or familyMomentsFor.
 */
export function deflatedSharpeAmong(
  experiment: Pick<Experiment, 'sharpe' | 'backtestMetrics' | 'backtestWindow'>,
  family: FamilyMoments,
): DeflatedSharpeNow | null {
  if (experiment.sharpe === null) return null;
  const bars = experiment.backtestMetrics?.bars;
  return deflatedSharpeOfBacktest({
    sharpe: experiment.sharpe,
    bars: typeof bars === 'number' ? bars : null,
    startDate: experiment.backtestWindow?.startDate ?? null,
    endDate: experiment.backtestWindow?.endDate ?? null,
    family,
  });
}

/**
 * Called by the promotion stage (and the views) when it decides:
 *
 *   deflatedSharpeNow(db, experimentId): Promise<DeflatedSharpeNow | null>
 *
 * The experiment's deflated Sharpe over every trial of its family (symbol, timeframe) recorded now, itself
 * included, with that trial count. Null when the experiment does not exist, has no backtest Sharpe, no family, or
 * too few observations to compute one.
 */
export async function deflatedSharpeNow(db: Db, experimentId: number): Promise<DeflatedSharpeNow | null> {
  const experiment = await findExperiment(db, experimentId);
  if (!experiment || experiment.sharpe === null || !experiment.symbol || !experiment.timeframe) return null;
  return deflatedSharpeAmong(experiment, await familyMoments(db, experiment.symbol, experiment.timeframe));
}

/** The moments of several families in one query (the list views: one row per family shown, not per experiment). */
export async function familyMomentsFor(db: Db, families: { symbol: string; timeframe: string }[]): Promise<Map<string, FamilyMoments>> {
  const out = new Map<string, FamilyMoments>();
  const symbols = [...new Set(families.map((f) => f.symbol))];
  if (symbols.length === 0) return out;
  const rows = await db
    .selectFrom('agent_experiments')
    .select([
      'symbol',
      'timeframe',
      sql<string | number>`count(*)`.as('n'),
      sql<string | number | null>`sum(sharpe)`.as('sum'),
      sql<string | number | null>`sum(sharpe * sharpe)`.as('sum_squares'),
    ])
    .where('symbol', 'in', symbols)
    .where('sharpe', 'is not', null)
    .groupBy(['symbol', 'timeframe'])
    .execute();
  for (const r of rows) {
    if (r.symbol && r.timeframe)
      out.set(familyKey(r.symbol, r.timeframe), { n: toNumber(r.n), sum: Number(r.sum ?? 0), sumSquares: Number(r.sum_squares ?? 0) });
  }
  return out;
}

/** Each experiment's DSR over its family now (null where it has none), keyed by experiment id. */
export async function deflatedSharpesNow(db: Db, experiments: Experiment[]): Promise<Map<number, DeflatedSharpeNow | null>> {
  const families = experiments.filter((e) => e.symbol && e.timeframe && e.sharpe !== null).map((e) => ({ symbol: e.symbol!, timeframe: e.timeframe! }));
  const moments = await familyMomentsFor(db, families);
  return new Map(
    experiments.map((e) => {
      const family = e.symbol && e.timeframe ? moments.get(familyKey(e.symbol, e.timeframe)) : undefined;
      return [e.id, family ? deflatedSharpeAmong(e, family) : null];
    }),
  );
}

/** The search-wide numbers of one family: how many trials, what luck alone would reach among them, the best found. */
export interface FamilyTrials {
  symbol: string;
  timeframe: string;
  trials: number;
  /** Annualised: the Sharpe the best of `trials` no-edge trials with this family's spread would be expected to reach. */
  expectedMaxSharpe: number;
  /** The best backtest Sharpe among them (any outcome), and the best score (both gates passed). */
  bestSharpe: number | null;
  bestScore: number | null;
  bestExperimentId: number | null;
}

/** Annualised expected maximum of `n` no-edge trials with the family's observed Sharpe spread. */
export function expectedMaxOfFamily(family: FamilyMoments): number {
  if (family.n < 2) return 0;
  const variance = Math.max(0, (family.sumSquares - (family.sum * family.sum) / family.n) / (family.n - 1)) / KTRDR_ANNUALISATION;
  return expectedMaxSharpe(family.n, variance) * Math.sqrt(KTRDR_ANNUALISATION);
}

/** Every family with at least one trial, most trials first (one grouped query over idx_experiments_family). */
export async function familyTrials(db: Db, limit = 50): Promise<FamilyTrials[]> {
  const rows = await db
    .selectFrom('agent_experiments')
    .select([
      'symbol',
      'timeframe',
      sql<string | number>`count(*)`.as('n'),
      sql<string | number | null>`sum(sharpe)`.as('sum'),
      sql<string | number | null>`sum(sharpe * sharpe)`.as('sum_squares'),
      sql<number | null>`max(sharpe)`.as('best_sharpe'),
      sql<number | null>`max(score)`.as('best_score'),
      sql<number | null>`(array_agg(id ORDER BY sharpe DESC, id DESC))[1]`.as('best_id'),
    ])
    .where('sharpe', 'is not', null)
    .where('symbol', 'is not', null)
    .where('timeframe', 'is not', null)
    .groupBy(['symbol', 'timeframe'])
    .orderBy(sql`count(*)`, 'desc')
    .orderBy('symbol')
    .orderBy('timeframe')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const moments = { n: toNumber(r.n), sum: Number(r.sum ?? 0), sumSquares: Number(r.sum_squares ?? 0) };
    return {
      symbol: r.symbol!,
      timeframe: r.timeframe!,
      trials: moments.n,
      expectedMaxSharpe: expectedMaxOfFamily(moments),
      bestSharpe: r.best_sharpe === null ? null : Number(r.best_sharpe),
      bestScore: r.best_score === null ? null : Number(r.best_score),
      bestExperimentId: r.best_id === null ? null : Number(r.best_id),
    };
  });
}
