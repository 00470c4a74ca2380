/**
 * What one simulator holds between requests: its operations, clock, seeded streams and the settings a request may
 * change (faults, data limits). Routes read and change it through the `SimContext` they are given.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyFaults, NO_FAULTS } from './faults.ts';
import type { SimFaults } from './faults.ts';
import { dataRange, dayCount } from './market.ts';
import type { DataRangeFact } from './market.ts';
import { viewAt } from './operations.ts';
import type { SimOperation, SimOperationType } from './operations.ts';
import { SeededRandom, seedOf } from '../kernel/random.ts';
import { iso } from './reply.ts';
import { resolveWorld } from './planted-world.ts';
import type { PlantedWorld, ResolvedWorld } from './planted-world.ts';

/** Data the simulated market holds, narrower than its default history: `null` for none at all. */
export type SimDataLimits = Record<string, { startDate?: string; endDate?: string } | null>;

export interface SimulatorOptions {
  port?: number;
  host?: string;
  seed?: number;
  /** Simulated seconds per real second: 60 runs a 30-minute training in 30 s. */
  timeScale?: number;
  /** Where `<strategy_name>.yaml` files are read from, like KTRDR's strategies directory. */
  strategiesDir: string;
  faults?: Partial<SimFaults>;
  /** Keyed by symbol (`GBPUSD`) or symbol and timeframe (`EURUSD 1h`); mutable through `Simulator.dataLimits`. */
  dataLimits?: SimDataLimits;
  /**
   * Registered workers per kind. Set, each worker takes one operation at a time and a start finding all of its kind
   * busy is refused with KTRDR's 503; unset, one worker of each kind is listed and starts are never refused for want
   * of one (the simulator's behaviour before worker pools). Mutable through `Simulator.workers`.
   */
  workers?: SimWorkerPool;
  /**
   * Simulated seconds each run of a kind takes, drawn per operation between the two bounds (seeded by its id), in
   * place of the figure derived from the design and the data: for the throughput bench's real-looking durations.
   */
  durations?: SimDurations;
  now?: () => number;
  /** A planted world (`planted-world.ts`) in place of the quality model: a known truth to measure a search against. */
  world?: PlantedWorld;
}

export interface SimDurations {
  trainingSeconds: [number, number];
  backtestSeconds: [number, number];
}

export interface SimWorkerPool {
  training: number;
  backtesting: number;
}

export interface SimulatorState {
  operations: Map<string, SimOperation>;
  /** API requests received, in order, faults included (the last 10,000): for tests that count attempts. */
  requests: { method: string; path: string }[];
}

export interface SimContext {
  seed: number;
  timeScale: number;
  now: () => number;
  startedAt: number;
  strategiesDir: string;
  /** Mutable: a change applies to the next request. */
  faults: SimFaults;
  /** Mutable, like `faults`. */
  dataLimits: SimDataLimits;
  /** Mutable, like `faults`; null for one listed worker of each kind that never refuses a start. */
  workers: SimWorkerPool | null;
  durations: SimDurations | null;
  /** Operations whose duration was drawn so far: each draw has its own stream, numbered by this. */
  durationSequence: number;
  state: SimulatorState;
  /** Draws the per-request faults (500s, dropped answers). */
  requestRandom: SeededRandom;
  /** Draws the hex tail of operation ids. */
  idRandom: SeededRandom;
  /** Runs started so far: each run's fate is drawn from its own stream, numbered by this. */
  fateSequence: number;
  /** Version last given to a model path, keyed by strategy and timeframes. */
  modelVersions: Map<string, number>;
  /** Why an operation's runs fail at once (a design or data problem), or `null` when nothing does. */
  designFailures: Map<string, string | null>;
  /** The planted world with its class fixed by the seed, or `null` for the quality model. */
  world: ResolvedWorld | null;
  /** While set, API requests wait for it after being recorded (`Simulator.hold`): a slow KTRDR with no real wait. */
  held: Promise<void> | null;
}

export function createSimContext(options: SimulatorOptions): SimContext {
  const seed = options.seed ?? 1;
  const timeScale = options.timeScale ?? 60;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
  const realNow = options.now ?? Date.now;
  const faults: SimFaults = { ...NO_FAULTS };
  applyFaults(faults, options.faults ?? {});
  const now = (): number => realNow() + faults.clockOffsetMs;
  const startedAt = now();
  return {
    seed,
    timeScale,
    now,
    startedAt,
    strategiesDir: options.strategiesDir,
    faults,
    dataLimits: { ...(options.dataLimits ?? {}) },
    workers: options.workers ? { ...options.workers } : null,
    durations: options.durations ?? null,
    durationSequence: 0,
    state: { operations: new Map(), requests: [] },
    requestRandom: new SeededRandom(seedOf(seed, 'requests')),
    idRandom: new SeededRandom(seedOf(seed, 'ids')),
    fateSequence: 0,
    modelVersions: new Map(),
    designFailures: new Map(),
    world: options.world ? resolveWorld(options.world, seed) : null,
    held: null,
  };
}

/**
 * Simulated ms per step of an operation when `durations` sets how long its kind runs; null to derive it as before.
 * Drawn in the order operations start (not from their ids, which the agent draws at random), so a seed repeats a night.
 */
export function drawnMsPerStep(ctx: SimContext, type: SimOperationType, steps: number): number | null {
  const bounds = type === 'training' ? ctx.durations?.trainingSeconds : ctx.durations?.backtestSeconds;
  if (!bounds) return null;
  ctx.durationSequence += 1;
  const seconds = new SeededRandom(seedOf(ctx.seed, type, ctx.durationSequence, 'duration')).between(bounds[0], bounds[1]);
  return (seconds * 1000) / Math.max(1, steps);
}

/** The market's range for a symbol and timeframe, narrowed by `dataLimits`. */
export function rangeOf(ctx: SimContext, symbol: string, timeframe: string, at: number): DataRangeFact | null {
  const range = dataRange(symbol, timeframe, at);
  if (!range) return null;
  const key = `${range.symbol} ${timeframe}`;
  const limits = ctx.dataLimits;
  const limit = key in limits ? limits[key] : range.symbol in limits ? limits[range.symbol] : undefined;
  if (limit === undefined) return range;
  if (limit === null) return null;
  const startDate = limit.startDate && limit.startDate > range.startDate ? limit.startDate : range.startDate;
  const endDate = limit.endDate && limit.endDate < range.endDate ? limit.endDate : range.endDate;
  if (startDate > endDate) return null;
  const perDay = range.pointCount / Math.max(1, dayCount(range.startDate, range.endDate));
  return { ...range, startDate, endDate, pointCount: Math.round(dayCount(startDate, endDate) * perDay) };
}

/** An operation as KTRDR would show it: `null` when unknown or lost. */
export function visibleOperation(ctx: SimContext, id: string, at: number): SimOperation | null {
  const operation = ctx.state.operations.get(id);
  if (!operation) return null;
  return viewAt(operation, at, ctx.timeScale).lost ? null : operation;
}

/** KTRDR's id format: `op_<type>_<yyyymmdd_hhmmss>_<8 hex>`. */
export function newOperationId(ctx: SimContext, type: SimOperationType, at: number): string {
  const text = iso(at);
  const stamp = `${text.slice(0, 4)}${text.slice(5, 7)}${text.slice(8, 10)}_${text.slice(11, 13)}${text.slice(14, 16)}${text.slice(17, 19)}`;
  return `op_${type}_${stamp}_${ctx.idRandom.hex(8)}`;
}

export async function loadStrategy(ctx: SimContext, name: string): Promise<{ text: string } | null> {
  try {
    return { text: await readFile(join(ctx.strategiesDir, `${name}.yaml`), 'utf8') };
  } catch {
    return null;
  }
}
