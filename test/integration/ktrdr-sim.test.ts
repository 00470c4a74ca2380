import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { flattenBacktestResult, flattenTrainingOperation, KtrdrClient, KtrdrError } from '../../src/core/ktrdr/index.ts';
import type { OperationInfo } from '../../src/core/ktrdr/index.ts';
import { createSimulator, SIMULATOR_LABEL } from '../../src/core/sim/index.ts';
import { ktrdrRoutes } from '../support/ktrdr-routes.ts';
import type { Simulator, SimulatorOptions } from '../../src/core/sim/index.ts';

/** Two complementary bounded indicators with ranges on their scales: the design the lessons recommend. */
const goodDesign = (name: string, epochs = 50) => `
name: ${name}
version: "3.0"
training_data:
  symbols: {mode: single, symbol: EURUSD}
  timeframes: {mode: single, timeframe: "1h"}
  history_required: 100
indicators:
  rsi_14: {type: rsi, period: 14}
  adx_14: {type: adx, period: 14}
fuzzy_sets:
  rsi_zone:
    indicator: rsi_14
    oversold: [0, 20, 35]
    neutral: [30, 50, 70]
    overbought: [65, 80, 100]
  di_plus:
    indicator: adx_14.plus_di
    low: [0, 10, 25]
    medium: [20, 30, 40]
    high: [35, 50, 100]
nn_inputs:
  - {fuzzy_set: rsi_zone, timeframes: all}
  - {fuzzy_set: di_plus, timeframes: all}
model: {type: mlp, architecture: {hidden_layers: [32, 16], dropout: 0.2}}
decisions: {output_format: classification, confidence_threshold: 0.6}
training:
  epochs: ${epochs}
  learning_rate: 0.001
  batch_size: 32
  labels: {source: zigzag, zigzag_threshold: 0.015, label_lookahead: 20}
`;

/** ATR is in price units (about 0.001 on EURUSD 1h): ranges up to 1.0 never activate, so nothing is learnt. */
const offScaleDesign = `
name: atr_offscale
version: "3.0"
training_data:
  symbols: {mode: single, symbol: EURUSD}
  timeframes: {mode: single, timeframe: "1h"}
indicators:
  atr_14: {type: atr, period: 14}
fuzzy_sets:
  atr_level:
    indicator: atr_14
    low: [0, 0.2, 0.4]
    high: [0.3, 0.6, 1.0]
nn_inputs:
  - {fuzzy_set: atr_level, timeframes: all}
model: {type: mlp, architecture: {hidden_layers: [32, 16], dropout: 0.2}}
decisions: {output_format: classification}
training:
  epochs: 50
  labels: {source: zigzag, zigzag_threshold: 0.015}
`;

/** Valid YAML that v3 validation rejects: the fuzzy set names an indicator that does not exist. */
const brokenDesign = `
name: broken
version: "3.0"
training_data:
  symbols: {mode: single, symbol: EURUSD}
  timeframes: {mode: single, timeframe: "1h"}
indicators:
  rsi_14: {type: rsi, period: 14}
fuzzy_sets:
  rsi_zone:
    indicator: rsi_99
    low: [0, 20, 35]
nn_inputs:
  - {fuzzy_set: rsi_zone, timeframes: all}
model: {type: mlp}
decisions: {output_format: classification}
training: {epochs: 10}
`;

const noDataDesign = goodDesign('no_data', 10).replace('symbol: EURUSD', 'symbol: ZZZUSD');

const HOUR = 3_600_000;
let strategiesDir: string;

before(async () => {
  strategiesDir = await mkdtemp(join(tmpdir(), 'ktrdr-sim-'));
  await writeFile(join(strategiesDir, 'rsi_di.yaml'), goodDesign('rsi_di'));
  await writeFile(join(strategiesDir, 'rsi_di_short.yaml'), goodDesign('rsi_di_short', 10));
  await writeFile(join(strategiesDir, 'atr_offscale.yaml'), offScaleDesign);
  await writeFile(join(strategiesDir, 'broken.yaml'), brokenDesign);
  await writeFile(join(strategiesDir, 'no_data.yaml'), noDataDesign);
});

after(async () => {
  await rm(strategiesDir, { recursive: true, force: true });
});

/** A simulator on a clock the test moves by hand, and a client without retries (failures show as they are). */
async function setup(options: Partial<SimulatorOptions> = {}) {
  let time = Date.UTC(2025, 2, 3, 12, 0, 0);
  const sim = await createSimulator({ strategiesDir, seed: 42, timeScale: 60, now: () => time, ...options });
  const client = new KtrdrClient({ baseUrl: sim.url, retry: { maxAttempts: 1, backoffBaseSeconds: 0 } });
  return {
    sim,
    client,
    routes: ktrdrRoutes(sim.url),
    advance(ms: number) {
      time += ms;
    },
  };
}

async function raw(sim: Simulator, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

async function trainToEnd(context: Awaited<ReturnType<typeof setup>>, strategyName: string): Promise<OperationInfo> {
  const started = await context.client.startTraining({ strategyName });
  context.advance(24 * HOUR);
  return context.client.getOperation(started.operationId);
}

async function rejection(promise: Promise<unknown>): Promise<KtrdrError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KtrdrError, `expected a KtrdrError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('KTRDR simulator', () => {
  test('says it is a simulator in its health answer and on every response', async () => {
    const context = await setup();
    try {
      const health = await raw(context.sim, 'GET', '/health');
      assert.equal(health.status, 200);
      assert.equal(health.body?.status, 'ok');
      assert.equal(health.body?.simulator, SIMULATOR_LABEL);
      assert.equal(health.headers.get('x-ktrdr-simulator'), SIMULATOR_LABEL);
      const missing = await raw(context.sim, 'GET', '/operations/op_unknown');
      assert.equal(missing.headers.get('x-ktrdr-simulator'), SIMULATOR_LABEL);
    } finally {
      await context.sim.close();
    }
  });

  test('gives the same results for the same seed and strategy content, and others for another seed', async () => {
    const first = await setup();
    const second = await setup();
    const otherSeed = await setup({ seed: 7 });
    try {
      const a = await trainToEnd(first, 'rsi_di');
      const b = await trainToEnd(second, 'rsi_di');
      const c = await trainToEnd(otherSeed, 'rsi_di');
      assert.equal(a.status, 'completed');
      assert.deepEqual(a.result_summary, b.result_summary);
      assert.notDeepEqual(a.result_summary?.test_metrics, c.result_summary?.test_metrics);
    } finally {
      await Promise.all([first.sim.close(), second.sim.close(), otherSeed.sim.close()]);
    }
  });

  test('trains a complementary on-scale design well and an off-scale design not at all', async () => {
    const context = await setup();
    try {
      const good = flattenTrainingOperation(await trainToEnd(context, 'rsi_di'));
      const flat = flattenTrainingOperation(await trainToEnd(context, 'atr_offscale'));
      assert.ok(good.accuracy !== null && flat.accuracy !== null);
      assert.ok(good.accuracy > flat.accuracy + 0.15, `good ${good.accuracy} vs off-scale ${flat.accuracy}`);
      assert.ok(flat.accuracy < 0.4, `off-scale accuracy ${flat.accuracy} should be near chance`);
      assert.ok(flat.finalLoss !== null && flat.finalLoss > 1.0, `off-scale loss ${flat.finalLoss} should stay near 1.09`);
      assert.ok(flat.lossReduction !== null && flat.lossReduction < 0.05);
      assert.equal(flat.earlyStopped, true);
      assert.ok(good.lossReduction !== null && good.lossReduction > flat.lossReduction);
      assert.equal(good.epochsTrained, 50);
      assert.equal(good.earlyStopped, false);
    } finally {
      await context.sim.close();
    }
  });

  test('reports progress as "Epoch i/N" from pending through running to completed', async () => {
    const context = await setup();
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'rsi_di' });
      const pending = await context.client.getOperation(operationId);
      assert.equal(pending.status, 'pending');
      assert.equal(pending.progress.percentage, 0);
      // 50 epochs of about 18 simulated seconds each: 5 real seconds at x60 is 300 simulated seconds.
      context.advance(5_000);
      const running = await context.client.getOperation(operationId);
      assert.equal(running.status, 'running');
      const match = /^Epoch (\d+)\/50$/.exec(running.progress.current_step ?? '');
      assert.ok(match, `current_step ${running.progress.current_step}`);
      assert.equal(running.progress.steps_completed, Number(match[1]));
      assert.equal(running.progress.steps_total, 50);
      assert.ok(running.progress.percentage > 0 && running.progress.percentage < 100);
      assert.equal(running.result_summary, null);
      assert.ok(running.started_at);
      const metrics = await context.client.getOperationMetrics(operationId);
      assert.equal(metrics.epochs.length, Number(match[1]));
      context.advance(24 * HOUR);
      const done = await context.client.getOperation(operationId);
      assert.equal(done.status, 'completed');
      assert.equal(done.progress.percentage, 100);
      assert.equal(done.progress.current_step, 'Epoch 50/50');
      assert.ok(done.completed_at);
      assert.equal(typeof done.result_summary?.model_path, 'string');
    } finally {
      await context.sim.close();
    }
  });

  test('cancels a running operation once, and refuses to cancel it again', async () => {
    const context = await setup();
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'rsi_di' });
      context.advance(5_000);
      const cancelled = await context.client.cancelOperation(operationId, { reason: 'test' });
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.cancellation_reason, 'test');
      context.advance(24 * HOUR);
      assert.equal((await context.client.getOperation(operationId)).status, 'cancelled');
      const again = await rejection(context.client.cancelOperation(operationId));
      assert.equal(again.status, 400);
      const unknown = await rejection(context.client.cancelOperation('op_training_nope'));
      assert.equal(unknown.status, 404);
      const results = await rejection(context.routes.getOperationResults(operationId));
      assert.equal(results.status, 400);
    } finally {
      await context.sim.close();
    }
  });

  test('fails a training partway with a checkpoint, resumes it from that epoch and completes it', async () => {
    const context = await setup({ faults: { failureRate: 1 } });
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'rsi_di' });
      context.advance(24 * HOUR);
      const failed = await context.client.getOperation(operationId);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error_message ?? '', /Simulated worker failure at epoch \d+/);
      const failedAt = failed.progress.steps_completed ?? 0;
      assert.ok(failedAt >= 1 && failedAt < 50);
      assert.equal((await context.routes.getOperationResults(operationId)).status, 'failed');

      const checkpoints = await context.routes.listCheckpoints();
      assert.deepEqual(
        checkpoints.checkpoints.map((checkpoint) => [checkpoint.operation_id, checkpoint.checkpoint_type]),
        [[operationId, 'failure']],
      );
      assert.equal((await context.routes.getCheckpoint(operationId)).state?.epoch, failedAt);

      context.sim.faults.failureRate = 0;
      const resumed = await context.client.resumeOperation(operationId);
      assert.equal(resumed.status, 'resuming');
      assert.equal(resumed.resumed_from?.epoch, failedAt);
      assert.equal((await context.client.getOperation(operationId)).status, 'resuming');
      const busy = await rejection(context.client.resumeOperation(operationId));
      assert.equal(busy.status, 409);

      context.advance(24 * HOUR);
      const completed = await context.client.getOperation(operationId);
      assert.equal(completed.status, 'completed');
      // Like KTRDR, the resumed run reports only the epochs after the resume point; read with the first run's
      // resume point, the whole run is seen.
      assert.equal(flattenTrainingOperation(completed).epochsTrained, 50 - failedAt);
      assert.equal(
        completed.result_summary?.training_metrics &&
          (completed.result_summary.training_metrics as { history: { train_loss: number[] } }).history.train_loss.length,
        50 - failedAt,
      );
      assert.equal(flattenTrainingOperation(completed, { priorRun: { initialLoss: null, resumedAtEpoch: failedAt } }).epochsTrained, 50);
      assert.equal((await context.routes.listCheckpoints()).totalCount, 0, 'the checkpoint is deleted on success');
      const done = await rejection(context.client.resumeOperation(operationId));
      assert.equal(done.status, 409);
    } finally {
      await context.sim.close();
    }
  });

  test('has no checkpoint to resume when a training fails before its first epoch', async () => {
    const context = await setup();
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'no_data' });
      context.advance(HOUR);
      const failed = await context.client.getOperation(operationId);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error_message ?? '', /No data found in cache for ZZZUSD 1h/);
      const error = await rejection(context.client.resumeOperation(operationId));
      assert.equal(error.status, 404);
      assert.equal((await rejection(context.routes.getCheckpoint(operationId))).status, 404);
      assert.equal((await rejection(context.client.resumeOperation('op_training_nope'))).status, 404);
    } finally {
      await context.sim.close();
    }
  });

  test('retries a failed operation as a new one, and refuses to retry one that did not fail', async () => {
    const context = await setup({ faults: { failureRate: 1 } });
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'rsi_di_short' });
      const early = await rejection(context.routes.retryOperation(operationId));
      assert.equal(early.status, 400);
      context.advance(24 * HOUR);
      context.sim.faults.failureRate = 0;
      const retried = await context.routes.retryOperation(operationId);
      assert.notEqual(retried.operation_id, operationId);
      assert.equal(retried.operation_type, 'training');
      context.advance(24 * HOUR);
      assert.equal((await context.client.getOperation(retried.operation_id)).status, 'completed');
    } finally {
      await context.sim.close();
    }
  });

  test('answers 503 with a WorkerUnavailableError object when no worker is registered', async () => {
    const context = await setup({ faults: { noWorkers: true } });
    try {
      const response = await raw(context.sim, 'POST', '/trainings/start', { strategy_name: 'rsi_di' });
      assert.equal(response.status, 503);
      const detail = response.body?.detail as Record<string, unknown>;
      assert.equal(detail.worker_type, 'training');
      assert.equal(detail.registered_workers, 0);
      assert.equal(typeof detail.hint, 'string');
      const error = await rejection(context.client.startTraining({ strategyName: 'rsi_di' }));
      assert.equal(error.status, 503);
      assert.equal(error.code, 'WORKER_UNAVAILABLE');
      assert.equal(error.isWorkerUnavailable, true);
      assert.deepEqual(await context.client.listWorkers(), []);
      assert.equal(context.sim.state.operations.size, 0);
    } finally {
      await context.sim.close();
    }
  });

  test('loses an operation partway: from then on it is a 404 and gone from the list', async () => {
    const context = await setup({ faults: { lostRate: 1 } });
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'rsi_di' });
      context.advance(24 * HOUR);
      const error = await rejection(context.client.getOperation(operationId));
      assert.equal(error.status, 404);
      assert.equal(error.kind, 'http');
      assert.match(error.message, /Operation not found/);
      assert.equal((await context.client.listOperations()).totalCount, 0);
    } finally {
      await context.sim.close();
    }
  });

  test('stalls an operation: its progress stops for good', async () => {
    const context = await setup({ faults: { stallRate: 1 } });
    try {
      const { operationId } = await context.client.startTraining({ strategyName: 'rsi_di' });
      context.advance(24 * HOUR);
      const first = await context.client.getOperation(operationId);
      context.advance(240 * HOUR);
      const later = await context.client.getOperation(operationId);
      assert.equal(first.status, 'running');
      assert.equal(later.status, 'running');
      assert.equal(later.progress.steps_completed, first.progress.steps_completed);
    } finally {
      await context.sim.close();
    }
  });

  test('honours a preset task_id: a second start with it returns the same operation', async () => {
    const context = await setup();
    try {
      const first = await raw(context.sim, 'POST', '/trainings/start', { strategy_name: 'rsi_di', task_id: 'op_training_20250303_120000_abcdef12' });
      const second = await raw(context.sim, 'POST', '/trainings/start', { strategy_name: 'rsi_di', task_id: 'op_training_20250303_120000_abcdef12' });
      assert.equal(first.status, 200);
      assert.equal(first.body?.task_id, 'op_training_20250303_120000_abcdef12');
      assert.equal(first.body?.status, 'training_started');
      assert.deepEqual(first.body?.symbols, ['EURUSD']);
      assert.deepEqual(second.body, first.body);
      assert.equal(context.sim.state.operations.size, 1);
    } finally {
      await context.sim.close();
    }
  });

  test('rejects a bad strategy name or a missing file with a string, and an invalid strategy with a ConfigurationError', async () => {
    const context = await setup();
    try {
      const badName = await raw(context.sim, 'POST', '/trainings/start', { strategy_name: '../etc/passwd' });
      assert.equal(badName.status, 400);
      assert.equal(typeof badName.body?.detail, 'string');
      const missing = await raw(context.sim, 'POST', '/trainings/start', { strategy_name: 'nope' });
      assert.equal(missing.status, 400);
      assert.match(String(missing.body?.detail), /Strategy file not found/);
      const invalid = await raw(context.sim, 'POST', '/trainings/start', { strategy_name: 'broken' });
      assert.equal(invalid.status, 400);
      const detail = invalid.body?.detail as Record<string, unknown>;
      assert.equal(detail.error_code, 'STRATEGY-ValidationFailed');
      assert.ok(Array.isArray((detail.details as Record<string, unknown>).errors));
      const noName = await raw(context.sim, 'POST', '/trainings/start', {});
      assert.equal(noName.status, 422);
      assert.equal((noName.body?.error as Record<string, unknown>).code, 'VALIDATION_ERROR');
      assert.equal(context.sim.state.operations.size, 0);
    } finally {
      await context.sim.close();
    }
  });

  test('accepts a backtest without model_path and fails it asynchronously, as KTRDR does', async () => {
    const context = await setup();
    try {
      const response = await raw(context.sim, 'POST', '/backtests/start', {
        strategy_name: 'rsi_di',
        start_date: '2024-07-01',
        end_date: '2024-12-31',
      });
      assert.equal(response.status, 200);
      const operationId = String(response.body?.operation_id);
      assert.match(operationId, /^op_backtesting_\d{8}_\d{6}_[0-9a-f]{8}$/);
      context.advance(HOUR);
      const failed = await context.client.getOperation(operationId);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error_message, 'model_path is required');
      const missingDates = await raw(context.sim, 'POST', '/backtests/start', { strategy_name: 'rsi_di' });
      assert.equal(missingDates.status, 422);
    } finally {
      await context.sim.close();
    }
  });

  test('backtests a trained model with contract-shaped metrics derived from the training', async () => {
    const context = await setup();
    try {
      const training = await trainToEnd(context, 'rsi_di');
      const modelPath = flattenTrainingOperation(training).modelPath;
      assert.ok(modelPath);
      const started = await context.client.startBacktest({
        strategyName: 'rsi_di',
        modelPath,
        startDate: '2024-07-01',
        endDate: '2024-12-31',
      });
      context.advance(HOUR);
      const done = await context.client.getOperation(started.operationId);
      assert.equal(done.status, 'completed');
      const summary = done.result_summary as Record<string, unknown>;
      for (const key of ['strategy_name', 'symbol', 'timeframe', 'start_time', 'end_time', 'config', 'metrics', 'trade_count', 'equity_curve_length']) {
        assert.ok(key in summary, `result_summary.${key}`);
      }
      const result = flattenBacktestResult(summary);
      assert.ok(result.totalTrades !== null && result.totalTrades > 0);
      assert.ok(result.winRate !== null && result.winRate > 0 && result.winRate < 1);
      assert.ok(result.maxDrawdown !== null && result.maxDrawdown > 0 && result.maxDrawdown < 1);
      assert.equal(result.winningTrades! + result.losingTrades!, result.totalTrades);
      const unknownModel = await context.client.startBacktest({
        strategyName: 'rsi_di',
        modelPath: 'models/never/1h_v1',
        startDate: '2024-07-01',
        endDate: '2024-12-31',
      });
      context.advance(HOUR);
      assert.match((await context.client.getOperation(unknownModel.operationId)).error_message ?? '', /Model not found/);
    } finally {
      await context.sim.close();
    }
  });

  test('plays a planted world chosen at creation: it says what it planted, and the same seed gives the same backtest', async () => {
    const backtestOnce = async (options: Partial<SimulatorOptions>) => {
      const context = await setup(options);
      try {
        const modelPath = flattenTrainingOperation(await trainToEnd(context, 'rsi_di')).modelPath;
        assert.ok(modelPath);
        const started = await context.client.startBacktest({ strategyName: 'rsi_di', modelPath, startDate: '2023-01-01', endDate: '2024-12-31' });
        context.advance(HOUR);
        const done = await context.client.getOperation(started.operationId);
        assert.equal(done.status, 'completed');
        return { world: context.sim.world, result: flattenBacktestResult(done.result_summary as Record<string, unknown>) };
      } finally {
        await context.sim.close();
      }
    };
    const planted = await backtestOnce({ world: { kind: 'pair', indicators: ['adx', 'rsi'], sharpe: 2 } });
    const again = await backtestOnce({ world: { kind: 'pair', indicators: ['adx', 'rsi'], sharpe: 2 } });
    const none = await backtestOnce({ world: { kind: 'no_edge' } });
    const model = await backtestOnce({});
    assert.deepEqual(planted.world, { kind: 'pair', indicators: ['adx', 'rsi'], sharpe: 2, label: 'pair adx+rsi (Sharpe 2)' });
    assert.equal(model.world, null);
    assert.deepEqual(planted.result, again.result);
    // Two years of hourly bars: a standard error of about 0.14 around the truth.
    assert.ok(planted.result.sharpe !== null && Math.abs(planted.result.sharpe - 2) < 0.6, `planted Sharpe ${planted.result.sharpe}`);
    assert.ok(none.result.sharpe !== null && Math.abs(none.result.sharpe) < 0.6, `no-edge Sharpe ${none.result.sharpe}`);
  });

  test('validates a strategy file with the project validator', async () => {
    const context = await setup();
    try {
      const valid = await context.client.validateStrategy('rsi_di');
      assert.equal(valid.valid, true);
      const invalid = await context.client.validateStrategy('broken');
      assert.equal(invalid.valid, false);
      assert.ok(invalid.issues?.some((issue) => issue.severity === 'error' && /rsi_99/.test(issue.message)));
      const offScale = await context.client.validateStrategy('atr_offscale');
      assert.equal(offScale.valid, true, 'price-unit fuzzy ranges are a warning, as in KTRDR');
      assert.ok(offScale.issues?.some((issue) => issue.severity === 'warning'));
      assert.equal((await rejection(context.client.validateStrategy('nope'))).status, 404);
    } finally {
      await context.sim.close();
    }
  });

  test('changes faults at runtime through POST /__sim/faults', async () => {
    const context = await setup();
    try {
      const base = context.sim.url.replace(/\/api\/v1$/, '');
      const response = await fetch(`${base}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ noWorkers: true, errorRate: 2 }),
      });
      const body = (await response.json()) as { faults: Record<string, unknown> };
      assert.equal(body.faults.noWorkers, true);
      assert.equal(body.faults.errorRate, 1, 'rates are clamped to 0..1');
      assert.equal(context.sim.faults.noWorkers, true);
      const error = await rejection(context.client.health());
      assert.equal(error.status, 500);
      assert.equal(error.code, 'INTERNAL_SERVER_ERROR');
    } finally {
      await context.sim.close();
    }
  });
});
