import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateBacktestGate, evaluateTrainingGate, type GateThresholds } from '../../src/core/engine/gates.ts';

const thresholds: GateThresholds = {
  trainingMinAccuracy: 0.45,
  trainingMaxLoss: 0.8,
  trainingMinLossReduction: 0.2,
  backtestMinWinRate: 0.45,
  backtestMaxDrawdown: 0.4,
  backtestMinSharpe: -0.5,
};

describe('gate reasons show the digits that make the comparison true', () => {
  test('a value that rounds onto its threshold gets more digits', () => {
    assert.equal(evaluateTrainingGate({ accuracy: 0.4499, finalLoss: 0.8049, lossReduction: 0.35 }, thresholds).reason, 'accuracy 44.99% < 45%; final_loss 0.805 > 0.80');
    assert.equal(
      evaluateBacktestGate({ winRate: 0.5, maxDrawdown: 0.40001, sharpe: -0.5000001 }, thresholds).reason,
      'max_drawdown 40.001% > 40%; sharpe -0.5000001 < -0.50',
    );
  });

  test('a value far from its threshold keeps the short form', () => {
    assert.equal(evaluateTrainingGate({ accuracy: 0.34, finalLoss: 1.09, lossReduction: 0.01 }, thresholds).reason, 'accuracy 34% < 45%; final_loss 1.09 > 0.80; loss_reduction 1% < 20%');
    assert.equal(evaluateBacktestGate({ winRate: 0.412, maxDrawdown: 0.15, sharpe: 0.9 }, thresholds).reason, 'win_rate 41.2% < 45%');
  });

  test('every failed reason reads true: the shown value is on the failing side of the shown threshold', () => {
    for (let i = 1; i < 2000; i += 1) {
      const loss = 0.8 + i / 1e7;
      const reason = evaluateTrainingGate({ accuracy: 0.5, finalLoss: loss, lossReduction: 0.5 }, thresholds).reason ?? '';
      const shown = Number(/final_loss (\S+) >/.exec(reason)![1]);
      assert.ok(shown > 0.8, `${loss}: ${reason}`);
    }
  });
});
