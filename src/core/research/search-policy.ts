// The search's allocation policy: before each design, a pure, seeded bandit decides what the cycle is for, to explore
// an under-tried design region or to exploit (refine) a named experiment. No LLM, no I/O: the same history and seed
// always give the same directive, so its decisions are pinned by unit tests on hand-made histories.
//
// Thompson sampling (research INTEGRITY, "Allocation"; RD-Agent(Q)'s bandit chooses the direction of each step the
// same way). Each region keeps a normal posterior on the reward of a design in it: the score (Sharpe) when the
// design passed both gates, FAILED_REWARD when it did not. The prior is one pseudo-trial at 0 with the noise of a
// KTRDR backtest (REWARD_NOISE): a region tried twice with lucky scores regresses toward 0 by a third, its spread
// stays wide, and a region never tried keeps the full prior spread, so early luck is discounted by how little a
// region was tried and every region keeps a non-zero chance (a normal draw can always win).
import { SeededRandom, seedOf } from '../kernel/random.ts';

/** The dimensions a design is placed in. The indicator set leads: it names the arm the bandit plays. */
export const searchDimensions = ['indicators', 'labels', 'network', 'timeframe', 'symbol'] as const;
export type SearchDimension = (typeof searchDimensions)[number];

/** One design's place: a value per dimension (null when the design does not say). */
export type SearchRegion = Record<SearchDimension, string | null>;

/** What the policy learns from: one finished experiment. */
export interface SearchObservation {
  experimentId: number;
  region: SearchRegion;
  /** Passed both gates. */
  passed: boolean;
  /** The experiment's score (Sharpe when both gates passed), else null. */
  score: number | null;
}

export type SearchMode = 'explore' | 'exploit';

/** A region's posterior as the policy read it: for the directive's record and the report. */
export interface RegionPosterior {
  dimension: SearchDimension;
  value: string;
  tried: number;
  passed: number;
  /** Beta(1 + passed, 1 + failed) mean: the chance a design here passes both gates. */
  passRate: number;
  /** Posterior mean and standard deviation of the reward. */
  mean: number;
  deviation: number;
  /** This cycle's Thompson draw. */
  draw: number;
  best: number | null;
}

export interface SearchDirective {
  mode: SearchMode;
  /** The region the design should sit in: explored afresh, or the named experiment's own. */
  region: SearchRegion;
  /** The experiment to refine (exploit only). */
  parentExperimentId: number | null;
  reason: string;
  /** 'thompson' for the learning designers, 'uniform' for the random control. */
  policy: 'thompson' | 'uniform';
  /** The leading dimension's posteriors, best draw first (at most POSTERIOR_RECORD entries). */
  posterior: RegionPosterior[];
  /** Experiments seen, and how many passed both gates. */
  observed: { experiments: number; passed: number };
}

export interface SearchPolicyInput {
  /** Finished experiments, any order. */
  history: readonly SearchObservation[];
  /** Values each dimension may take beyond those already tried (so an untried region can be chosen). */
  catalogue: Partial<Record<SearchDimension, readonly string[]>>;
  /** Draws are seeded by this and the cycle, so a directive is reproducible. */
  seed: string | number;
  /** Experiments other active sessions are refining: never a second session's exploit target. */
  claimed?: ReadonlySet<number>;
  /** The random control explores a uniformly drawn region and never exploits. */
  policy?: 'thompson' | 'uniform';
}

/** The reward a design that failed a gate brings: the default backtest gate's Sharpe floor. */
export const FAILED_REWARD = -0.5;
/** The spread of one design's reward: about the Sharpe noise of a one-year hourly backtest, plus design variety. */
export const REWARD_NOISE = 0.35;
/** Pseudo-trials of the prior (mean 0). */
const PRIOR_TRIALS = 1;
const POSTERIOR_RECORD = 8;

interface Tally {
  tried: number;
  passed: number;
  rewardSum: number;
  best: number | null;
}

function rewardOf(observation: SearchObservation): number {
  return observation.passed && observation.score !== null && Number.isFinite(observation.score) ? observation.score : FAILED_REWARD;
}

function tallies(history: readonly SearchObservation[], dimension: SearchDimension, catalogue: readonly string[]): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const value of catalogue) out.set(value, { tried: 0, passed: 0, rewardSum: 0, best: null });
  for (const observation of history) {
    const value = observation.region[dimension];
    if (value === null) continue;
    const tally = out.get(value) ?? { tried: 0, passed: 0, rewardSum: 0, best: null };
    tally.tried += 1;
    tally.rewardSum += rewardOf(observation);
    if (observation.passed) {
      tally.passed += 1;
      if (observation.score !== null && (tally.best === null || observation.score > tally.best)) tally.best = observation.score;
    }
    out.set(value, tally);
  }
  return out;
}

/** Posterior of every value of one dimension, with this cycle's draw, best draw first (ties by value). */
export function regionPosteriors(input: SearchPolicyInput, dimension: SearchDimension): RegionPosterior[] {
  const values = [...tallies(input.history, dimension, input.catalogue[dimension] ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return values
    .map(([value, tally]) => {
      const trials = PRIOR_TRIALS + tally.tried;
      const mean = tally.rewardSum / trials;
      const deviation = REWARD_NOISE / Math.sqrt(trials);
      const random = new SeededRandom(seedOf('search', input.seed, dimension, value));
      const draw = input.policy === 'uniform' ? random.next() : random.normal(mean, deviation);
      return {
        dimension,
        value,
        tried: tally.tried,
        passed: tally.passed,
        passRate: (1 + tally.passed) / (2 + tally.tried),
        mean,
        deviation,
        draw,
        best: tally.best,
      };
    })
    .sort((a, b) => b.draw - a.draw || (a.value < b.value ? -1 : 1));
}

/**
 * The directive of one cycle. The leading dimension's winning draw decides: a region where a design passed both gates
 * (and that no other session is refining) is exploited through its best experiment; any other winner is explored,
 * with the other dimensions set to their own winning draws. With no history at all, everything is explored.
 */
export function decideSearch(input: SearchPolicyInput): SearchDirective {
  const policy = input.policy ?? 'thompson';
  const claimed = input.claimed ?? new Set<number>();
  const posteriors = Object.fromEntries(searchDimensions.map((dimension) => [dimension, regionPosteriors({ ...input, policy }, dimension)])) as Record<
    SearchDimension,
    RegionPosterior[]
  >;
  const observed = { experiments: input.history.length, passed: input.history.filter((o) => o.passed).length };
  const lead = posteriors.indicators;
  const record = lead.slice(0, POSTERIOR_RECORD);
  const fresh = (): SearchRegion =>
    Object.fromEntries(searchDimensions.map((dimension) => [dimension, posteriors[dimension][0]?.value ?? null])) as SearchRegion;
  const winner = lead[0];
  if (policy === 'uniform' || !winner) {
    const region = fresh();
    const reason = policy === 'uniform' ? 'the random control explores a region drawn at random' : 'no region is known yet: exploring';
    return { mode: 'explore', region, parentExperimentId: null, reason, policy, posterior: record, observed };
  }
  const candidates = input.history
    .filter((o) => o.passed && o.score !== null && o.region.indicators === winner.value)
    .sort((a, b) => b.score! - a.score! || b.experimentId - a.experimentId);
  const target = candidates.find((o) => !claimed.has(o.experimentId));
  const figures = `draw ${winner.draw.toFixed(2)}, mean ${winner.mean.toFixed(2)} ± ${winner.deviation.toFixed(2)} over ${winner.tried} tr${winner.tried === 1 ? 'y' : 'ies'}`;
  if (target) {
    return {
      mode: 'exploit',
      region: target.region,
      parentExperimentId: target.experimentId,
      reason: `indicators ${winner.value} drew highest (${figures}, ${winner.passed} passed): refine its best, experiment #${target.experimentId}`,
      policy,
      posterior: record,
      observed,
    };
  }
  const why =
    candidates.length > 0
      ? `its experiments are being refined by other sessions`
      : winner.tried === 0
        ? 'never tried'
        : `${winner.passed} of ${winner.tried} passed`;
  return {
    mode: 'explore',
    region: { ...fresh(), indicators: winner.value },
    parentExperimentId: null,
    reason: `indicators ${winner.value} drew highest (${figures}; ${why}): explore it`,
    policy,
    posterior: record,
    observed,
  };
}

/** A directive's region as one line: `indicators rsi+adx, labels zigzag 0.02, network 32x16, 1h, EURUSD`. */
export function describeRegion(region: SearchRegion): string {
  return searchDimensions
    .filter((dimension) => region[dimension] !== null)
    .map((dimension) => (dimension === 'timeframe' || dimension === 'symbol' ? region[dimension] : `${dimension} ${region[dimension]}`))
    .join(', ');
}

/** Where a design sits: its indicator set, label setting, network, timeframe and symbol. */
export function regionOf(features: {
  indicatorKey: string;
  labelSource: string | null;
  labelThreshold: number | null;
  architecture: string | null;
  timeframe: string | null;
  symbol: string | null;
}): SearchRegion {
  const labels =
    features.labelSource === null && features.labelThreshold === null
      ? null
      : `${features.labelSource ?? 'zigzag'}${features.labelThreshold !== null ? ` ${features.labelThreshold}` : ''}`;
  return {
    indicators: features.indicatorKey === '' ? null : features.indicatorKey,
    labels,
    network: features.architecture,
    timeframe: features.timeframe,
    symbol: features.symbol,
  };
}
