import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateBacktestGate, type GateThresholds } from '../../src/core/engine/gates.ts';
import { loadConfig } from '../../src/core/config/load.ts';

// Only the backtest thresholds matter here.
const gates: GateThresholds = {
  trainingMinAccuracy: 0,
  trainingMaxLoss: 1,
  trainingMinLossReduction: 0,
  trainingMinDirectionalAccuracy: 0.51,
  backtestMinWinRate: 0.45,
  backtestMaxDrawdown: 0.4,
  backtestMinSharpe: -0.5,
};
const good = { winRate: 0.5, maxDrawdown: 0.1, sharpe: 1.2 };

describe('the optional deflated Sharpe gate (GATE_BACKTEST_MIN_DSR)', () => {
  test('off by default: no check, whatever the DSR', () => {
    assert.equal(loadConfig({ env: { HOME: '/tmp' } }).settings.GATE_BACKTEST_MIN_DSR, undefined);
    const gate = evaluateBacktestGate({ ...good, deflatedSharpe: 0.01 }, gates);
    assert.equal(gate.passed, true);
    assert.deepEqual(
      gate.checks.map((c) => c.metric),
      ['win_rate', 'max_drawdown', 'sharpe'],
    );
  });

  test('on: a DSR below the threshold fails with a reason naming both; a missing DSR fails too', () => {
    const on = { ...gates, backtestMinDsr: 0.95 };
    const low = evaluateBacktestGate({ ...good, deflatedSharpe: 0.62 }, on);
    assert.equal(low.passed, false);
    // A probability, shown as one: 0.999 must not read as 1.00.
    assert.equal(low.reason, 'deflated_sharpe 62% < 95%');
    assert.equal(evaluateBacktestGate({ ...good, deflatedSharpe: 0.97 }, on).passed, true);
    assert.match(evaluateBacktestGate({ ...good, deflatedSharpe: null }, on).reason ?? '', /deflated_sharpe missing/);
  });

  test('the setting reads a probability and refuses anything else', () => {
    assert.equal(loadConfig({ env: { HOME: '/tmp', GATE_BACKTEST_MIN_DSR: '0.9' } }).settings.GATE_BACKTEST_MIN_DSR, 0.9);
    assert.throws(() => loadConfig({ env: { HOME: '/tmp', GATE_BACKTEST_MIN_DSR: '2' } }), /GATE_BACKTEST_MIN_DSR/);
  });
});
