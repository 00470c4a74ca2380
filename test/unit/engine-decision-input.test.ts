import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision } from '../../src/core/engine/decide.ts';
import type { Session } from '../../src/core/db/repositories/sessions.ts';
import {
  canInvoke,
  decisionConfig,
  decisionInputFor,
  MAX_INVOCATION_ATTEMPTS,
  minimumCallUsd,
  whilePaused,
  type DecisionSettings,
  type InvocationBudgetSettings,
} from '../../src/core/engine/decision-input.ts';
import { FIRST_REQUEST_INPUT_TOKENS } from '../../src/core/budget/can-invoke.ts';

const settings: DecisionSettings = {
  GATE_TRAINING_MIN_ACCURACY: 0.11,
  GATE_TRAINING_MAX_LOSS: 0.82,
  GATE_TRAINING_MIN_LOSS_REDUCTION: -0.53,
  GATE_TRAINING_MIN_DIRECTIONAL_ACCURACY: 0.54,
  GATE_BACKTEST_MIN_WIN_RATE: 0.15,
  GATE_BACKTEST_MAX_DRAWDOWN: 0.46,
  GATE_BACKTEST_MIN_SHARPE: -0.57,
  GATE_BACKTEST_MIN_DSR: undefined,
  AGENT_RESUME_MAX_ATTEMPTS: 3,
  AGENT_STALL_QUEUED_MINUTES: 20,
  AGENT_STALL_RESUMING_MINUTES: 10,
  AGENT_STALL_ZERO_PROGRESS_MINUTES: 7,
  AGENT_STALL_TIMEOUT_MINUTES: 60,
};

const phaseStartedAt = new Date('2026-03-01T10:00:00Z');
const now = new Date('2026-03-01T12:00:00Z');

function session(overrides: Partial<Session> = {}): Session {
  return {
    id: 7,
    phase: 'training',
    designer: 'baseline',
    strategyName: 's',
    strategyConfig: null,
    strategyFilePath: null,
    trainingOperationId: 'op_t',
    backtestOperationId: null,
    trainingParams: null,
    backtestParams: null,
    trainingResults: null,
    backtestResults: null,
    trainingGate: null,
    backtestGate: null,
    assessment: null,
    outcome: null,
    failureReason: null,
    operationProgress: null,
    progressChangedAt: null,
    resumeAttempts: 1,
    invocationAttempts: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    tokensInput: 0,
    tokensOutput: 0,
    tokensCacheRead: 0,
    tokensCacheWrite: 0,
    costUsd: 0,
    phaseStartedAt,
    phaseHistory: [],
    createdAt: phaseStartedAt,
    updatedAt: phaseStartedAt,
    completedAt: null,
    ...overrides,
  };
}

describe('decisionConfig: the settings as decide() reads them', () => {
  test('every gate and limit comes from its setting; minutes become milliseconds; an unset DSR gate is null', () => {
    assert.deepEqual(decisionConfig(settings), {
      gates: {
        trainingMinAccuracy: 0.11,
        trainingMaxLoss: 0.82,
        trainingMinLossReduction: -0.53,
        trainingMinDirectionalAccuracy: 0.54,
        backtestMinWinRate: 0.15,
        backtestMaxDrawdown: 0.46,
        backtestMinSharpe: -0.57,
        backtestMinDsr: null,
      },
      resumeMaxAttempts: 3,
      stall: { queuedMs: 1_200_000, resumingMs: 600_000, runningAtZeroMs: 420_000, runningMs: 3_600_000 },
      maxInvocationAttempts: 2,
    });
    assert.equal(decisionConfig({ ...settings, GATE_BACKTEST_MIN_DSR: 0.95 }).gates.backtestMinDsr, 0.95);
  });

  test('an invocation that died with its process is retried once: two attempts in all', () => {
    assert.equal(MAX_INVOCATION_ATTEMPTS, 2);
  });
});

describe('decisionInputFor: a polled session as decide() sees it', () => {
  const base = {
    observation: { kind: 'none' } as const,
    trainingResult: null,
    backtestResult: null,
    waitingForBatch: false,
    canInvoke: true,
    now,
    settings,
  };

  test('an ended (idle) session has no next step: decide() is never asked about one', () => {
    assert.throws(() => decisionInputFor({ ...base, session: session({ phase: 'idle', outcome: 'success' }) }), /has ended/);
  });

  test('the session snapshot copies what decide() reads, and the pass never tells decide() of a pause', () => {
    const lease = new Date('2026-03-01T12:05:00Z');
    const input = decisionInputFor({ ...base, session: session({ leaseExpiresAt: lease, invocationAttempts: 1 }), waitingForBatch: true, canInvoke: false });
    assert.deepEqual(input.session, {
      id: 7,
      phase: 'training',
      trainingOperationId: 'op_t',
      backtestOperationId: null,
      resumeAttempts: 1,
      invocationAttempts: 1,
      leaseExpiresAt: lease,
      progressChangedAt: phaseStartedAt,
      waitingForBatch: true,
      lastProgress: null,
    });
    assert.equal(input.canInvoke, false);
    assert.equal(input.now, now);
    assert.deepEqual(input.operation, { kind: 'none' });
    assert.deepEqual(input.config, decisionConfig(settings));
  });

  test('progress never changed counts from the phase start; a changed one from its own time', () => {
    const changed = new Date('2026-03-01T11:00:00Z');
    assert.equal(decisionInputFor({ ...base, session: session() }).session.progressChangedAt, phaseStartedAt);
    assert.equal(decisionInputFor({ ...base, session: session({ progressChangedAt: changed }) }).session.progressChangedAt, changed);
  });

  test('the last progress seen: its time parsed; an older row without status or time reads them as null', () => {
    const seen = decisionInputFor({
      ...base,
      session: session({ operationProgress: { percentage: 40, currentStep: 'Epoch 4/10', seenAt: '2026-03-01T11:55:00.000Z', status: 'running' } }),
    });
    assert.deepEqual(seen.session.lastProgress, { percentage: 40, currentStep: 'Epoch 4/10', seenAt: new Date('2026-03-01T11:55:00Z'), status: 'running' });
    // A row written before the status and the time of a poll were stored.
    const older = { percentage: null, currentStep: null } as unknown as Session['operationProgress'];
    const bare = decisionInputFor({ ...base, session: session({ operationProgress: older }) });
    assert.deepEqual(bare.session.lastProgress, { percentage: null, currentStep: null, seenAt: null, status: null });
  });

  test('the results go through as polled', () => {
    const trainingResult = { accuracy: 0.6, finalLoss: 0.3, lossReduction: 0.2 };
    const backtestResult = { winRate: 0.5, maxDrawdown: 0.1, sharpe: 1, deflatedSharpe: 0.9 };
    const input = decisionInputFor({ ...base, session: session(), trainingResult, backtestResult });
    assert.equal(input.trainingResult, trainingResult);
    assert.equal(input.backtestResult, backtestResult);
  });
});

describe('whilePaused: a paused pass only records progress', () => {
  const decisions: Decision[] = [
    { action: 'skip', trigger: 'operation_still_running', skipReason: 'ktrdr_unreachable' },
    { action: 'resume_operation', trigger: 'training_failed', operationId: 'op', errorMessage: null },
    { action: 'restart_operation', trigger: 'backtest_failed', operationId: 'op', stallCase: 'queued', reason: 'r' },
    { action: 'fail', trigger: 'training_completed', outcome: 'failed_training', reason: 'r' },
    { action: 'invoke', trigger: 'start_new_cycle', purpose: 'design', retry: false },
  ];
  for (const decision of decisions) {
    test(`${decision.action} becomes a skip for the pause`, () => {
      assert.deepEqual(whilePaused(decision), { action: 'skip', trigger: 'paused', skipReason: 'paused' });
    });
  }
  test('record_progress stays, so the no-progress clocks stay true', () => {
    const progress: Decision = {
      action: 'record_progress',
      trigger: 'operation_still_running',
      progress: { percentage: 3, currentStep: null, status: 'running' },
      changed: true,
    };
    assert.equal(whilePaused(progress), progress);
  });
});

describe('canInvoke: what is left above the buffer must pay for the cheapest call', () => {
  // $3/MTok in (a cache write costs the same), $15/MTok out, and the 1.1x of a call that may run in the US.
  const budget: InvocationBudgetSettings = {
    AGENT_BUDGET_ENFORCEMENT: true,
    AGENT_BUDGET_BUFFER_USD: 0.5,
    AGENT_MODEL: 'test-model',
    AGENT_MODEL_PRICES: JSON.stringify({ 'test-model': { input: 3, output: 15, cacheWrite: 3 } }),
    AGENT_MAX_TOKENS: 1_000,
  };

  test('the cheapest call is the worst case of a first request of 6,000 input tokens', () => {
    assert.equal(FIRST_REQUEST_INPUT_TOKENS, 6_000);
    // (6,000 × $3 + 1,000 × $15) / 1M × 1.1 = $0.0363.
    assert.ok(Math.abs(minimumCallUsd(budget) - 0.0363) < 1e-9, String(minimumCallUsd(budget)));
  });

  test('claude with enforcement: spendable must be positive and at least one call', () => {
    const call = minimumCallUsd(budget);
    assert.equal(canInvoke({ designerKind: 'claude', remainingUsd: 0.5 + call, settings: budget }), true);
    assert.equal(canInvoke({ designerKind: 'claude', remainingUsd: 0.5 + call - 0.001, settings: budget }), false);
    assert.equal(canInvoke({ designerKind: 'claude', remainingUsd: 0.5, settings: budget }), false);
    assert.equal(canInvoke({ designerKind: 'claude', remainingUsd: 0, settings: budget }), false);
  });

  test('the baseline designer, or enforcement off, can always invoke', () => {
    assert.equal(canInvoke({ designerKind: 'baseline', remainingUsd: 0, settings: budget }), true);
    assert.equal(canInvoke({ designerKind: 'claude', remainingUsd: 0, settings: { ...budget, AGENT_BUDGET_ENFORCEMENT: false } }), true);
  });
});
