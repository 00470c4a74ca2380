import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { outcomeColor, recentCycleRows } from '../../src/core/cli/views/status-text.ts';
import type { RecentCycle } from '../../src/core/cli/views/schemas.ts';

function cycle(fields: Partial<RecentCycle>): RecentCycle {
  return {
    id: 7,
    strategyName: 'baseline_rsi_macd',
    outcome: 'success',
    createdAt: '2026-12-06T10:00:00.000Z',
    completedAt: '2026-12-06T11:00:00.000Z',
    durationSeconds: 3600,
    sharpe: 1.2,
    failedGate: null,
    failureReason: null,
    verdict: null,
    costUsd: 0,
    ...fields,
  };
}

describe('SUCCESS is coloured by what the result says', () => {
  test('green only for a good result: a promising verdict, or without one a positive Sharpe', () => {
    assert.equal(outcomeColor('SUCCESS', { verdict: 'promising', sharpe: -0.2 }), 'green');
    assert.equal(outcomeColor('SUCCESS', { verdict: null, sharpe: 1.1 }), 'green');
    assert.equal(outcomeColor('SUCCESS', { verdict: null, sharpe: -0.43 }), 'yellow');
    assert.equal(outcomeColor('SUCCESS', { verdict: 'neutral', sharpe: 0.9 }), 'yellow');
    assert.equal(outcomeColor('SUCCESS', { verdict: 'poor', sharpe: 0.9 }), 'yellow');
    assert.equal(outcomeColor('SUCCESS'), 'yellow');
    assert.equal(outcomeColor('FAILED', { verdict: 'promising', sharpe: 2 }), 'red');
    assert.equal(outcomeColor('CANCELLED'), 'yellow');
  });

  test("status's recent cycles: a success with Sharpe -0.43 is painted yellow, one with 1.2 green", () => {
    const now = new Date('2026-12-06T12:00:00.000Z');
    const [weak, good] = recentCycleRows([cycle({ sharpe: -0.43 }), cycle({ id: 8, sharpe: 1.2 })], now, true);
    assert.match(weak!, /\u001b\[33mSUCCESS/);
    assert.match(good!, /\u001b\[32mSUCCESS/);
  });
});
