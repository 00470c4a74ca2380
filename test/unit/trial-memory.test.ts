// The memory tells the designer why designs failed, and shows a DSR only with its trial count: the classifier reads
// the design tools' own refusals (built here by the same functions the tools use), and experimentLine renders them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeRun } from '../../src/core/agent/tools/design.ts';
import { experimentLine } from '../../src/core/agent/memory-section.ts';
import { describeClaimRefusal } from '../../src/core/db/repositories/design-claims.ts';
import type { Experiment } from '../../src/core/db/repositories/experiments.ts';
import { familyLine, trialsSection } from '../../src/core/cli/views/report/section-trials.ts';
import { expectedMaxOfFamily } from '../../src/core/db/read-models/trials.ts';
import { DSR_MEANINGFUL_TRIALS, expectedMaxSharpe, KTRDR_ANNUALISATION } from '../../src/core/research/deflated-sharpe.ts';
import { classifyDesignFailure } from '../../src/core/research/design-failure.ts';
import { formatFindings } from '../../src/core/strategy/validate.ts';

function experiment(overrides: Partial<Experiment>): Experiment {
  return {
    id: 12,
    sessionId: 9,
    outcome: 'success',
    designer: 'claude',
    model: null,
    strategyName: 'rsi_a',
    strategy: null,
    fingerprint: 'a'.repeat(64),
    indicatorTypes: ['rsi'],
    indicatorKey: 'rsi',
    labelSource: 'zigzag',
    labelThreshold: 0.02,
    architecture: '32x16',
    symbol: 'EURUSD',
    timeframe: '1h',
    symbols: ['EURUSD'],
    timeframes: ['1h'],
    trainingWindow: { startDate: '2020-01-01', endDate: '2022-12-31' },
    backtestWindow: { startDate: '2023-01-01', endDate: '2023-12-31' },
    trainingGate: null,
    backtestGate: null,
    gateFailed: null,
    failedChecks: [],
    failureReason: null,
    trainingMetrics: null,
    backtestMetrics: null,
    accuracy: 0.55,
    finalLoss: 0.6,
    lossReduction: null,
    sharpe: 1.2,
    winRate: 0.52,
    maxDrawdown: 0.1,
    totalTrades: 80,
    totalReturnPct: null,
    deflatedSharpe: 1,
    dsrTrials: 1,
    score: 1.2,
    assessment: null,
    verdict: null,
    tokensInput: 0,
    tokensOutput: 0,
    costUsd: 0,
    hypothesisId: null,
    exploration: false,
    parentExperimentId: null,
    startedAt: null,
    completedAt: new Date('2026-12-01T00:00:00Z'),
    designFailure: null,
    ...overrides,
  };
}

describe("why a design failed, from the design tools' refusals", () => {
  test('a refused duplicate names the experiment it repeats', () => {
    const earlier = experiment({ id: 5, sessionId: 4, outcome: 'failed_training_gate', failureReason: 'training gate: final_loss 0.95 > 0.8' });
    const refusal = `strategy not saved: this design (fingerprint abcdef012345) was already run: ${describeRun(earlier)}. Change what it computes, or give a training_window not run yet; renaming it does not make it new.`;
    const failure = classifyDesignFailure(refusal, 'the design invocation ended without its effect (end_turn: done).');
    assert.equal(failure.kind, 'duplicate');
    assert.ok(
      failure.detail.startsWith(
        'repeats experiment #5 (session #4) on EURUSD 1h, training 2020-01-01..2022-12-31, backtest 2023-01-01..2023-12-31: failed_training_gate (training gate: final_loss 0.95 > 0.8); accuracy 55.0%',
      ),
      failure.detail,
    );
    assert.ok(failure.detail.length <= 200 && !failure.detail.includes('Change what it computes'), failure.detail);
    const training = `this design was already trained on this window: ${describeRun(earlier)}. Choose another window, or go back and change the design.`;
    assert.match(classifyDesignFailure(training, null).detail, /^repeats experiment #5 \(session #4\)/);
  });

  test("an invalid design gives its first error; KTRDR's refusal its first problem; a claim the live session", () => {
    const findings = formatFindings([
      { severity: 'warning', path: 'description', message: 'is empty' },
      { severity: 'error', path: 'indicators.rsi_14.period', message: 'must be at least 2 (got 1)' },
      { severity: 'error', path: 'nn_inputs[0].fuzzy_set', message: 'names no fuzzy set' },
    ] as never);
    assert.deepEqual(classifyDesignFailure(`strategy not saved:\n${findings}\nSee the registry.`, null), {
      kind: 'invalid',
      detail: 'first error: indicators.rsi_14.period: must be at least 2 (got 1)',
    });
    assert.deepEqual(classifyDesignFailure('invalid input for save_strategy_config: name: Required; config: Required', null), {
      kind: 'invalid',
      detail: 'first error: name: Required',
    });
    assert.deepEqual(classifyDesignFailure('KTRDR rejected the strategy (not saved):\n- unknown indicator type foo\n- second\nFix it and save again.', null), {
      kind: 'ktrdr_rejected',
      detail: 'KTRDR rejected it: unknown indicator type foo',
    });
    const claim = { fingerprint: 'b'.repeat(64), symbol: 'EURUSD', timeframe: '1h', window: null };
    const live = `strategy not saved: ${describeClaimRefusal({ sessionId: 31, phase: 'training', window: null }, claim)}`;
    assert.deepEqual(classifyDesignFailure(live, null), { kind: 'in_flight', detail: 'the same design was running in session #31' });
    assert.equal(classifyDesignFailure('training not started: EURUSD 1h data covers only 2021-01-01..2021-02-01 (500 bars)', null).kind, 'refused');
    assert.deepEqual(classifyDesignFailure(null, 'the design invocation ended without its effect (max_turns: 12 turns).'), {
      kind: 'not_saved',
      detail: 'the design invocation ended without its effect (max_turns: 12 turns).',
    });
  });
});

describe('memory lines', () => {
  test('a failed design shows its reason, not "(unsaved) [(no indicators)] ? ?"', () => {
    const failed = experiment({
      outcome: 'failed_design',
      strategyName: null,
      indicatorKey: null,
      indicatorTypes: [],
      symbol: null,
      timeframe: null,
      sharpe: null,
      accuracy: null,
      designFailure: { kind: 'duplicate', detail: 'repeats experiment #5 (session #4) on EURUSD 1h' },
    });
    assert.equal(experimentLine(failed), '- #12 design failed: repeats experiment #5 (session #4) on EURUSD 1h');
    const old = experiment({
      outcome: 'failed_design',
      strategyName: null,
      indicatorKey: null,
      symbol: null,
      timeframe: null,
      sharpe: null,
      accuracy: null,
      failureReason: 'the design invocation ended\nwithout its effect',
    });
    assert.equal(experimentLine(old), '- #12 design failed: the design invocation ended without its effect');
  });

  test('a DSR is shown over the family now with its trial count, and only once the family has enough trials', () => {
    const e = experiment({});
    assert.doesNotMatch(experimentLine(e), /DSR/, 'the stored "DSR 1.00" of one trial is never shown');
    assert.doesNotMatch(experimentLine(e, { dsr: 0.97, trials: DSR_MEANINGFUL_TRIALS - 1, expectedMaxSharpe: 0.4 }), /DSR/);
    assert.match(experimentLine(e, { dsr: 0.42, trials: 60, expectedMaxSharpe: 0.5 }), /\(sharpe 1\.20, DSR 0\.42 of 60 trials, win 52\.0%/);
  });
});

describe("the report's family line", () => {
  test('trials, the expected best of that many no-edge trials (hand-computed), and the best found', () => {
    // Sharpes 0.3, -0.2, 0.9: mean 1/3, sample variance (0.94 − 1/3) / 2 = 0.30333 (annualised units).
    const family = { n: 3, sum: 1.0, sumSquares: 0.94 };
    const expected = expectedMaxSharpe(3, 0.30333333333333334 / KTRDR_ANNUALISATION) * Math.sqrt(KTRDR_ANNUALISATION);
    assert.ok(Math.abs(expectedMaxOfFamily(family) - expected) < 1e-12);
    // √0.30333 · ((1 − γ)·Φ⁻¹(2/3) + γ·Φ⁻¹(1 − 1/(3e))) = 0.5508 · (0.4228·0.4307 + 0.5772·1.1618) ≈ 0.4697
    assert.ok(Math.abs(expected - 0.4697) < 5e-4, `expected max ${expected}`);
    assert.equal(
      familyLine({ symbol: 'EURUSD', timeframe: '1h', trials: 3, expectedMaxSharpe: expected, bestSharpe: 0.9, bestScore: null, bestExperimentId: 7 }),
      'EURUSD 1h: 3 trials; the best of 3 no-edge trials would be expected to reach Sharpe 0.47; best found 0.90 (#7)',
    );
    assert.match(trialsSection.render({} as never, []), /Nothing yet: no experiment has reached a backtest/);
    assert.match(
      familyLine({ symbol: 'GBPUSD', timeframe: '4h', trials: 1, expectedMaxSharpe: 0, bestSharpe: 0.2, bestScore: 0.2, bestExperimentId: 2 }),
      /^GBPUSD 4h: 1 trial; too few trials .*; best that passed both gates 0\.20$/,
    );
  });
});
