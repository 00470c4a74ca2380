import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  deflatedSharpe,
  deflatedSharpeOfBacktest,
  EULER_MASCHERONI,
  expectedMaxSharpe,
  normalCdf,
  normalQuantile,
  observationsInWindow,
  probabilisticSharpe,
} from '../../src/core/research/deflated-sharpe.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

describe('deflated Sharpe ratio (Bailey & López de Prado 2014)', () => {
  test('Φ and Φ⁻¹ against table values', () => {
    close(normalCdf(0), 0.5, 1e-7, 'Φ(0)');
    close(normalCdf(1.959963985), 0.975, 1e-7, 'Φ(1.96)');
    close(normalCdf(-1), 0.158655254, 1e-7, 'Φ(-1)');
    close(normalQuantile(0.99), 2.326347874, 1e-6, 'Φ⁻¹(0.99)');
    close(normalQuantile(0.5), 0, 1e-6, 'Φ⁻¹(0.5)');
    close(normalQuantile(0.001), -3.090232306, 1e-6, 'Φ⁻¹(0.001)');
  });

  test("the paper's numerical example: N=100, V=1/2 annualised, SR=2.5 annualised, T=1250, γ3=−3, γ4=10", () => {
    // By hand, per observation (250 days a year, as in the paper): SR^ = 2.5/√250 = 0.158114, √V = √(0.5/250) = 0.044721.
    // Φ⁻¹(1 − 1/100) = 2.326348, Φ⁻¹(1 − 1/(100e)) = 2.680210.
    // SR0 = 0.044721 × ((1 − 0.577216) × 2.326348 + 0.577216 × 2.680210) = 0.044721 × 2.530608 = 0.113172.
    // z = (0.158114 − 0.113172) × √1249 / √(1 + 3 × 0.158114 + (10 − 1)/4 × 0.158114²) = 1.588270 / 1.236467 = 1.284526 → Φ(z) = 0.900396.
    // The paper reports SR0 ≈ 0.1132 and DSR ≈ 0.9004.
    const sharpe = 2.5 / Math.sqrt(250);
    const variance = 0.5 / 250;
    const sr0 = Math.sqrt(variance) * ((1 - EULER_MASCHERONI) * 2.326348 + EULER_MASCHERONI * 2.68021);
    close(sr0, 0.113172, 2e-6, 'SR0 by hand');
    const result = deflatedSharpe({ sharpe, observations: 1250, skew: -3, kurtosis: 10, trials: 100, variance });
    close(result.expectedMaxSharpe, 0.113172, 1e-5, 'expected maximum Sharpe');
    close(result.dsr, 0.9004, 1e-4, 'DSR');
  });

  test('one trial: the benchmark is zero and the DSR is the PSR against zero', () => {
    assert.equal(expectedMaxSharpe(1, 0.01), 0);
    // By hand: SR = 0.05, T = 253, normal returns: z = 0.05 × √252 / √(1 + 0.5 × 0.0025) = 0.793725 / 1.000625 = 0.793229 → Φ = 0.786177.
    close(probabilisticSharpe({ sharpe: 0.05, benchmark: 0, observations: 253, skew: 0, kurtosis: 3 }), 0.786177, 1e-5, 'PSR');
  });

  test('more trials raise the bar: the same backtest deflates as its family grows', () => {
    const one = deflatedSharpe({ sharpe: 0.1, observations: 252, skew: 0, kurtosis: 3, trials: 2, variance: 0.001 }).dsr;
    const many = deflatedSharpe({ sharpe: 0.1, observations: 252, skew: 0, kurtosis: 3, trials: 1000, variance: 0.001 }).dsr;
    assert.ok(many < one, `${many} should be below ${one}`);
  });

  test("KTRDR's annualised Sharpe and window become the paper's inputs", () => {
    // 366 calendar days × 252/365.25 = 252.5 → 253 trading days.
    assert.equal(observationsInWindow('2024-01-01', '2024-12-31'), 253);
    // Two trials with annualised Sharpe 1 and 2: per-observation variance = 0.5/252; candidate 2/√252 over 253 days.
    const result = deflatedSharpeOfBacktest({ sharpe: 2, startDate: '2024-01-01', endDate: '2024-12-31', family: { n: 2, sum: 3, sumSquares: 5 } })!;
    const expected = deflatedSharpe({ sharpe: 2 / Math.sqrt(252), observations: 253, skew: 0, kurtosis: 3, trials: 2, variance: 0.5 / 252 });
    assert.equal(result.trials, 2);
    close(result.dsr, expected.dsr, 1e-12, 'DSR from KTRDR figures');
    assert.equal(deflatedSharpeOfBacktest({ sharpe: null, startDate: '2024-01-01', endDate: '2024-12-31', family: { n: 1, sum: 0, sumSquares: 0 } }), null);
  });

  test('the observations are the returns KTRDR computed its Sharpe from: one per bar, so an hourly year counts its bars', () => {
    // One trial, so the benchmark is 0: DSR = PSR = Φ(SR·√(T−1) / √(1 − γ3·SR + (γ4−1)/4·SR²)) with SR = 0.2/√252,
    // T = 6,000 returns (6,001 bars), γ3 = 0, γ4 = 3: z = 0.975780, Φ(z) = 0.835413 (computed by hand from eq. 2).
    const hourly = deflatedSharpeOfBacktest({
      sharpe: 0.2,
      bars: 6001,
      startDate: '2024-01-01',
      endDate: '2024-12-31',
      family: { n: 1, sum: 0.2, sumSquares: 0.04 },
    })!;
    close(hourly.dsr, 0.835413, 1e-6, 'DSR of an hourly backtest');
    // The same Sharpe over the window's 253 trading days (no bar count given): z = 0.2 / √(1 + SR²/2) = 0.199992, Φ = 0.579257.
    const windowOnly = deflatedSharpeOfBacktest({ sharpe: 0.2, startDate: '2024-01-01', endDate: '2024-12-31', family: { n: 1, sum: 0.2, sumSquares: 0.04 } })!;
    close(windowOnly.dsr, 0.579257, 1e-6, 'DSR from the window alone');
  });
});
