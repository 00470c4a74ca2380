/**
 * A KTRDR simulator: speaks KTRDR's REST contract (CONTRACT §1–§3, same paths and shapes, errors included) so the
 * agent can be tried without KTRDR or a GPU farm. It says what it is in every response (an `x-ktrdr-simulator`
 * header, and `simulator` fields in health, start messages and results) and never claims to be KTRDR.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BUILTIN_INDICATORS, builtinIndicatorRegistry } from '../strategy/indicators.ts';
import { parseStrategyYaml, validateStrategy } from '../strategy/index.ts';
import { dataRange, dayCount, isoDate, SIM_SYMBOLS, symbolListing } from './market.ts';
import type { DataRangeFact } from './market.ts';
import { checkpointAt, isActive, PENDING_SIM_MS, viewAt } from './operations.ts';
import type { RunFate, SimOperation, SimOperationType, SimStatus } from './operations.ts';
import { analyzeDesign, simulateBacktest, simulateTraining, trainingDataOf } from './quality.ts';
import type { BacktestRequest } from './quality.ts';
import { clamp, contentHash, SeededRandom, seedOf } from '../kernel/random.ts';

export const SIMULATOR_LABEL = 'ktrdr-agent simulator (not KTRDR)';
const API_PREFIX = '/api/v1';
const STRATEGY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const STATUSES: readonly SimStatus[] = ['pending', 'resuming', 'running', 'completed', 'failed', 'cancelled'];
const OPERATION_TYPES = ['training', 'backtesting', 'data_load', 'agent_research', 'agent_design', 'agent_assessment', 'dummy'];

export interface SimFaults {
  /** Share of operations whose worker fails partway (with a checkpoint, so they can be resumed). */
  failureRate: number;
  /** Share of requests answered with a 500 before doing anything. */
  errorRate: number;
  /** Delay added to every API request, in real milliseconds. */
  latencyMs: number;
  /** Share of requests carried out whose connection is then destroyed, so the caller never hears the answer. */
  dropRate: number;
  /** Share of operations that vanish partway (404 from then on), like operations lost in a backend restart. */
  lostRate: number;
  /** Share of operations whose progress stops forever. */
  stallRate: number;
  /** No worker registered: starts answer 503 WorkerUnavailableError. */
  noWorkers: boolean;
  /**
   * A resumed run keeps answering `status: "resuming"` at its resume point with no result, for ever, like KTRDR at
   * 2c5c7173 after a resume whose training had in fact finished.
   */
  staleResuming: boolean;
  /**
   * Failures drawn by `failureRate` are those of KTRDR's orphan detector after a backend restart: "Operation was
   * RUNNING but no worker claimed it", with no checkpoint to resume from.
   */
  orphaned: boolean;
  /** Cancels fail with a 500 and the operation runs on, like a backend whose worker does not answer the cancel. */
  cancelFails: boolean;
  /**
   * Starts and resumes answered with this status (401, 403, 429) and nothing started. KTRDR itself enforces no auth
   * (CONTRACT §1), but a proxy in front of it can refuse credentials or rate-limit.
   */
  refuseStarts: number | null;
}

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
  now?: () => number;
}

export interface SimulatorState {
  operations: Map<string, SimOperation>;
  /** API requests received, in order, faults included (the last 10,000): for tests that count attempts. */
  requests: { method: string; path: string }[];
}

export interface Simulator {
  /** Base URL including `/api/v1`. */
  url: string;
  port: number;
  /** Mutable: a change applies to the next request. */
  faults: SimFaults;
  /** Mutable, like `faults`. */
  dataLimits: SimDataLimits;
  state: SimulatorState;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const noFaults: SimFaults = { failureRate: 0, errorRate: 0, latencyMs: 0, dropRate: 0, lostRate: 0, stallRate: 0, noWorkers: false, staleResuming: false, orphaned: false, cancelFails: false, refuseStarts: null };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(status: number, body: unknown): Reply {
  return { status, body };
}

function detail(status: number, message: unknown): Reply {
  return json(status, { detail: message });
}

/** What a proxy in front of KTRDR answers when it refuses a request (FastAPI's `detail` shape). */
function refused(status: number): Reply {
  return detail(status, status === 429 ? 'Too Many Requests' : status === 403 ? 'Forbidden' : 'Not authenticated');
}

function globalError(status: number, code: string, message: string, details: unknown): Reply {
  return json(status, { success: false, error: { code, message, details } });
}

function validationError(items: { field: string; message: string; type: string }[]): Reply {
  return globalError(422, 'VALIDATION_ERROR', 'Request validation failed', items);
}

function notFound(id: string): Reply {
  return detail(404, `Operation not found: ${id}`);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** KTRDR's id format: `op_<type>_<yyyymmdd_hhmmss>_<8 hex>`. */
function operationId(type: SimOperationType, now: number, random: SeededRandom): string {
  const text = iso(now);
  const stamp = `${text.slice(0, 4)}${text.slice(5, 7)}${text.slice(8, 10)}_${text.slice(11, 13)}${text.slice(14, 16)}${text.slice(17, 19)}`;
  return `op_${type}_${stamp}_${random.hex(8)}`;
}

/** Applies a partial fault update, keeping rates within 0..1. */
export function applyFaults(target: SimFaults, update: unknown): void {
  if (!isRecord(update)) return;
  for (const key of ['failureRate', 'errorRate', 'dropRate', 'lostRate', 'stallRate'] as const) {
    const value = update[key];
    if (typeof value === 'number' && Number.isFinite(value)) target[key] = clamp(value, 0, 1);
  }
  if (typeof update.latencyMs === 'number' && Number.isFinite(update.latencyMs)) target.latencyMs = Math.max(0, update.latencyMs);
  if (typeof update.noWorkers === 'boolean') target.noWorkers = update.noWorkers;
  if (typeof update.staleResuming === 'boolean') target.staleResuming = update.staleResuming;
  if (typeof update.orphaned === 'boolean') target.orphaned = update.orphaned;
  if (typeof update.cancelFails === 'boolean') target.cancelFails = update.cancelFails;
  if (update.refuseStarts === null || (typeof update.refuseStarts === 'number' && update.refuseStarts >= 400 && update.refuseStarts <= 499)) target.refuseStarts = update.refuseStarts;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function createSimulator(options: SimulatorOptions): Promise<Simulator> {
  const seed = options.seed ?? 1;
  const timeScale = options.timeScale ?? 60;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
  const now = options.now ?? Date.now;
  const startedAt = now();
  const faults: SimFaults = { ...noFaults };
  applyFaults(faults, options.faults ?? {});
  const dataLimits: SimDataLimits = { ...(options.dataLimits ?? {}) };

  /** The market's range for a symbol and timeframe, narrowed by `dataLimits`. */
  function rangeOf(symbol: string, timeframe: string, at: number): DataRangeFact | null {
    const range = dataRange(symbol, timeframe, at);
    if (!range) return null;
    const key = `${range.symbol} ${timeframe}`;
    const limit = key in dataLimits ? dataLimits[key] : range.symbol in dataLimits ? dataLimits[range.symbol] : undefined;
    if (limit === undefined) return range;
    if (limit === null) return null;
    const startDate = limit.startDate && limit.startDate > range.startDate ? limit.startDate : range.startDate;
    const endDate = limit.endDate && limit.endDate < range.endDate ? limit.endDate : range.endDate;
    if (startDate > endDate) return null;
    const perDay = range.pointCount / Math.max(1, dayCount(range.startDate, range.endDate));
    return { ...range, startDate, endDate, pointCount: Math.round(dayCount(startDate, endDate) * perDay) };
  }
  const state: SimulatorState = { operations: new Map(), requests: [] };
  const requestRandom = new SeededRandom(seedOf(seed, 'requests'));
  const idRandom = new SeededRandom(seedOf(seed, 'ids'));
  let operationSequence = 0;
  const modelVersions = new Map<string, number>();

  /** How a run ends: a design problem fails it at once; otherwise faults are drawn from their own seeded stream. */
  function drawFate(operation: SimOperation, fromStep: number, designFailure: string | null): RunFate {
    if (designFailure) return { kind: 'fail', atStep: fromStep, message: designFailure, checkpoint: false };
    const random = new SeededRandom(seedOf(seed, 'faults', operationSequence++));
    const draws = [random.next(), random.next(), random.next(), random.next()];
    const span = Math.max(1, operation.workSteps - fromStep);
    const stepWithin = (u: number, from: number) => Math.min(operation.workSteps - 1, from + Math.floor(u * span));
    if (draws[0]! < faults.failureRate && operation.workSteps - fromStep >= 2) {
      const atStep = Math.max(fromStep + 1, stepWithin(draws[3]!, fromStep));
      const where = operation.type === 'training' ? `epoch ${atStep}` : `${atStep}% of the bars`;
      if (faults.orphaned) return { kind: 'fail', atStep, message: `Operation was RUNNING but no worker claimed it (${SIMULATOR_LABEL})`, checkpoint: false };
      return {
        kind: 'fail',
        atStep,
        message: `Simulated worker failure at ${where}: the ${operation.type} worker stopped responding (${SIMULATOR_LABEL})`,
        checkpoint: true,
      };
    }
    if (draws[1]! < faults.stallRate) return { kind: 'stall', atStep: stepWithin(draws[3]!, fromStep) };
    if (draws[2]! < faults.lostRate) return { kind: 'lost', atStep: stepWithin(draws[3]!, fromStep) };
    return { kind: 'complete' };
  }

  const designFailures = new Map<string, string | null>();

  function startRun(operation: SimOperation, at: number, fromStep: number, resumed: boolean): void {
    operation.runs.push({
      startedAt: at,
      fromStep,
      fate: drawFate(operation, fromStep, designFailures.get(operation.id) ?? null),
      resumed,
      cancelled: null,
    });
  }

  function visible(id: string, at: number): SimOperation | null {
    const operation = state.operations.get(id);
    if (!operation) return null;
    return viewAt(operation, at, timeScale).lost ? null : operation;
  }

  async function loadStrategy(name: string): Promise<{ text: string } | null> {
    try {
      return { text: await readFile(join(options.strategiesDir, `${name}.yaml`), 'utf8') };
    } catch {
      return null;
    }
  }

  function workerUnavailable(workerType: 'training' | 'backtesting'): Reply {
    return detail(503, {
      error: `No ${workerType} workers available`,
      worker_type: workerType,
      registered_workers: 0,
      backend_uptime_seconds: Math.round((now() - startedAt) / 1000),
      hint: `Start a ${workerType} worker and let it register with the backend (in the simulator: POST /__sim/faults {"noWorkers": false})`,
    });
  }

  function configurationError(name: string, errors: string[], suggestion: string): Reply {
    return detail(400, {
      message: `Strategy validation failed for '${name}'`,
      error_code: 'STRATEGY-ValidationFailed',
      context: { strategy_name: name, simulator: SIMULATOR_LABEL },
      details: { errors },
      suggestion,
    });
  }

  /**
   * `asked` is what the request named: KTRDR (2c5c7173) echoes the request even when the task id is one it already
   * holds, so a repeated id is answered `training_started` while `GET /operations/{id}` shows the OLD operation.
   */
  function trainingResponse(operation: SimOperation, asked?: { strategyName: string; symbols?: string[]; timeframes?: string[] }): Reply {
    const strategyName = asked?.strategyName ?? operation.strategyName;
    return json(200, {
      success: true,
      task_id: operation.id,
      status: 'training_started',
      message: `Simulated training started for ${strategyName} (${SIMULATOR_LABEL})`,
      symbols: asked?.symbols ?? operation.symbols,
      timeframes: asked?.timeframes ?? operation.timeframes,
      strategy_name: strategyName,
      estimated_duration_minutes: Math.max(1, Math.round((operation.displaySteps * operation.simMsPerStep) / 60_000)),
    });
  }

  async function startTraining(body: unknown): Promise<Reply> {
    if (faults.refuseStarts !== null) return refused(faults.refuseStarts);
    if (!isRecord(body)) return validationError([{ field: 'body', message: 'Input should be a valid dictionary', type: 'dict_type' }]);
    const name = body.strategy_name;
    if (typeof name !== 'string') return validationError([{ field: 'body -> strategy_name', message: 'Field required', type: 'missing' }]);
    for (const field of ['symbols', 'timeframes'] as const) {
      const value = body[field];
      if (value !== undefined && value !== null && !(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
        return validationError([{ field: `body -> ${field}`, message: 'Input should be a valid list of strings', type: 'list_type' }]);
      }
    }
    const at = now();
    const taskId = typeof body.task_id === 'string' && body.task_id !== '' ? body.task_id : null;
    if (taskId) {
      const existing = visible(taskId, at);
      if (existing) {
        return trainingResponse(existing, {
          strategyName: name,
          ...(Array.isArray(body.symbols) ? { symbols: body.symbols as string[] } : {}),
          ...(Array.isArray(body.timeframes) ? { timeframes: body.timeframes as string[] } : {}),
        });
      }
    }
    if (!STRATEGY_NAME.test(name)) return detail(400, `Invalid strategy name '${name}': use letters, digits, '_' and '-'`);
    const file = await loadStrategy(name);
    if (!file) return detail(400, `Strategy file not found: ${name}.yaml (simulator strategies directory: ${options.strategiesDir})`);
    const parsed = parseStrategyYaml(file.text);
    if (!parsed.ok) return configurationError(name, [parsed.error], 'Fix the YAML syntax of the strategy file');
    const validation = validateStrategy(parsed.value, { expectedName: name, nameMismatch: 'warning' });
    const errors = validation.findings.filter((finding) => finding.severity === 'error');
    if (errors.length > 0) {
      return configurationError(
        name,
        errors.map((finding) => `${finding.path || '(root)'}: ${finding.message}`),
        'Fix the listed fields; POST /strategies/validate/{name} reports the same findings',
      );
    }
    if (faults.noWorkers) return workerUnavailable('training');

    const requestedSymbols = Array.isArray(body.symbols) ? (body.symbols as string[]) : undefined;
    const requestedTimeframes = Array.isArray(body.timeframes) ? (body.timeframes as string[]) : undefined;
    const design = analyzeDesign(parsed.value, requestedSymbols, requestedTimeframes);
    const outcome = simulateTraining(design, new SeededRandom(seedOf(seed, contentHash(file.text), 'training')));
    const configured = trainingDataOf(parsed.value);
    const startDate = typeof body.start_date === 'string' ? body.start_date : (configured.startDate ?? '2020-01-01');
    const endDate = typeof body.end_date === 'string' ? body.end_date : (configured.endDate ?? isoDate(at));
    const symbols = design.symbols.length > 0 ? design.symbols : ['EURUSD'];
    const timeframes = design.timeframes.length > 0 ? design.timeframes : ['1h'];

    let designFailure: string | null = null;
    if (design.unknownTypes.length > 0) {
      designFailure = `Unknown indicator type '${design.unknownTypes[0]}': the worker's indicator registry has no such class`;
    }
    for (const symbol of symbols) {
      for (const timeframe of timeframes) {
        const range = rangeOf(symbol, timeframe, at);
        // KTRDR's worker fails asynchronously, with its own wording ("No data found in cache for GBPUSD 1h").
        if (!designFailure && !range) designFailure = `No data found in cache for ${symbol} ${timeframe}`;
        else if (!designFailure && range && (endDate < range.startDate || startDate > range.endDate)) {
          designFailure = `No data found in cache for ${symbol} ${timeframe} between ${startDate} and ${endDate}; data covers ${range.startDate} to ${range.endDate}`;
        }
      }
    }

    const modelKey = `${name}/${timeframes.join('_')}`;
    const version = (modelVersions.get(modelKey) ?? 0) + 1;
    modelVersions.set(modelKey, version);
    const sizeFactor = clamp(design.hiddenUnits / 96, 0.5, 3);
    const id = taskId ?? operationId('training', at, idRandom);
    const operation: SimOperation = {
      id,
      type: 'training',
      createdAt: at,
      strategyName: name,
      symbol: symbols[0] ?? 'EURUSD',
      timeframe: timeframes[0] ?? '1h',
      symbols,
      timeframes,
      startDate,
      endDate,
      parameters: {
        strategy_name: name,
        symbols,
        timeframes,
        epochs: design.epochsConfigured,
        detailed_analytics: body.detailed_analytics === true,
        simulator: SIMULATOR_LABEL,
      },
      workSteps: designFailure ? design.epochsConfigured : outcome.epochsTrained,
      displaySteps: design.epochsConfigured,
      simMsPerStep: 36_000 * sizeFactor * symbols.length * timeframes.length,
      design,
      training: outcome,
      backtest: null,
      backtestRequest: null,
      modelPath: `models/${name}/${timeframes.join('_')}_v${version}`,
      runs: [],
      retryOf: null,
    };
    designFailures.set(id, designFailure);
    state.operations.set(id, operation);
    startRun(operation, at, 0, false);
    return trainingResponse(operation);
  }

  async function startBacktest(body: unknown): Promise<Reply> {
    if (faults.refuseStarts !== null) return refused(faults.refuseStarts);
    if (!isRecord(body)) return validationError([{ field: 'body', message: 'Input should be a valid dictionary', type: 'dict_type' }]);
    const missing = (['strategy_name', 'start_date', 'end_date'] as const).filter((field) => typeof body[field] !== 'string');
    if (missing.length > 0) {
      return validationError(missing.map((field) => ({ field: `body -> ${field}`, message: 'Field required', type: 'missing' })));
    }
    const initialCapital = body.initial_capital ?? 100_000;
    if (typeof initialCapital !== 'number' || !(initialCapital > 0)) {
      return validationError([{ field: 'body -> initial_capital', message: 'Input should be greater than 0', type: 'greater_than' }]);
    }
    const name = body.strategy_name as string;
    const startDate = (body.start_date as string).slice(0, 10);
    const endDate = (body.end_date as string).slice(0, 10);
    if (!STRATEGY_NAME.test(name)) return detail(400, `Invalid strategy name '${name}'`);
    const file = await loadStrategy(name);
    if (!file) return detail(400, `Strategy file not found: strategies/${name}.yaml (simulator strategies directory: ${options.strategiesDir})`);
    const parsed = parseStrategyYaml(file.text);
    if (!parsed.ok) return detail(400, `Invalid strategy configuration in ${name}.yaml: ${parsed.error}`);
    if (faults.noWorkers) return workerUnavailable('backtesting');

    const at = now();
    const configured = trainingDataOf(parsed.value);
    const symbol = typeof body.symbol === 'string' ? body.symbol : (configured.symbols[0] ?? 'EURUSD');
    const timeframe = typeof body.timeframe === 'string' ? body.timeframe : (configured.timeframes[0] ?? '1h');
    const modelPath = typeof body.model_path === 'string' && body.model_path !== '' ? body.model_path : null;
    const request: BacktestRequest = {
      symbol,
      timeframe,
      startDate,
      endDate,
      initialCapital,
      commission: typeof body.commission === 'number' ? body.commission : 0.001,
      slippage: typeof body.slippage === 'number' ? body.slippage : 0.0005,
    };

    let designFailure: string | null = null;
    const trained = modelPath
      ? [...state.operations.values()].find(
          (candidate) => candidate.type === 'training' && candidate.modelPath === modelPath && viewAt(candidate, at, timeScale).status === 'completed',
        )
      : undefined;
    if (!modelPath) designFailure = 'model_path is required';
    else if (!trained?.training || !trained.design) designFailure = `Model not found at ${modelPath}: train the strategy first and pass result_summary.model_path`;
    const available = rangeOf(symbol, timeframe, at);
    if (!designFailure && !available) designFailure = `No data found in cache for ${symbol} ${timeframe}`;
    // Like KTRDR, a window the data covers only in part is backtested silently over the part it has.
    const covered =
      available && request.startDate <= available.endDate && request.endDate >= available.startDate
        ? {
            ...request,
            startDate: request.startDate < available.startDate ? available.startDate : request.startDate,
            endDate: request.endDate > available.endDate ? available.endDate : request.endDate,
          }
        : request;
    const outcome =
      trained?.training && trained.design
        ? simulateBacktest(
            trained.training,
            trained.design,
            covered,
            new SeededRandom(seedOf(seed, contentHash(file.text), 'backtest', symbol, timeframe, startDate, endDate)),
          )
        : null;
    const bars = outcome?.bars ?? 0;
    const id = operationId('backtesting', at, idRandom);
    const operation: SimOperation = {
      id,
      type: 'backtesting',
      createdAt: at,
      strategyName: name,
      symbol,
      timeframe,
      symbols: [symbol],
      timeframes: [timeframe],
      startDate,
      endDate,
      parameters: {
        strategy_config_path: `strategies/${name}.yaml`,
        model_path: modelPath,
        initial_capital: initialCapital,
        commission: request.commission,
        slippage: request.slippage,
        simulator: SIMULATOR_LABEL,
      },
      workSteps: 100,
      displaySteps: 100,
      simMsPerStep: (120_000 + bars * 40) / 100,
      design: trained?.design ?? null,
      training: trained?.training ?? null,
      backtest: outcome,
      backtestRequest: request,
      modelPath,
      runs: [],
      retryOf: null,
    };
    designFailures.set(id, designFailure);
    state.operations.set(id, operation);
    startRun(operation, at, 0, false);
    return json(200, {
      success: true,
      operation_id: id,
      status: 'started',
      message: `Simulated backtest started for ${symbol} ${timeframe} (${SIMULATOR_LABEL})`,
      symbol,
      timeframe,
      mode: 'distributed',
    });
  }

  function trainingSummary(operation: SimOperation): Record<string, unknown> | null {
    const training = operation.training;
    const design = operation.design;
    if (!training || !design) return null;
    const regression = design.outputFormat === 'regression';
    // After a resume KTRDR reports only the epochs trained after the resume point.
    const lastRun = operation.runs[operation.runs.length - 1];
    const from = lastRun?.resumed ? Math.min(lastRun.fromStep, training.epochsTrained - 1) : 0;
    const slice = (values: number[]) => values.slice(from);
    return {
      model_path: operation.modelPath,
      training_metrics: {
        epochs_trained: training.epochsTrained - from,
        final_train_loss: training.finalTrainLoss,
        final_train_accuracy: training.finalTrainAccuracy,
        best_train_accuracy: Math.max(...training.history.trainAccuracy),
        final_val_loss: training.finalValLoss,
        final_val_accuracy: training.finalValAccuracy,
        best_val_accuracy: Math.max(...training.history.valAccuracy),
        training_time: Math.round((training.epochsTrained * operation.simMsPerStep) / 100) / 10,
        history: {
          train_loss: slice(training.history.trainLoss),
          train_accuracy: slice(training.history.trainAccuracy),
          val_loss: slice(training.history.valLoss),
          val_accuracy: slice(training.history.valAccuracy),
        },
      },
      test_metrics: regression
        ? { test_accuracy: training.testAccuracy, test_loss: training.testLoss, mae: training.mae }
        : {
            test_accuracy: training.testAccuracy,
            test_loss: training.testLoss,
            precision: training.precision,
            recall: training.recall,
            f1_score: training.f1,
          },
      model_info: { model_type: design.modelType, hidden_units: design.hiddenUnits, output_format: design.outputFormat, classes: regression ? null : design.classes },
      data_summary: {
        symbols: operation.symbols,
        timeframes: operation.timeframes,
        start_date: operation.startDate,
        end_date: operation.endDate,
      },
      artifacts: {},
      session_info: {
        strategy_name: operation.strategyName,
        symbols: operation.symbols,
        timeframes: operation.timeframes,
        start_date: operation.startDate,
        end_date: operation.endDate,
        simulator: SIMULATOR_LABEL,
        design_notes: design.notes,
      },
    };
  }

  function backtestSummary(operation: SimOperation, endedAt: number): Record<string, unknown> | null {
    const outcome = operation.backtest;
    const request = operation.backtestRequest;
    if (!outcome || !request) return null;
    const holding = outcome.totalTrades > 0 ? Math.round(outcome.bars / Math.max(1, outcome.totalTrades) / 3) : 0;
    return {
      strategy_name: operation.strategyName,
      symbol: request.symbol,
      timeframe: request.timeframe,
      start_time: `${request.startDate}T00:00:00`,
      end_time: `${request.endDate}T00:00:00`,
      execution_time_seconds: Math.round((100 * operation.simMsPerStep) / 1000),
      config: {
        initial_capital: request.initialCapital,
        commission: request.commission,
        slippage: request.slippage,
        start_date: request.startDate,
        end_date: request.endDate,
      },
      metrics: {
        total_return: outcome.totalReturn,
        total_return_pct: outcome.totalReturnPct,
        annualized_return: outcome.annualizedReturn,
        volatility: outcome.volatility,
        sharpe_ratio: outcome.sharpe,
        max_drawdown: outcome.maxDrawdown,
        max_drawdown_pct: outcome.maxDrawdownPct,
        total_trades: outcome.totalTrades,
        winning_trades: outcome.winningTrades,
        losing_trades: outcome.losingTrades,
        win_rate: outcome.winRate,
        profit_factor: outcome.profitFactor,
        avg_win: outcome.avgWin,
        avg_loss: outcome.avgLoss,
        largest_win: outcome.largestWin,
        largest_loss: outcome.largestLoss,
        avg_holding_period: holding,
        max_holding_period: holding * 3,
        min_holding_period: Math.min(1, holding),
        calmar_ratio: outcome.calmar,
        sortino_ratio: outcome.sortino,
        recovery_factor: outcome.maxDrawdown > 0 ? Number((outcome.totalReturn / outcome.maxDrawdown).toFixed(4)) : 0,
      },
      trade_count: outcome.totalTrades,
      equity_curve_length: outcome.bars,
      completed_at: iso(endedAt),
      simulator: SIMULATOR_LABEL,
    };
  }

  function operationInfo(operation: SimOperation, at: number): Record<string, unknown> {
    const view = viewAt(operation, at, timeScale);
    const training = operation.type === 'training';
    const step = view.step;
    let currentStep: string;
    if (view.status === 'pending') currentStep = `Waiting for a ${operation.type} worker`;
    else if (view.status === 'resuming') currentStep = training ? `Resuming from epoch ${step}` : `Resuming at ${step}%`;
    else if (training) currentStep = `Epoch ${step}/${operation.displaySteps}`;
    else {
      const bars = operation.backtest?.bars ?? 0;
      currentStep = `Backtesting ${operation.symbol} ${operation.timeframe}: bar ${Math.round((bars * step) / 100)}/${bars}`;
    }
    const percentage = view.status === 'completed' ? 100 : Math.round((step / operation.displaySteps) * 1000) / 10;
    return {
      operation_id: operation.id,
      parent_operation_id: null,
      operation_type: operation.type,
      status: view.status,
      created_at: iso(operation.createdAt),
      started_at: view.status === 'pending' ? null : iso(view.startedAt),
      completed_at: view.endedAt === null ? null : iso(view.endedAt),
      progress: {
        percentage,
        current_step: currentStep,
        steps_completed: step,
        steps_total: operation.displaySteps,
        items_processed: training ? step * 50 : Math.round(((operation.backtest?.bars ?? 0) * step) / 100),
        items_total: training ? null : (operation.backtest?.bars ?? null),
        current_item: null,
        context: {},
      },
      metadata: {
        symbol: operation.symbol,
        timeframe: operation.timeframe,
        mode: training ? 'training' : 'distributed',
        start_date: `${operation.startDate}T00:00:00`,
        end_date: `${operation.endDate}T00:00:00`,
        parameters: operation.parameters,
      },
      error_message: view.errorMessage,
      warnings: [],
      errors: view.errorMessage ? [view.errorMessage] : [],
      result_summary:
        view.status === 'completed' ? (training ? trainingSummary(operation) : backtestSummary(operation, view.endedAt ?? at)) : null,
      metrics: null,
      is_backend_local: false,
    };
  }

  function summaryOf(operation: SimOperation, at: number): Record<string, unknown> {
    const info = operationInfo(operation, at);
    const view = viewAt(operation, at, timeScale);
    const end = view.endedAt ?? at;
    const progress = info.progress as Record<string, unknown>;
    return {
      operation_id: operation.id,
      operation_type: operation.type,
      status: view.status,
      created_at: info.created_at,
      progress_percentage: progress.percentage,
      current_step: progress.current_step,
      symbol: operation.symbol,
      duration_seconds: view.status === 'pending' ? null : Math.round(((end - view.startedAt) * timeScale) / 100) / 10,
    };
  }

  function listOperations(query: URLSearchParams): Reply {
    const status = query.get('status');
    if (status !== null && !STATUSES.includes(status as SimStatus)) {
      return validationError([{ field: 'query -> status', message: `Input should be ${STATUSES.map((s) => `'${s}'`).join(', ')}`, type: 'enum' }]);
    }
    const type = query.get('operation_type');
    if (type !== null && !OPERATION_TYPES.includes(type)) {
      return validationError([{ field: 'query -> operation_type', message: `Input should be ${OPERATION_TYPES.map((t) => `'${t}'`).join(', ')}`, type: 'enum' }]);
    }
    const limit = query.has('limit') ? Number(query.get('limit')) : 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return validationError([{ field: 'query -> limit', message: 'Input should be an integer from 1 to 1000', type: 'less_than_equal' }]);
    }
    const offset = query.has('offset') ? Number(query.get('offset')) : 0;
    if (!Number.isInteger(offset) || offset < 0) {
      return validationError([{ field: 'query -> offset', message: 'Input should be greater than or equal to 0', type: 'greater_than_equal' }]);
    }
    const activeOnly = query.get('active_only') === 'true';
    const at = now();
    const all = [...state.operations.values()]
      .map((operation, index) => ({ operation, index, view: viewAt(operation, at, timeScale) }))
      .filter((entry) => !entry.view.lost)
      .sort((a, b) => b.operation.createdAt - a.operation.createdAt || b.index - a.index);
    const matching = all.filter(
      (entry) =>
        (status === null || entry.view.status === status) &&
        (type === null || entry.operation.type === type) &&
        (!activeOnly || isActive(entry.view.status)),
    );
    return json(200, {
      success: true,
      data: matching.slice(offset, offset + limit).map((entry) => summaryOf(entry.operation, at)),
      total_count: matching.length,
      active_count: all.filter((entry) => isActive(entry.view.status)).length,
    });
  }

  function cancelOperation(id: string, body: unknown): Reply {
    const at = now();
    const operation = visible(id, at);
    if (!operation) return notFound(id);
    const view = viewAt(operation, at, timeScale);
    if (!isActive(view.status)) return detail(400, `Operation ${id} cannot be cancelled (status: ${view.status})`);
    const reason = isRecord(body) && typeof body.reason === 'string' ? body.reason : null;
    const run = operation.runs[operation.runs.length - 1];
    if (run) run.cancelled = { at, step: view.step, reason };
    return json(200, {
      success: true,
      data: {
        success: true,
        operation_id: id,
        status: 'cancelled',
        cancelled_at: iso(at),
        cancellation_reason: reason,
        task_cancelled: true,
        children_cancelled: 0,
      },
    });
  }

  function operationResults(id: string): Reply {
    const at = now();
    const operation = visible(id, at);
    if (!operation) return notFound(id);
    const info = operationInfo(operation, at);
    if (info.status !== 'completed' && info.status !== 'failed') return detail(400, `Operation not finished (status: ${String(info.status)})`);
    return json(200, {
      success: true,
      operation_id: id,
      operation_type: operation.type,
      status: info.status,
      results: info.result_summary ?? {},
    });
  }

  function operationMetrics(id: string): Reply {
    const at = now();
    const operation = visible(id, at);
    if (!operation) return notFound(id);
    const view = viewAt(operation, at, timeScale);
    const training = operation.training;
    let metrics: Record<string, unknown> = {};
    if (operation.type === 'training' && training && view.step > 0 && !(view.status === 'failed' && view.step === 0)) {
      const count = Math.min(view.step, training.history.trainLoss.length);
      const epochs = Array.from({ length: count }, (_, index) => ({
        epoch: index + 1,
        train_loss: training.history.trainLoss[index],
        val_loss: training.history.valLoss[index],
        train_accuracy: training.history.trainAccuracy[index],
        val_accuracy: training.history.valAccuracy[index],
      }));
      let best = 0;
      epochs.forEach((epoch, index) => {
        if ((epoch.val_loss ?? Infinity) < (epochs[best]?.val_loss ?? Infinity)) best = index;
      });
      metrics = {
        epochs,
        best_epoch: count > 0 ? best + 1 : null,
        is_overfitting: training.overfit > 0.5 && count > training.history.trainLoss.length / 2,
        is_plateaued: training.quality < 0.15 && count >= 10,
        total_epochs_completed: count,
      };
    }
    // KTRDR (2c5c7173) appends each (new metrics, cursor) pair it reads from the worker, so a training's `/metrics`
    // comes back as a nested list: [[[{epoch…}…], cursor], cursor].
    const epochs = Array.isArray(metrics.epochs) ? metrics.epochs : null;
    const body = epochs && epochs.length > 0 ? [[epochs, epochs.length], epochs.length] : metrics;
    return json(200, { success: true, data: { operation_id: id, operation_type: operation.type, metrics: body } });
  }

  function resumeOperation(id: string): Reply {
    if (faults.refuseStarts !== null) return refused(faults.refuseStarts);
    const at = now();
    const operation = visible(id, at);
    if (!operation) return notFound(id);
    const view = viewAt(operation, at, timeScale);
    if (view.status !== 'failed' && view.status !== 'cancelled') {
      return detail(409, `Operation ${id} cannot be resumed (status: ${view.status})`);
    }
    const checkpoint = checkpointAt(operation, at, timeScale);
    if (!checkpoint) {
      // KTRDR marks an operation it cannot resume as FAILED.
      const run = operation.runs[operation.runs.length - 1];
      if (run?.cancelled && view.status === 'cancelled') {
        const step = run.cancelled.step;
        run.cancelled = null;
        run.fate = { kind: 'fail', atStep: step, message: `Cancelled with no checkpoint to resume from (${SIMULATOR_LABEL})`, checkpoint: false };
        // Re-anchor the run so that its failure lands now, at the step where it was cancelled.
        run.startedAt = at - (PENDING_SIM_MS + (step - run.fromStep) * operation.simMsPerStep) / timeScale;
      }
      return detail(404, `No checkpoint found for operation ${id}`);
    }
    startRun(operation, at, checkpoint.step, true);
    if (faults.staleResuming) operation.runs[operation.runs.length - 1]!.staleResume = true;
    return json(200, {
      success: true,
      data: {
        operation_id: id,
        status: 'resuming',
        resumed_from: {
          checkpoint_type: checkpoint.type,
          created_at: iso(checkpoint.createdAt),
          epoch: operation.type === 'training' ? checkpoint.step : null,
        },
      },
    });
  }

  function retryOperation(id: string): Reply {
    const at = now();
    const original = visible(id, at);
    if (!original) return notFound(id);
    const status = viewAt(original, at, timeScale).status;
    if (status !== 'failed') return detail(400, `Operation ${id} cannot be retried (status: ${status})`);
    const newId = operationId(original.type, at, idRandom);
    const copy: SimOperation = { ...original, id: newId, createdAt: at, runs: [], retryOf: id };
    designFailures.set(newId, designFailures.get(id) ?? null);
    state.operations.set(newId, copy);
    startRun(copy, at, 0, false);
    return json(200, { success: true, data: operationInfo(copy, at) });
  }

  function checkpointState(operation: SimOperation, step: number): Record<string, unknown> {
    const history = operation.training?.history;
    const index = Math.max(0, step - 1);
    return {
      operation_type: operation.type,
      epoch: operation.type === 'training' ? step : null,
      progress_percentage: operation.type === 'backtesting' ? step : null,
      train_loss: history?.trainLoss[index] ?? null,
      val_loss: history?.valLoss[index] ?? null,
    };
  }

  function listCheckpoints(query: URLSearchParams): Reply {
    const at = now();
    const olderThanDays = query.has('older_than_days') ? Number(query.get('older_than_days')) : null;
    const entries = [...state.operations.values()]
      .map((operation) => ({ operation, checkpoint: checkpointAt(operation, at, timeScale) }))
      .filter((entry) => entry.checkpoint !== null)
      .filter((entry) => olderThanDays === null || entry.checkpoint!.createdAt <= at - olderThanDays * 86_400_000)
      .sort((a, b) => b.checkpoint!.createdAt - a.checkpoint!.createdAt);
    return json(200, {
      success: true,
      data: entries.map(({ operation, checkpoint }) => ({
        operation_id: operation.id,
        checkpoint_type: checkpoint!.type,
        created_at: iso(checkpoint!.createdAt),
        state_summary: checkpointState(operation, checkpoint!.step),
        artifacts_size_bytes: operation.type === 'training' ? 2_400_000 : 48_000,
      })),
      total_count: entries.length,
    });
  }

  function getCheckpoint(id: string): Reply {
    const at = now();
    const operation = state.operations.get(id);
    const checkpoint = operation ? checkpointAt(operation, at, timeScale) : null;
    if (!operation || !checkpoint) return detail(404, `Checkpoint not found: ${id}`);
    const history = operation.training?.history;
    return json(200, {
      success: true,
      data: {
        operation_id: id,
        checkpoint_type: checkpoint.type,
        created_at: iso(checkpoint.createdAt),
        state: {
          ...checkpointState(operation, checkpoint.step),
          training_history:
            operation.type === 'training' && history
              ? { train_loss: history.trainLoss.slice(0, checkpoint.step), val_loss: history.valLoss.slice(0, checkpoint.step) }
              : null,
        },
        artifacts_path: `data/checkpoints/${id}`,
      },
    });
  }

  function listIndicators(): Reply {
    // Like KTRDR, every entry reports the same hard-coded period/source pair, whatever the real parameters.
    return json(200, {
      success: true,
      data: BUILTIN_INDICATORS.map((spec) => ({
        id: spec.className,
        name: spec.displayName,
        description: `${spec.displayName} (${SIMULATOR_LABEL})`,
        type: spec.category,
        parameters: [
          { name: 'period', type: 'int', description: 'Period for calculation', default: 14, min_value: 1, max_value: 200, options: null },
          { name: 'source', type: 'str', description: 'Source price', default: 'close', min_value: null, max_value: null, options: ['open', 'high', 'low', 'close'] },
        ],
      })),
    });
  }

  function dataRangeReply(body: unknown): Reply {
    if (!isRecord(body) || typeof body.symbol !== 'string' || typeof body.timeframe !== 'string') {
      return validationError([{ field: 'body -> symbol', message: 'Field required: symbol and timeframe', type: 'missing' }]);
    }
    const range = rangeOf(body.symbol, body.timeframe, now());
    if (!range) {
      return globalError(404, 'DATA-NotFound', `No data available for ${body.symbol} (${body.timeframe})`, {
        symbol: body.symbol,
        timeframe: body.timeframe,
      });
    }
    return json(200, {
      success: true,
      data: {
        symbol: range.symbol,
        timeframe: range.timeframe,
        start_date: `${range.startDate}T00:00:00`,
        end_date: `${range.endDate}T00:00:00`,
        point_count: range.pointCount,
      },
    });
  }

  function listWorkers(query: URLSearchParams): Reply {
    if (faults.noWorkers) return json(200, []);
    const at = now();
    const busyWith = (type: SimOperationType) =>
      [...state.operations.values()].find((operation) => {
        const view = viewAt(operation, at, timeScale);
        return operation.type === type && !view.lost && isActive(view.status);
      })?.id ?? null;
    const workers = [
      { worker_id: 'sim-training-worker-1', worker_type: 'training', endpoint_url: 'http://sim-training-worker:5002', capabilities: { gpu: true, gpu_type: 'simulated', cores: 8, memory_gb: 32 } },
      { worker_id: 'sim-backtest-worker-1', worker_type: 'backtesting', endpoint_url: 'http://sim-backtest-worker:5003', capabilities: { cores: 4, memory_gb: 8 } },
    ].map((worker) => {
      const current = busyWith(worker.worker_type as SimOperationType);
      return {
        ...worker,
        status: current ? 'busy' : 'available',
        current_operation_id: current,
        last_health_check: iso(at),
        last_healthy_at: iso(at),
        health_check_failures: 0,
        metadata: { simulator: SIMULATOR_LABEL },
      };
    });
    const type = query.get('worker_type');
    const status = query.get('status');
    return json(
      200,
      workers.filter((worker) => (type === null || worker.worker_type === type) && (status === null || worker.status === status)),
    );
  }

  async function validateStrategyReply(name: string): Promise<Reply> {
    const file = STRATEGY_NAME.test(name) ? await loadStrategy(name) : null;
    if (!file) return detail(404, `Strategy file not found: ${name}.yaml`);
    const parsed = parseStrategyYaml(file.text);
    const findings = parsed.ok
      ? validateStrategy(parsed.value, { expectedName: name, nameMismatch: 'warning' }).findings
      : [{ severity: 'error' as const, path: '', message: parsed.error }];
    const errors = findings.filter((finding) => finding.severity === 'error').length;
    return json(200, {
      success: true,
      valid: errors === 0,
      strategy_name: name,
      issues: findings.map((finding) => ({
        severity: finding.severity,
        category: parsed.ok ? (finding.path.split(/[.[]/)[0] || 'structure') : 'syntax',
        message: finding.message,
        details: { path: finding.path },
      })),
      available_indicators: builtinIndicatorRegistry.typeNames(),
      message: errors === 0 ? `Strategy '${name}' is valid (${SIMULATOR_LABEL})` : `Strategy '${name}' has ${errors} error(s)`,
    });
  }

  async function route(method: string, path: string, query: URLSearchParams, body: unknown): Promise<Reply> {
    const operationMatch = /^\/operations\/([^/]+)(?:\/(results|metrics|resume|retry|children))?$/.exec(path);
    if (operationMatch) {
      const id = decodeURIComponent(operationMatch[1]!);
      const action = operationMatch[2];
      if (action === undefined && method === 'GET') {
        const at = now();
        const operation = visible(id, at);
        return operation ? json(200, { success: true, data: operationInfo(operation, at) }) : notFound(id);
      }
      if (action === undefined && method === 'DELETE') {
        if (faults.cancelFails) return globalError(500, 'INTERNAL_SERVER_ERROR', 'Failed to cancel operation', { type: 'SimulatedCancelFailure', simulator: SIMULATOR_LABEL });
        return cancelOperation(id, body);
      }
      if (action === 'results' && method === 'GET') return operationResults(id);
      if (action === 'metrics' && method === 'GET') return operationMetrics(id);
      if (action === 'resume' && method === 'POST') return resumeOperation(id);
      if (action === 'retry' && method === 'POST') return retryOperation(id);
      if (action === 'children' && method === 'GET') {
        return visible(id, now()) ? json(200, { success: true, data: [], total_count: 0, active_count: 0 }) : notFound(id);
      }
      return detail(405, 'Method Not Allowed');
    }
    const checkpointMatch = /^\/checkpoints\/([^/]+)$/.exec(path);
    if (checkpointMatch && method === 'GET') return getCheckpoint(decodeURIComponent(checkpointMatch[1]!));
    const validateMatch = /^\/strategies\/validate\/([^/]+)$/.exec(path);
    if (validateMatch && method === 'POST') return validateStrategyReply(decodeURIComponent(validateMatch[1]!));
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /health':
        return json(200, { status: 'ok', version: 'simulator', simulator: SIMULATOR_LABEL, orphan_detector: null });
      case 'POST /trainings/start':
        return startTraining(body);
      case 'POST /backtests/start':
        return startBacktest(body);
      case 'GET /operations':
        return listOperations(query);
      case 'GET /checkpoints':
        return listCheckpoints(query);
      case 'GET /indicators/':
        return listIndicators();
      case 'GET /indicators':
        return { status: 307, body: null, headers: { location: `${API_PREFIX}/indicators/` } };
      case 'GET /symbols':
        return json(200, { success: true, data: SIM_SYMBOLS.map(symbolListing) });
      case 'POST /data/range':
        return dataRangeReply(body);
      case 'GET /workers':
        return listWorkers(query);
      default:
        return detail(404, 'Not Found');
    }
  }

  function send(response: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { 'x-ktrdr-simulator': SIMULATOR_LABEL, ...(reply.headers ?? {}) };
    if (reply.body === null) {
      response.writeHead(reply.status, headers).end();
      return;
    }
    const text = JSON.stringify(reply.body);
    response.writeHead(reply.status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const method = request.method ?? 'GET';
    const text = await readBody(request);
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        send(response, validationError([{ field: 'body', message: 'JSON decode error', type: 'json_invalid' }]));
        return;
      }
    }
    if (url.pathname === '/__sim/faults') {
      if (method === 'POST') applyFaults(faults, body);
      send(response, json(200, { simulator: SIMULATOR_LABEL, faults }));
      return;
    }
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
      send(response, detail(404, 'Not Found'));
      return;
    }
    const path = url.pathname.slice(API_PREFIX.length);
    state.requests.push({ method, path });
    // Kept for tests; bounded so that a long `sim serve` does not grow without end.
    if (state.requests.length > 10_000) state.requests.splice(0, state.requests.length - 10_000);
    if (faults.latencyMs > 0) await delay(faults.latencyMs);
    // Both draws happen on every request so that one fault setting does not shift the other's sequence.
    const failRequest = requestRandom.chance(faults.errorRate);
    const dropAnswer = requestRandom.chance(faults.dropRate);
    if (failRequest) {
      send(response, globalError(500, 'INTERNAL_SERVER_ERROR', 'An unexpected error occurred', { type: 'SimulatedServerError', simulator: SIMULATOR_LABEL }));
      return;
    }
    const reply = await route(method, path, url.searchParams, body);
    if (dropAnswer) {
      request.socket.destroy();
      return;
    }
    send(response, reply);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return;
      const message = error instanceof Error ? error.message : String(error);
      send(response, globalError(500, 'INTERNAL_SERVER_ERROR', `Simulator error: ${message}`, { simulator: SIMULATOR_LABEL }));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}${API_PREFIX}`,
    port,
    faults,
    dataLimits,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export interface ServeSimulatorOptions extends SimulatorOptions {
  log: (line: string) => void;
}

/** Starts the simulator and says what it is and where: for `ktrdr-agent sim serve`. */
export async function serveSimulator(options: ServeSimulatorOptions): Promise<Simulator> {
  const simulator = await createSimulator(options);
  const faults = Object.entries(simulator.faults)
    .filter(([, value]) => value !== 0 && value !== false)
    .map(([key, value]) => `${key}=${String(value)}`);
  options.log(`${SIMULATOR_LABEL} listening at ${simulator.url}`);
  options.log(
    `strategies from ${options.strategiesDir}; seed ${options.seed ?? 1}; time x${options.timeScale ?? 60}; faults: ${faults.length > 0 ? faults.join(', ') : 'none'}`,
  );
  options.log(`point the agent at it with KTRDR_API_URL=${simulator.url}; change faults with POST ${simulator.url.replace(API_PREFIX, '')}/__sim/faults`);
  return simulator;
}
