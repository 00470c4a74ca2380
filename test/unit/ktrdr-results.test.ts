import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flattenBacktestResult, flattenTrainingOperation, flattenTrainingResult, operationProgress, parseServerTime } from '../../src/core/ktrdr/index.ts';

/** A training `result_summary` shaped as in CONTRACT §3.1 (nested, with keys the agent does not read). */
function trainingSummary() {
  return {
    model_path: 'models/s/1h_v3',
    training_metrics: {
      epochs_trained: 50,
      final_train_loss: 0.91,
      final_train_accuracy: 0.55,
      best_train_accuracy: 0.56,
      final_val_loss: 0.95,
      final_val_accuracy: 0.52,
      best_val_accuracy: 0.53,
      training_time: 412.3,
      history: { train_loss: [1.09, 1.01, 0.95, 0.91], train_accuracy: [], val_loss: [], val_accuracy: [] },
    },
    test_metrics: { test_accuracy: 0.51, test_loss: 0.97, precision: 0.5, recall: 0.51, f1_score: 0.49 },
    model_info: { parameters: 1234 },
    data_summary: {},
    artifacts: {},
    session_info: {},
  };
}

/** A backtest `result_summary` shaped as in CONTRACT §3.2. */
function backtestSummary() {
  return {
    strategy_name: 's',
    symbol: 'EURUSD',
    timeframe: '1h',
    start_time: '2024-01-01T00:00:00',
    end_time: '2024-06-30T00:00:00',
    execution_time_seconds: 12.5,
    config: { initial_capital: 100000, commission: 0.001, slippage: 0.0005, start_date: '2024-01-01', end_date: '2024-06-30' },
    metrics: {
      total_return: 4210.5,
      total_return_pct: 0.0421,
      annualized_return: 0.085,
      volatility: 0.07,
      sharpe_ratio: 1.21,
      max_drawdown: 8125.0,
      max_drawdown_pct: 0.0813,
      total_trades: 57,
      winning_trades: 30,
      losing_trades: 27,
      win_rate: 0.5263,
      profit_factor: 1.34,
      avg_win: 612.1,
      avg_loss: -524.2,
      calmar_ratio: 1.05,
      sortino_ratio: 1.6,
      recovery_factor: 0.52,
    },
    trade_count: 57,
    equity_curve_length: 3100,
  };
}

describe('flattenTrainingResult', () => {
  test('reads the nested training metrics of the contract', () => {
    const result = flattenTrainingResult(trainingSummary(), { epochsConfigured: 100 });
    assert.equal(result.accuracy, 0.51);
    assert.equal(result.testLoss, 0.97);
    assert.equal(result.initialLoss, 1.09);
    assert.equal(result.finalLoss, 0.91);
    assert.ok(result.lossReduction !== null && Math.abs(result.lossReduction - (1.09 - 0.91) / 1.09) < 1e-12);
    assert.equal(result.epochsTrained, 50);
    assert.equal(result.epochsConfigured, 100);
    assert.equal(result.valAccuracy, 0.52);
    assert.equal(result.modelPath, 'models/s/1h_v3');
  });

  test('infers an early stop only from epochs trained below epochs configured', () => {
    assert.equal(flattenTrainingResult(trainingSummary(), { epochsConfigured: 100 }).earlyStopped, true);
    assert.equal(flattenTrainingResult(trainingSummary(), { epochsConfigured: 50 }).earlyStopped, false);
    assert.equal(flattenTrainingResult(trainingSummary()).earlyStopped, null);
  });

  test('gives null, never 0, for what KTRDR did not report', () => {
    const result = flattenTrainingResult({ model_path: 'models/s/1h_v1', training_metrics: {}, test_metrics: {} }, { epochsConfigured: 100 });
    assert.deepEqual(result, {
      accuracy: null,
      testLoss: null,
      initialLoss: null,
      finalLoss: null,
      lossReduction: null,
      epochsTrained: null,
      epochsConfigured: 100,
      earlyStopped: null,
      valAccuracy: null,
      modelPath: 'models/s/1h_v1',
      outputFormat: null,
      directionalAccuracy: null,
      resumedAtEpoch: null,
    });
    for (const empty of [null, undefined, {}, 'not an object', []]) {
      const flattened = flattenTrainingResult(empty);
      for (const value of Object.values(flattened)) assert.equal(value, null);
    }
  });

  test('does not read the flat keys that showed 0% in KTRDR’s own prompt', () => {
    const result = flattenTrainingResult({ final_loss: 0.5, initial_loss: 1.0, epochs: 10 });
    assert.equal(result.finalLoss, null);
    assert.equal(result.initialLoss, null);
    assert.equal(result.epochsTrained, null);
  });

  test('keeps a real 0 accuracy and ignores values of the wrong type', () => {
    const summary = trainingSummary();
    summary.test_metrics.test_accuracy = 0;
    (summary.training_metrics as Record<string, unknown>).final_train_loss = 'NaN';
    const result = flattenTrainingResult(summary);
    assert.equal(result.accuracy, 0);
    assert.equal(result.finalLoss, null);
    assert.equal(result.lossReduction, null);
  });

  test('has no loss reduction when the initial loss is 0', () => {
    const summary = trainingSummary();
    summary.training_metrics.history.train_loss = [0, 0];
    assert.equal(flattenTrainingResult(summary).lossReduction, null);
  });

  test('counts trained epochs from the history when the counter is missing', () => {
    const summary = trainingSummary();
    delete (summary.training_metrics as Partial<typeof summary.training_metrics>).epochs_trained;
    assert.equal(flattenTrainingResult(summary, { epochsConfigured: 10 }).epochsTrained, 4);
  });

  test('reads the regression test metrics (directional accuracy)', () => {
    const result = flattenTrainingResult({ test_metrics: { test_accuracy: 0.53, test_loss: 0.0001, mae: 0.004 } });
    assert.equal(result.accuracy, 0.53);
    assert.equal(result.testLoss, 0.0001);
  });

  test('takes the configured epochs from the operation metadata when not given', () => {
    const operation = { result_summary: trainingSummary(), metadata: { parameters: { strategy_name: 's', epochs: 80 } } };
    assert.equal(flattenTrainingOperation(operation).epochsConfigured, 80);
    assert.equal(flattenTrainingOperation(operation).earlyStopped, true);
    assert.equal(flattenTrainingOperation(operation, { epochsConfigured: 50 }).earlyStopped, false);
    assert.equal(flattenTrainingOperation({ result_summary: null, metadata: null }).accuracy, null);
  });
});

describe('flattenBacktestResult', () => {
  test('reads the nested backtest metrics of the contract', () => {
    assert.deepEqual(flattenBacktestResult(backtestSummary()), {
      sharpe: 1.21,
      winRate: 0.5263,
      maxDrawdown: 0.0813,
      totalTrades: 57,
      profitFactor: 1.34,
      totalReturnPct: 0.0421,
      totalReturn: 4210.5,
      winningTrades: 30,
      losingTrades: 27,
      sortino: 1.6,
      calmar: 1.05,
      bars: 3100,
    });
  });

  test('takes the drawdown as a fraction from max_drawdown_pct, never the dollar max_drawdown', () => {
    const summary = backtestSummary();
    assert.equal(flattenBacktestResult(summary).maxDrawdown, 0.0813);
    delete (summary.metrics as Partial<typeof summary.metrics>).max_drawdown_pct;
    assert.equal(flattenBacktestResult(summary).maxDrawdown, null);
    summary.metrics.max_drawdown_pct = -0.25;
    assert.equal(flattenBacktestResult(summary).maxDrawdown, 0.25);
  });

  test('gives null for missing metrics, and falls back to trade_count for the trade total', () => {
    const result = flattenBacktestResult({ trade_count: 12, metrics: {} });
    assert.equal(result.totalTrades, 12);
    assert.equal(result.sharpe, null);
    assert.equal(result.winRate, null);
    assert.equal(result.profitFactor, null);
    for (const value of Object.values(flattenBacktestResult(null))) assert.equal(value, null);
  });

  test('keeps the clamped "no losses" profit factor as KTRDR reports it', () => {
    const summary = backtestSummary();
    summary.metrics.profit_factor = 999999;
    assert.equal(flattenBacktestResult(summary).profitFactor, 999999);
  });
});

describe('operationProgress', () => {
  test('reads the epoch counters of a training', () => {
    const progress = {
      percentage: 42,
      current_step: 'Epoch 21/50',
      steps_completed: 21,
      steps_total: 50,
      items_processed: 1050,
      items_total: null,
      current_item: null,
      context: {},
    };
    assert.deepEqual(operationProgress({ progress }), { percentage: 42, currentStep: 'Epoch 21/50', stepsCompleted: 21, stepsTotal: 50 });
  });

  test('parses "Epoch i/N" when the counters are missing, and gives nulls for nothing', () => {
    assert.deepEqual(operationProgress({ progress: { percentage: 10, current_step: 'Epoch 5/50' } }), {
      percentage: 10,
      currentStep: 'Epoch 5/50',
      stepsCompleted: 5,
      stepsTotal: 50,
    });
    assert.deepEqual(operationProgress({ progress: { percentage: 0 } }), { percentage: 0, currentStep: null, stepsCompleted: null, stepsTotal: null });
  });
});

describe('parseServerTime', () => {
  test('reads naive KTRDR timestamps as UTC', () => {
    assert.equal(parseServerTime('2025-01-01T12:00:00'), Date.UTC(2025, 0, 1, 12));
    assert.equal(parseServerTime('2025-01-01T12:00:00.123456'), Date.UTC(2025, 0, 1, 12, 0, 0, 123));
    assert.equal(parseServerTime('2025-01-01T12:00:00Z'), Date.UTC(2025, 0, 1, 12));
    assert.equal(parseServerTime('2025-01-01T14:00:00+02:00'), Date.UTC(2025, 0, 1, 12));
    assert.equal(parseServerTime('not a time'), null);
    assert.equal(parseServerTime(null), null);
  });
});
