/** `POST /backtests/start`: backtests a model a completed training produced, over the data the market holds. */
import { parseStrategyYaml } from '../../strategy/index.ts';
import { startRun } from '../fate.ts';
import { viewAt } from '../operations.ts';
import type { SimOperation } from '../operations.ts';
import { simulateBacktest, trainingDataOf } from '../quality.ts';
import type { BacktestRequest } from '../quality.ts';
import { contentHash, SeededRandom, seedOf } from '../../kernel/random.ts';
import { detail, json, refused, SIMULATOR_LABEL, validationError } from '../reply.ts';
import { isRecord } from '../../kernel/records.ts';
import type { Reply } from '../reply.ts';
import { drawnMsPerStep, loadStrategy, newOperationId, rangeOf } from '../state.ts';
import { STRATEGY_NAME_PATTERN } from '../../strategy/schema.ts';
import type { SimContext } from '../state.ts';
import { allWorkersBusy, workerUnavailable } from './workers.ts';

export async function startBacktest(ctx: SimContext, body: unknown): Promise<Reply> {
  if (ctx.faults.refuseStarts !== null) return refused(ctx.faults.refuseStarts);
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
  if (!STRATEGY_NAME_PATTERN.test(name)) return detail(400, `Invalid strategy name '${name}'`);
  const file = await loadStrategy(ctx, name);
  if (!file) return detail(400, `Strategy file not found: strategies/${name}.yaml (simulator strategies directory: ${ctx.strategiesDir})`);
  const parsed = parseStrategyYaml(file.text);
  if (!parsed.ok) return detail(400, `Invalid strategy configuration in ${name}.yaml: ${parsed.error}`);
  if (ctx.faults.noWorkers) return workerUnavailable(ctx, 'backtesting');
  const busy = allWorkersBusy(ctx, 'backtesting');
  if (busy) return busy;

  const at = ctx.now();
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
    ? [...ctx.state.operations.values()].find(
        (candidate) => candidate.type === 'training' && candidate.modelPath === modelPath && viewAt(candidate, at, ctx.timeScale).status === 'completed',
      )
    : undefined;
  if (!modelPath) designFailure = 'model_path is required';
  else if (!trained?.training || !trained.design)
    designFailure = `Model not found at ${modelPath}: train the strategy first and pass result_summary.model_path`;
  const available = rangeOf(ctx, symbol, timeframe, at);
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
          new SeededRandom(seedOf(ctx.seed, contentHash(file.text), 'backtest', symbol, timeframe, startDate, endDate)),
        )
      : null;
  const bars = outcome?.bars ?? 0;
  const id = newOperationId(ctx, 'backtesting', at);
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
    simMsPerStep: drawnMsPerStep(ctx, 'backtesting', 100) ?? (120_000 + bars * 40) / 100,
    design: trained?.design ?? null,
    training: trained?.training ?? null,
    backtest: outcome,
    backtestRequest: request,
    modelPath,
    runs: [],
    retryOf: null,
  };
  ctx.designFailures.set(id, designFailure);
  ctx.state.operations.set(id, operation);
  startRun(ctx, operation, at, 0, false);
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
