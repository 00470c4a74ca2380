/**
 * Planted worlds: simulated markets whose truth is known, so that a search can be measured (research INTEGRITY,
 * "Testing a search: planted worlds"). A world gives every design a TRUE Sharpe ratio from its hidden structure: a
 * planted class of designs (those using one indicator, those using one pair, or those labelled one way) carries an
 * edge, every other design has none. A backtest then shows that truth plus noise of KTRDR's size for its window,
 * and the training metrics follow the truth (a design with an edge learns a little more).
 *
 * How to use it (the default, with no world, stays the quality model of `quality.ts`):
 *
 *   createSimulator({ strategiesDir, seed: 3, world: { kind: 'no_edge' } })
 *   createSimulator({ strategiesDir, seed: 3, world: { kind: 'indicator', indicator: 'mfi' } })
 *   createSimulator({ strategiesDir, seed: 3, world: { kind: 'pair', indicators: ['rsi', 'adx'], sharpe: 0.8 } })
 *   createSimulator({ strategiesDir, seed: 3, world: { kind: 'label', source: 'zigzag', threshold: 0.02 } })
 *   createSimulator({ strategiesDir, seed: 3, world: { kind: 'pair' } })   // the pair is drawn from the seed
 *
 * `simulator.world` then says what was planted (the class resolved from the seed, its Sharpe), and
 * `inPlantedClass(simulator.world, strategyConfig)` tells whether a design belongs to it. From the command line:
 * `ktrdr-agent sim serve --world pair:rsi+adx` (see `parseWorld`).
 *
 * Units are KTRDR's: its backtest reports `mean / std * sqrt(252)` over per-bar returns
 * (ktrdr/backtesting/performance.py, PerformanceTracker), so with no edge a backtest of T bars shows a Sharpe of
 * about N(0, sqrt(252 / T)): 0.20 for a year of hourly forex bars.
 */
import { strategyFeatures } from '../research/fingerprint.ts';
import { BOUNDED_INDICATORS } from '../strategy/bounded-indicators.ts';
import { clamp, SeededRandom, seedOf } from '../kernel/random.ts';
import type { DesignAnalysis } from './quality.ts';

/** What a world plants. An omitted indicator, pair or threshold is drawn from the simulator's seed. */
export type PlantedWorld =
  | { kind: 'no_edge' }
  | { kind: 'indicator'; indicator?: string; sharpe?: number }
  | { kind: 'pair'; indicators?: readonly [string, string]; sharpe?: number }
  | { kind: 'label'; source?: string; threshold?: number; sharpe?: number };

/** A world with its class fixed: what the simulator plays and what a bench scores a search against. */
export type ResolvedWorld =
  | { kind: 'no_edge'; sharpe: 0; label: string }
  | { kind: 'indicator'; indicator: string; sharpe: number; label: string }
  | { kind: 'pair'; indicators: readonly [string, string]; sharpe: number; label: string }
  | { kind: 'label'; source: string; threshold: number | null; sharpe: number; label: string };

/** About three standard errors of a one-year hourly backtest: findable, but not by one lucky look. */
export const DEFAULT_PLANTED_SHARPE = 0.6;

/** Zigzag thresholds both no-LLM designers draw from, so a label world is reachable by either. */
const PLANTABLE_THRESHOLDS = [0.015, 0.02, 0.025];

/** Two thresholds closer than this are one label setting (designers round to tenths of a percent). */
const THRESHOLD_TOLERANCE = 0.001;

/** Indicator types a design can be built from with fixed fuzzy ranges: the ones a planted edge may hide in. */
export function plantableIndicators(): string[] {
  return [...new Set(BOUNDED_INDICATORS.map((fact) => fact.type))].sort();
}

/** Fixes what the seed decides; throws a RangeError naming the value when the world is malformed. */
export function resolveWorld(world: PlantedWorld, seed: number): ResolvedWorld {
  const random = new SeededRandom(seedOf(seed, 'planted-world', world.kind));
  const types = plantableIndicators();
  const sharpeOf = (value: number | undefined): number => {
    const sharpe = value ?? DEFAULT_PLANTED_SHARPE;
    if (!Number.isFinite(sharpe) || sharpe < -5 || sharpe > 5) throw new RangeError(`a planted Sharpe must be between -5 and 5, got ${String(value)}`);
    return sharpe;
  };
  const known = (type: string): string => {
    const lower = type.toLowerCase();
    if (!types.includes(lower)) throw new RangeError(`unknown indicator '${type}' for a planted world: use one of ${types.join(', ')}`);
    return lower;
  };
  switch (world.kind) {
    case 'no_edge':
      return { kind: 'no_edge', sharpe: 0, label: 'no edge' };
    case 'indicator': {
      const indicator = world.indicator ? known(world.indicator) : types[Math.floor(random.next() * types.length)]!;
      const sharpe = sharpeOf(world.sharpe);
      return { kind: 'indicator', indicator, sharpe, label: `indicator ${indicator} (Sharpe ${sharpe})` };
    }
    case 'pair': {
      let pair: [string, string];
      if (world.indicators) {
        pair = [known(world.indicators[0]), known(world.indicators[1])];
        if (pair[0] === pair[1]) throw new RangeError(`a planted pair needs two different indicators, got ${pair[0]} twice`);
      } else {
        const first = Math.floor(random.next() * types.length);
        const second = (first + 1 + Math.floor(random.next() * (types.length - 1))) % types.length;
        pair = [types[first]!, types[second]!];
      }
      pair.sort();
      const sharpe = sharpeOf(world.sharpe);
      return { kind: 'pair', indicators: pair, sharpe, label: `pair ${pair.join('+')} (Sharpe ${sharpe})` };
    }
    case 'label': {
      const source = world.source ?? 'zigzag';
      const threshold = world.threshold ?? (source === 'zigzag' ? PLANTABLE_THRESHOLDS[Math.floor(random.next() * PLANTABLE_THRESHOLDS.length)]! : null);
      if (threshold !== null && !(threshold > 0 && threshold < 1)) throw new RangeError(`a planted label threshold must be between 0 and 1, got ${threshold}`);
      const sharpe = sharpeOf(world.sharpe);
      return { kind: 'label', source, threshold, sharpe, label: `labels ${source}${threshold === null ? '' : ` at ${threshold}`} (Sharpe ${sharpe})` };
    }
  }
}

/** Whether a design (its parsed strategy) belongs to the world's planted class. Never, in a world with no edge. */
export function inPlantedClass(world: ResolvedWorld, config: Record<string, unknown> | null): boolean {
  const features = strategyFeatures(config);
  switch (world.kind) {
    case 'no_edge':
      return false;
    case 'indicator':
      return features.indicatorTypes.includes(world.indicator);
    case 'pair':
      return features.indicatorTypes.includes(world.indicators[0]) && features.indicatorTypes.includes(world.indicators[1]);
    case 'label': {
      const source = features.labelSource ?? 'zigzag';
      if (source !== world.source) return false;
      return world.threshold === null || (features.labelThreshold !== null && Math.abs(features.labelThreshold - world.threshold) < THRESHOLD_TOLERANCE);
    }
  }
}

/** The design's true Sharpe in this world: the planted edge for the class, nothing for everything else. */
export function trueSharpeOf(world: ResolvedWorld, config: Record<string, unknown> | null): number {
  return inPlantedClass(world, config) ? world.sharpe : 0;
}

/**
 * The design as the world's worker trains it: its shape (classes, epochs, network) from the strategy, its learnable
 * quality from the truth. A sane design trains well enough to pass the default training gate whatever its edge, so
 * the search is decided by the backtest, where the truth shows through KTRDR-sized noise. An unknown indicator
 * still fails the run (the design problem is real in any world).
 */
export function plantDesign(world: ResolvedWorld, design: DesignAnalysis, config: Record<string, unknown>): DesignAnalysis {
  const trueSharpe = trueSharpeOf(world, config);
  return {
    ...design,
    quality: clamp(0.7 + 0.1 * trueSharpe, 0.6, 0.85),
    overfit: Math.min(design.overfit, 0.05),
    leak: false,
    // Never in the notes: a designer reads them, and the truth is what the search must find.
    trueSharpe,
  };
}

/** KTRDR's Sharpe standard error with no edge for a backtest of `bars` bars (per-bar returns, annualised by sqrt(252)). */
export function sharpeNoise(bars: number): number {
  return Math.sqrt(252 / Math.max(1, bars));
}

const WORLD_PATTERN = /^(no_edge|no-edge|indicator|pair|label)(?::([^@]*))?(?:@(-?[0-9.]+))?$/;

/**
 * Reads a world from the command line: `no-edge`, `indicator` (drawn from the seed), `indicator:mfi`, `pair:rsi+adx`,
 * `label:zigzag=0.02`, each optionally with `@<sharpe>` (`pair:rsi+adx@0.8`). Throws a RangeError naming the
 * accepted forms.
 */
export function parseWorld(text: string): PlantedWorld {
  const forms = 'no-edge, indicator[:<type>], pair[:<type>+<type>], label[:<source>[=<threshold>]], each optionally with @<sharpe>';
  const match = WORLD_PATTERN.exec(text.trim());
  if (!match) throw new RangeError(`unknown world '${text}': use ${forms}`);
  const [, kind, argument, sharpeText] = match;
  const sharpe = sharpeText === undefined ? undefined : Number(sharpeText);
  if (sharpe !== undefined && !Number.isFinite(sharpe)) throw new RangeError(`world '${text}': the Sharpe after @ must be a number`);
  const withSharpe = sharpe === undefined ? {} : { sharpe };
  if (kind === 'no_edge' || kind === 'no-edge') return { kind: 'no_edge' };
  if (kind === 'indicator') return { kind: 'indicator', ...(argument ? { indicator: argument } : {}), ...withSharpe };
  if (kind === 'pair') {
    if (!argument) return { kind: 'pair', ...withSharpe };
    const parts = argument.split('+');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new RangeError(`world '${text}': a pair is two indicator types joined by '+', e.g. pair:rsi+adx`);
    return { kind: 'pair', indicators: [parts[0], parts[1]], ...withSharpe };
  }
  if (!argument) return { kind: 'label', ...withSharpe };
  const [source, thresholdText] = argument.split('=');
  const threshold = thresholdText === undefined ? undefined : Number(thresholdText);
  if (threshold !== undefined && !Number.isFinite(threshold)) throw new RangeError(`world '${text}': the label threshold after = must be a number`);
  return { kind: 'label', ...(source ? { source } : {}), ...(threshold === undefined ? {} : { threshold }), ...withSharpe };
}
