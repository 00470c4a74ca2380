import { earlierRunsOfDesign, recentGatedDesigns, type Experiment } from '../db/repositories/experiments.ts';
import { indicatorKeyCounts } from '../db/repositories/experiment-tallies.ts';
import { strategyFeatures, strategyFingerprint } from '../research/fingerprint.ts';
import { BOUNDED_INDICATORS, type BoundedIndicatorFact } from '../strategy/bounded-indicators.ts';
import { validateStrategy } from '../strategy/validate.ts';
import { SeededRandom } from '../kernel/random.ts';
import { installationId } from '../db/installation.ts';
import {
  availableRange,
  BaselineDesigner,
  buildStrategy,
  candidatePairs,
  hash,
  isRefusedAsKnown,
  pairKey,
  startTraining,
  trainingWindow,
  type ToolCall,
} from './baseline-designer.ts';
import { directiveInForce, SEARCH_ARCHITECTURES, SEARCH_LABEL_THRESHOLDS } from './search-directive.ts';
import type { SearchRegion } from '../research/search-policy.ts';
import type { DesignerKind } from './designer.ts';
import type { ToolContext } from './tools.ts';

type Strategy = Record<string, any>;

/** The simulator's seeded generator (mulberry32): the same session id always evolves the same child. */
function generator(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

// The search's catalogue and the designs evolve builds share one list of label thresholds and network sizes.
const ARCHITECTURES = SEARCH_ARCHITECTURES;
const LABEL_THRESHOLDS = SEARCH_LABEL_THRESHOLDS;

export const mutationKinds = ['parameter', 'zones', 'architecture', 'label_threshold', 'indicator_swap', 'recombine'] as const;
export type MutationKind = (typeof mutationKinds)[number];

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** An indicator with the fuzzy sets that read it and the nn inputs that feed them: what a swap moves as one. */
interface Unit {
  id: string;
  indicator: Record<string, unknown>;
  sets: Record<string, Record<string, unknown>>;
  inputs: Record<string, unknown>[];
}

function unitsOf(strategy: Strategy): Unit[] {
  const sets = (strategy.fuzzy_sets ?? {}) as Record<string, Record<string, unknown>>;
  const inputs = (strategy.nn_inputs ?? []) as Record<string, unknown>[];
  return Object.entries((strategy.indicators ?? {}) as Record<string, Record<string, unknown>>).map(([id, indicator]) => {
    const own = Object.fromEntries(Object.entries(sets).filter(([, set]) => String(set.indicator ?? '').split('.')[0] === id));
    return { id, indicator, sets: own, inputs: inputs.filter((i) => typeof i.fuzzy_set === 'string' && i.fuzzy_set in own) };
  });
}

function withUnits(strategy: Strategy, units: Unit[]): Strategy {
  const next = clone(strategy);
  next.indicators = Object.fromEntries(units.map((u) => [u.id, u.indicator]));
  next.fuzzy_sets = Object.assign({}, ...units.map((u) => u.sets));
  next.nn_inputs = units.flatMap((u) => u.inputs);
  return next;
}

function unitOfFact(fact: BoundedIndicatorFact, random: () => number): Unit {
  const id = `${fact.type}_${Math.floor(random() * 1000)}`;
  const setName = `${id}_zones`;
  return {
    id,
    indicator: { type: fact.type, ...fact.defaultParameters },
    sets: { [setName]: { indicator: fact.output ? `${id}.${fact.output}` : id, ...Object.fromEntries(fact.zones.map((z) => [z.name, [...z.triangle]])) } },
    inputs: [{ fuzzy_set: setName, timeframes: 'all' }],
  };
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length) % items.length]!;
}

/** One mutation of a parent (and, for recombination, a second parent). Returns null when it does not apply. */
export function mutate(parent: Strategy, kind: MutationKind, random: () => number, other: Strategy | null): Strategy | null {
  const child = clone(parent);
  switch (kind) {
    case 'parameter': {
      const entries = Object.values((child.indicators ?? {}) as Record<string, Record<string, unknown>>);
      const candidates = entries.flatMap((indicator) =>
        Object.entries(indicator)
          .filter(([key, v]) => key !== 'type' && typeof v === 'number' && Number.isInteger(v))
          .map(([key]) => ({ indicator, key })),
      );
      if (candidates.length === 0) return null;
      const { indicator, key } = pick(candidates, random);
      const value = indicator[key] as number;
      const factor = 0.7 + random() * 0.6;
      const next = Math.max(2, Math.round(value * factor));
      indicator[key] = next === value ? value + 1 : next;
      return child;
    }
    case 'zones': {
      const sets = Object.values((child.fuzzy_sets ?? {}) as Record<string, Record<string, unknown>>);
      if (sets.length === 0) return null;
      const set = pick(sets, random);
      const memberships = Object.entries(set).filter(([key, v]) => key !== 'indicator' && Array.isArray(v) && v.length === 3);
      if (memberships.length === 0) return null;
      const [name, triangle] = pick(memberships, random) as [string, number[]];
      // Widen or narrow the zone around its peak by up to 20%.
      const scale = 0.8 + random() * 0.4;
      const peak = triangle[1]!;
      set[name] = [Math.round((peak - (peak - triangle[0]!) * scale) * 100) / 100, peak, Math.round((peak + (triangle[2]! - peak) * scale) * 100) / 100];
      return child;
    }
    case 'architecture': {
      const hidden = child.model?.architecture?.hidden_layers as number[] | undefined;
      if (!hidden) return null;
      const at = ARCHITECTURES.findIndex((a) => a.join('x') === hidden.join('x'));
      const index = at < 0 ? 2 : Math.min(ARCHITECTURES.length - 1, Math.max(0, at + (random() < 0.6 ? -1 : 1)));
      if (index === at) return null;
      child.model.architecture.hidden_layers = [...ARCHITECTURES[index]!];
      return child;
    }
    case 'label_threshold': {
      const labels = child.training?.labels as Record<string, unknown> | undefined;
      if (!labels || typeof labels.zigzag_threshold !== 'number') return null;
      const current = labels.zigzag_threshold;
      const others = LABEL_THRESHOLDS.filter((t) => Math.abs(t - current) > 1e-9);
      labels.zigzag_threshold = pick(others, random);
      return child;
    }
    case 'indicator_swap': {
      const units = unitsOf(child);
      if (units.length === 0) return null;
      const index = Math.floor(random() * units.length) % units.length;
      const present = new Set(units.map((u) => String(u.indicator.type)));
      const fresh = BOUNDED_INDICATORS.filter((f) => !present.has(f.type));
      if (fresh.length === 0) return null;
      units[index] = unitOfFact(pick(fresh, random), random);
      return withUnits(child, units);
    }
    case 'recombine': {
      if (!other) return null;
      const mine = unitsOf(child);
      const theirs = unitsOf(other).filter((u) => !mine.some((m) => m.indicator.type === u.indicator.type || m.id === u.id));
      if (mine.length === 0 || theirs.length === 0) return null;
      const keep = pick(mine, random);
      return withUnits(child, [keep, pick(theirs, random)]);
    }
  }
}

/**
 * The second control arm, with memory and no LLM. It takes the cycle's directive as its brief: an exploit directive
 * breeds children of the named experiment (one mutation each, ranked by the memory of which parts passed), an explore
 * directive builds a fresh design in the directed region (its indicator pair, labels, network and symbol), with
 * neighbouring regions as fallbacks when that design was already run. Each design records its parent and the
 * hypothesis `exploration`; training, backtest and assessment are the baseline's.
 */
export class EvolveDesigner extends BaselineDesigner {
  override readonly kind: DesignerKind = 'evolve';

  protected override async design(context: ToolContext, call: ToolCall): Promise<void> {
    const random = generator(hash(`evolve:${context.sessionId}`));
    const inForce = await directiveInForce(context.db, context.sessionId);
    const parent = inForce?.parent ?? null;
    let pool: { config: Strategy; parent: Experiment | null }[];
    if (parent) {
      const memory = await featureMemory(context);
      // The memory ranks the children: the one whose parts (indicators, labels, network size) passed most often so
      // far, with a bonus for parts seldom tried. Ties keep the generation order.
      pool = this.children([parent], random, context.sessionId)
        .map((candidate, index) => ({ candidate, index, value: memory.estimate(candidate.config) }))
        .sort((a, b) => b.value - a.value || a.index - b.index)
        .map(({ candidate }) => candidate);
    } else {
      pool = await this.explorations(context, call, random, inForce?.search.directive.region ?? null);
    }
    for (const candidate of pool.slice(0, 40)) {
      const features = strategyFeatures(candidate.config);
      if (!validateStrategy(candidate.config).valid) continue;
      const runs = await earlierRunsOfDesign(context.db, {
        fingerprint: strategyFingerprint(candidate.config),
        symbol: features.symbol,
        timeframe: features.timeframe,
      });
      if (runs.length > 0) continue;
      const window = trainingWindow(await availableRange(context, features.symbol ?? 'EURUSD', features.timeframe ?? '1h'));
      // The installation id keeps a recreated database's session N from reusing another run's strategy (and model) name.
      const name = `${String(candidate.config.name)}_${await installationId(context.db)}`;
      try {
        await call('save_strategy_config', {
          name,
          config: { ...candidate.config, name },
          tests_hypothesis: 'exploration',
          ...(candidate.parent ? { parent_experiment: candidate.parent.id } : {}),
          training_window: window,
        });
      } catch (error) {
        // Already run, a near-copy while exploring, or running now in another session (the design claim): next candidate.
        if (isRefusedAsKnown(error)) continue;
        throw error;
      }
      await startTraining(call, name, window);
      return;
    }
    throw new Error('evolve: no untried design found among the candidates');
  }

  /**
   * The directed region's design first, then the same pair with other labels and networks, then the least-tried
   * pairs (fewest tries first), each with a drawn network size and label threshold.
   */
  private async explorations(
    context: ToolContext,
    call: ToolCall,
    random: () => number,
    region: SearchRegion | null,
  ): Promise<{ config: Strategy; parent: Experiment | null }[]> {
    const counts = await indicatorKeyCounts(context.db);
    const symbols = (await call('get_available_symbols', {})) as { symbol: string; timeframes: string[] }[];
    const pool = symbols.filter((s) => s.timeframes.includes('1h'));
    const chosen = pool.find((s) => s.symbol === region?.symbol) ?? pick(pool.length > 0 ? pool : symbols, random);
    const symbol = chosen?.symbol ?? 'EURUSD';
    const timeframe = chosen?.timeframes.includes('1h') ? '1h' : (chosen?.timeframes[0] ?? '1h');
    const directedThreshold = region?.labels?.startsWith('zigzag ') ? Number(region.labels.slice('zigzag '.length)) : Number.NaN;
    const directedLayers = region?.network ? region.network.split('x').map(Number) : [];
    const directedPair = candidatePairs().find((pair) => pairKey(pair) === region?.indicators) ?? null;
    const pairs = candidatePairs()
      .filter((pair) => pair !== directedPair)
      .map((pair) => ({ pair, tries: counts.get(pairKey(pair))?.tried ?? 0, tiebreak: random() }))
      .sort((a, b) => a.tries - b.tries || a.tiebreak - b.tiebreak)
      .slice(0, 30)
      .map(({ pair }) => pair);
    const build = (pair: BoundedIndicatorFact[], index: number, threshold: number, layers: number[]) => {
      const name = `evolve_explore_${pair.map((f) => f.type).join('_')}_s${context.sessionId}_${index}`;
      const config = buildStrategy(name, pair, symbol, timeframe, hash(`${context.sessionId}:${index}`)) as Strategy;
      config.model.architecture.hidden_layers = [...layers];
      config.training.labels.zigzag_threshold = threshold;
      return { config: relabel(config, name, `[evolve] exploration of ${pair.map((f) => f.displayName).join(' + ')}`), parent: null };
    };
    const threshold = Number.isFinite(directedThreshold) && directedThreshold > 0 ? directedThreshold : pick(LABEL_THRESHOLDS, random);
    const layers =
      directedLayers.length > 0 && directedLayers.every((units) => Number.isInteger(units) && units > 0)
        ? directedLayers
        : [...pick(ARCHITECTURES.slice(0, 4), random)];
    const out: { config: Strategy; parent: Experiment | null }[] = [];
    if (directedPair) {
      out.push(build(directedPair, 0, threshold, layers));
      LABEL_THRESHOLDS.filter((t) => t !== threshold).forEach((t, index) => out.push(build(directedPair, 1 + index, t, layers)));
      ARCHITECTURES.slice(0, 4).forEach((a, index) => out.push(build(directedPair, 10 + index, threshold, a)));
    }
    pairs.forEach((pair, index) => out.push(build(pair, 20 + index, threshold, [...pick(ARCHITECTURES.slice(0, 4), random)])));
    return out;
  }

  /** Children of the best experiments: a rank-weighted parent, one mutation each, many tries. */
  private children(best: Experiment[], random: () => number, sessionId: number): { config: Strategy; parent: Experiment | null }[] {
    const out: { config: Strategy; parent: Experiment | null }[] = [];
    for (let attempt = 0; attempt < 80 && out.length < 40; attempt++) {
      // Rank weights 1/(rank+1): the best parent is chosen most, every parent sometimes.
      const weights = best.map((_, rank) => 1 / (rank + 1));
      let roll = random() * weights.reduce((a, b) => a + b, 0);
      let index = 0;
      while (index < best.length - 1 && roll > weights[index]!) roll -= weights[index++]!;
      const parent = best[index]!;
      const kind = pick(mutationKinds, random);
      const other = best.length > 1 ? best[(index + 1 + Math.floor(random() * (best.length - 1))) % best.length]!.strategy : null;
      const child = mutate(parent.strategy as Strategy, kind, random, other);
      if (!child) continue;
      const name = `evolve_${kind}_e${parent.id}_s${sessionId}_${attempt}`;
      out.push({ config: relabel(child, name, `[evolve] ${kind.replace('_', ' ')} of experiment #${parent.id}`), parent });
    }
    return out;
  }
}

/** The parts of a design the memory keeps score of. */
function designParts(config: Strategy): string[] {
  const f = strategyFeatures(config);
  return [...f.indicatorTypes.map((t) => `indicator:${t}`), `pair:${f.indicatorKey}`, `label:${f.labelThreshold ?? '?'}`, `network:${f.architecture ?? '?'}`];
}

/**
 * What the memory says about each part of a design: how often a design with it passed both gates, smoothed
 * ((passed + 1) / (tried + 2)), plus a small bonus for parts seldom tried. Read from the latest 2,000 experiments.
 */
async function featureMemory(context: ToolContext): Promise<{ estimate(config: Strategy): number }> {
  const rows = await recentGatedDesigns(context.db, 2000);
  const stats = new Map<string, { tried: number; passed: number }>();
  for (const row of rows) {
    if (!row.strategy) continue;
    const config = row.strategy as Strategy;
    for (const part of designParts(config)) {
      const entry = stats.get(part) ?? { tried: 0, passed: 0 };
      entry.tried += 1;
      if (row.score !== null) entry.passed += 1;
      stats.set(part, entry);
    }
  }
  return {
    estimate(config: Strategy): number {
      const parts = designParts(config);
      const values = parts.map((part) => {
        const entry = stats.get(part) ?? { tried: 0, passed: 0 };
        return (entry.passed + 1) / (entry.tried + 2) + EXPLORATION_BONUS / Math.sqrt(entry.tried + 1);
      });
      return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    },
  };
}

const EXPLORATION_BONUS = 0.1;

function relabel(config: Strategy, name: string, description: string): Strategy {
  return { ...config, name, description, hypothesis: `${description}: a small change to a design that passed both gates may improve it.` };
}
