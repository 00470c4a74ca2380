// The lockbox and promotion rules as pure functions: the boundary's date, which windows reach into it, the
// robustness windows' placement, and the promotion decision on PSR values computed by hand from INTEGRITY.md's
// formula (PSR(0) = Φ(SR·√(T−1) / √(1 + SR²/2)), SR = Sharpe/√252 per bar, T = bars − 1, normal returns).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decidePromotion,
  lockboxStartFor,
  median,
  psrAgainstZero,
  reachesLockbox,
  robustnessWindows,
  searchPeriodEnd,
} from '../../src/core/research/lockbox.ts';

describe('lockbox boundary', () => {
  test('is the given months before the last day of data, clamped to the month end', () => {
    assert.equal(lockboxStartFor('2026-12-06', 12), '2025-12-06');
    assert.equal(lockboxStartFor('2026-12-06T23:00:00Z', 6), '2026-06-06');
    assert.equal(lockboxStartFor('2026-03-31', 1), '2026-02-28');
    assert.equal(lockboxStartFor('2026-01-15', 13), '2024-12-15');
    assert.equal(searchPeriodEnd('2025-12-06'), '2025-12-05');
    assert.equal(searchPeriodEnd('2024-03-01'), '2024-02-29');
  });

  test('a window reaches into it from its first day on, whatever its start', () => {
    assert.equal(reachesLockbox({ startDate: '2020-01-01', endDate: '2025-12-05' }, '2025-12-06'), false);
    assert.equal(reachesLockbox({ startDate: '2020-01-01', endDate: '2025-12-06' }, '2025-12-06'), true);
    assert.equal(reachesLockbox({ startDate: '2026-01-01', endDate: '2026-02-01' }, '2025-12-06'), true);
  });
});

describe('robustness windows', () => {
  const searchPeriod = { startDate: '2010-01-01', endDate: '2025-12-05' };
  const training = { startDate: '2019-12-05', endDate: '2023-12-05' };
  const backtest = { startDate: '2023-12-06', endDate: '2024-12-05' };

  test('as long as the backtest, latest first, never sharing a day with training, backtest or each other, inside the search period', () => {
    const windows = robustnessWindows({ searchPeriod, training, backtest, count: 3 });
    assert.deepEqual(windows, [
      { startDate: '2024-12-06', endDate: '2025-12-05' },
      { startDate: '2018-12-05', endDate: '2019-12-04' },
      { startDate: '2017-12-05', endDate: '2018-12-04' },
    ]);
    const all = [...windows, training, backtest];
    for (const [i, a] of all.entries())
      for (const b of all.slice(i + 1)) assert.ok(a.endDate < b.startDate || b.endDate < a.startDate, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
  });

  test('shorter windows when a year does not fit, none when nothing does', () => {
    // 552 free days before the training window: two 365-day windows do not fit, two of 182 days do.
    const tight = robustnessWindows({ searchPeriod: { startDate: '2018-06-01', endDate: '2024-12-05' }, training, backtest, count: 2 });
    assert.deepEqual(tight, [
      { startDate: '2019-06-06', endDate: '2019-12-04' },
      { startDate: '2018-12-06', endDate: '2019-06-05' },
    ]);
    assert.deepEqual(robustnessWindows({ searchPeriod: { startDate: '2019-12-05', endDate: '2024-12-05' }, training, backtest, count: 2 }), []);
  });
});

describe('promotion decision', () => {
  test('PSR against zero matches the hand-computed values', () => {
    // Sharpe 0.25 over 6,201 hourly bars: SR = 0.25/√252 = 0.0157485, √6199 = 78.7337, √(1 + SR²/2) = 1.0000620,
    // z = 1.23990, Φ(z) = 0.89249. Sharpe 0.27: z = 1.33906, Φ = 0.90972. Sharpe 0.5: Φ = 0.99342.
    assert.ok(Math.abs(psrAgainstZero({ sharpe: 0.25, bars: 6201, startDate: '2025-12-06', endDate: '2026-12-05' })! - 0.89249) < 5e-4);
    assert.ok(Math.abs(psrAgainstZero({ sharpe: 0.27, bars: 6201, startDate: '2025-12-06', endDate: '2026-12-05' })! - 0.90972) < 5e-4);
    assert.ok(Math.abs(psrAgainstZero({ sharpe: 0.5, bars: 6201, startDate: '2025-12-06', endDate: '2026-12-05' })! - 0.99342) < 5e-4);
    assert.equal(psrAgainstZero({ sharpe: null, bars: 6201, startDate: '2025-12-06', endDate: '2026-12-05' }), null);
  });

  const lockbox = (sharpe: number, gatePassed = true) => ({
    gatePassed,
    gateReason: gatePassed ? null : 'win_rate 0.05 < 0.1',
    sharpe,
    psr: psrAgainstZero({ sharpe, bars: 6201, startDate: '2025-12-06', endDate: '2026-12-05' }),
  });

  test('promoted at lockbox PSR 0.9097 >= 0.90 with a positive robustness median; rejected at 0.8925, naming why', () => {
    const promoted = decidePromotion({ lockbox: lockbox(0.27), robustnessSharpes: [0.4, -0.1], minLockboxPsr: 0.9 });
    assert.equal(promoted.promoted, true);
    assert.match(promoted.reason, /PSR 0\.910 >= 0\.9; robustness median Sharpe 0\.15 > 0/);
    const rejected = decidePromotion({ lockbox: lockbox(0.25), robustnessSharpes: [0.4, 0.3], minLockboxPsr: 0.9 });
    assert.equal(rejected.promoted, false);
    assert.equal(rejected.reason, 'lockbox PSR 0.892 < 0.9');
  });

  test('a lockbox that fails the backtest gate, or a robustness median at or under zero, rejects', () => {
    const gate = decidePromotion({ lockbox: lockbox(0.5, false), robustnessSharpes: [0.4, 0.3], minLockboxPsr: 0.9 });
    assert.equal(gate.promoted, false);
    assert.match(gate.reason, /failed the backtest gate \(win_rate 0\.05 < 0\.1\)/);
    const median0 = decidePromotion({ lockbox: lockbox(0.5), robustnessSharpes: [0.3, -0.3], minLockboxPsr: 0.9 });
    assert.equal(median0.reason, 'robustness median Sharpe 0.00 is not positive');
    const none = decidePromotion({ lockbox: lockbox(0.5), robustnessSharpes: [null], minLockboxPsr: 0.9 });
    assert.equal(none.reason, 'no robustness window gave a Sharpe ratio');
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([]), null);
  });
});
