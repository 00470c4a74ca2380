/** `POST /trainings/start`: validates the strategy like KTRDR, then queues a training whose course is drawn at once. */
import { parseStrategyYaml, validateStrategy } from '../../strategy/index.ts';
import { startRun } from '../fate.ts';
import { isoDate } from '../market.ts';
import type { SimOperation } from '../operations.ts';
import { analyzeDesign, simulateTraining, trainingDataOf } from '../quality.ts';
import { plantDesign } from '../planted-world.ts';
import { clamp, contentHash, SeededRandom, seedOf } from '../../kernel/random.ts';
import { detail, json, refused, SIMULATOR_LABEL, validationError } from '../reply.ts';
import { isRecord } from '../../kernel/records.ts';
import type { Reply } from '../reply.ts';
import { drawnMsPerStep, loadStrategy, newOperationId, rangeOf, visibleOperation } from '../state.ts';
import { STRATEGY_NAME_PATTERN } from '../../strategy/schema.ts';
import type { SimContext } from '../state.ts';
import { allWorkersBusy, workerUnavailable } from './workers.ts';

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

function configurationError(name: string, errors: string[], suggestion: string): Reply {
  return detail(400, {
    message: `Strategy validation failed for '${name}'`,
    error_code: 'STRATEGY-ValidationFailed',
    context: { strategy_name: name, simulator: SIMULATOR_LABEL },
    details: { errors },
    suggestion,
  });
}

export async function startTraining(ctx: SimContext, body: unknown): Promise<Reply> {
  if (ctx.faults.refuseStarts !== null) return refused(ctx.faults.refuseStarts);
  if (!isRecord(body)) return validationError([{ field: 'body', message: 'Input should be a valid dictionary', type: 'dict_type' }]);
  const name = body.strategy_name;
  if (typeof name !== 'string') return validationError([{ field: 'body -> strategy_name', message: 'Field required', type: 'missing' }]);
  for (const field of ['symbols', 'timeframes'] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      return validationError([{ field: `body -> ${field}`, message: 'Input should be a valid list of strings', type: 'list_type' }]);
    }
  }
  const at = ctx.now();
  const taskId = typeof body.task_id === 'string' && body.task_id !== '' ? body.task_id : null;
  if (taskId) {
    const existing = visibleOperation(ctx, taskId, at);
    if (existing) {
      return trainingResponse(existing, {
        strategyName: name,
        ...(Array.isArray(body.symbols) ? { symbols: body.symbols as string[] } : {}),
        ...(Array.isArray(body.timeframes) ? { timeframes: body.timeframes as string[] } : {}),
      });
    }
  }
  if (!STRATEGY_NAME_PATTERN.test(name)) return detail(400, `Invalid strategy name '${name}': use letters, digits, '_' and '-'`);
  const file = await loadStrategy(ctx, name);
  if (!file) return detail(400, `Strategy file not found: ${name}.yaml (simulator strategies directory: ${ctx.strategiesDir})`);
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
  if (ctx.faults.noWorkers) return workerUnavailable(ctx, 'training');
  const busy = allWorkersBusy(ctx, 'training');
  if (busy) return busy;

  const requestedSymbols = Array.isArray(body.symbols) ? (body.symbols as string[]) : undefined;
  const requestedTimeframes = Array.isArray(body.timeframes) ? (body.timeframes as string[]) : undefined;
  const analysed = analyzeDesign(parsed.value, requestedSymbols, requestedTimeframes);
  const design = ctx.world ? plantDesign(ctx.world, analysed, parsed.value as Record<string, unknown>) : analysed;
  const outcome = simulateTraining(design, new SeededRandom(seedOf(ctx.seed, contentHash(file.text), 'training')));
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
      const range = rangeOf(ctx, symbol, timeframe, at);
      // KTRDR's worker fails asynchronously, with its own wording ("No data found in cache for GBPUSD 1h").
      if (!designFailure && !range) designFailure = `No data found in cache for ${symbol} ${timeframe}`;
      else if (!designFailure && range && (endDate < range.startDate || startDate > range.endDate)) {
        designFailure = `No data found in cache for ${symbol} ${timeframe} between ${startDate} and ${endDate}; data covers ${range.startDate} to ${range.endDate}`;
      }
    }
  }

  const modelKey = `${name}/${timeframes.join('_')}`;
  const version = (ctx.modelVersions.get(modelKey) ?? 0) + 1;
  ctx.modelVersions.set(modelKey, version);
  const sizeFactor = clamp(design.hiddenUnits / 96, 0.5, 3);
  const id = taskId ?? newOperationId(ctx, 'training', at);
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
    simMsPerStep:
      drawnMsPerStep(ctx, 'training', designFailure ? design.epochsConfigured : outcome.epochsTrained) ??
      36_000 * sizeFactor * symbols.length * timeframes.length,
    design,
    training: outcome,
    backtest: null,
    backtestRequest: null,
    modelPath: `models/${name}/${timeframes.join('_')}_v${version}`,
    runs: [],
    retryOf: null,
  };
  ctx.designFailures.set(id, designFailure);
  ctx.state.operations.set(id, operation);
  startRun(ctx, operation, at, 0, false);
  return trainingResponse(operation);
}
