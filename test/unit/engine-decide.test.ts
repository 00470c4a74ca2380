import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, type DecisionInput, type OperationObservation } from '../../src/core/engine/decide.ts';
import { evaluateBacktestGate, evaluateTrainingGate, type GateThresholds } from '../../src/core/engine/gates.ts';

const gates: GateThresholds = {
  trainingMinAccuracy: 0.45,
  trainingMaxLoss: 0.8,
  trainingMinLossReduction: 0.2,
  backtestMinWinRate: 0.45,
  backtestMaxDrawdown: 0.4,
  backtestMinSharpe: -0.5,
};
const now = new Date('2026-11-24T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

const goodTraining = { accuracy: 0.55, finalLoss: 0.6, lossReduction: 0.35 };
const badTraining = { accuracy: 0.34, finalLoss: 1.09, lossReduction: 0.01 };
const goodBacktest = { winRate: 0.52, maxDrawdown: 0.15, sharpe: 0.9 };
const badBacktest = { winRate: 0.412, maxDrawdown: 0.15, sharpe: 0.9 };

type Phase = DecisionInput['session']['phase'];
type Lease = 'none' | 'live' | 'expired';
const phases: Phase[] = ['designing', 'training', 'backtesting', 'assessing'];
const statuses = ['pending', 'running', 'resuming', 'completed', 'failed', 'cancelled', 'unreachable', 'not_found'] as const;
const leases: Lease[] = ['none', 'live', 'expired'];

function input(options: {
  phase: Phase;
  status: (typeof statuses)[number];
  gatePasses: boolean;
  canInvoke: boolean;
  paused: boolean;
  lease: Lease;
  attempts?: number;
  resumeAttempts?: number;
  stalled?: boolean;
}): DecisionInput {
  const operation: OperationObservation =
    options.status === 'unreachable'
      ? { kind: 'unreachable', error: 'ECONNREFUSED' }
      : options.status === 'not_found'
        ? { kind: 'not_found' }
        : { kind: 'status', status: options.status, percentage: 40, currentStep: 'Epoch 20/50', errorMessage: options.status === 'failed' ? 'CUDA out of memory' : null };
  return {
    session: {
      id: 7,
      phase: options.phase,
      trainingOperationId: 'op_t',
      backtestOperationId: 'op_b',
      resumeAttempts: options.resumeAttempts ?? 0,
      invocationAttempts: options.attempts ?? (options.lease === 'none' ? 0 : 1),
      leaseExpiresAt: options.lease === 'none' ? null : options.lease === 'live' ? new Date(now.getTime() + 60_000) : minutesAgo(1),
      progressChangedAt: options.stalled ? minutesAgo(120) : minutesAgo(1),
      lastProgress: options.stalled
        ? { percentage: 40, currentStep: 'Epoch 20/50', seenAt: minutesAgo(5) }
        : { percentage: 30, currentStep: 'Epoch 15/50', seenAt: minutesAgo(5) },
    },
    operation,
    trainingResult: options.status === 'completed' && options.phase === 'training' ? (options.gatePasses ? goodTraining : badTraining) : null,
    backtestResult: options.status === 'completed' && options.phase === 'backtesting' ? (options.gatePasses ? goodBacktest : badBacktest) : null,
    canInvoke: options.canInvoke,
    paused: options.paused,
    now,
    config: { gates, resumeMaxAttempts: 2, stallTimeoutMs: 60 * 60_000, maxInvocationAttempts: 2 },
  };
}

describe('decide: every phase x operation status x gate x budget x paused x lease', () => {
  for (const phase of phases)
    for (const status of statuses)
      for (const gatePasses of [true, false])
        for (const canInvoke of [true, false])
          for (const paused of [true, false])
            for (const lease of leases) {
              test(`${phase} ${status} gate=${gatePasses} budget=${canInvoke} paused=${paused} lease=${lease}`, () => {
                const decision = decide(input({ phase, status, gatePasses, canInvoke, paused, lease }));
                if (paused) {
                  assert.deepEqual(decision, { action: 'skip', trigger: 'paused', skipReason: 'paused' });
                  return;
                }
                if (phase === 'designing' || phase === 'assessing') {
                  // These phases poll nothing: only the lease and the budget matter.
                  if (lease === 'live') assert.equal(decision.action === 'skip' && decision.skipReason, 'invocation_in_progress');
                  else if (!canInvoke) assert.equal(decision.action === 'skip' && decision.skipReason, 'budget_exceeded');
                  else assert.equal(decision.action, 'invoke');
                  return;
                }
                if (phase === 'training' && lease === 'live') {
                  assert.equal(decision.action === 'skip' && decision.skipReason, 'invocation_in_progress');
                  return;
                }
                const failedOutcome = phase === 'training' ? 'failed_training' : 'failed_backtest';
                switch (status) {
                  case 'unreachable':
                    assert.equal(decision.action === 'skip' && decision.skipReason, 'ktrdr_unreachable');
                    return;
                  case 'not_found':
                  case 'cancelled':
                    assert.equal(decision.action, 'fail');
                    assert.equal(decision.action === 'fail' && decision.outcome, failedOutcome);
                    return;
                  case 'failed':
                    assert.equal(decision.action, 'resume_operation');
                    return;
                  case 'pending':
                  case 'running':
                  case 'resuming':
                    assert.equal(decision.action, 'record_progress');
                    return;
                  case 'completed':
                    if (!gatePasses) {
                      assert.equal(decision.action, 'fail');
                      assert.equal(decision.action === 'fail' && decision.outcome, phase === 'training' ? 'failed_training_gate' : 'failed_backtest_gate');
                      return;
                    }
                    if (phase === 'backtesting') {
                      assert.equal(decision.action, 'enter_assessing');
                      assert.equal(decision.action === 'enter_assessing' && decision.invoke, canInvoke);
                      return;
                    }
                    if (!canInvoke) assert.equal(decision.action === 'skip' && decision.skipReason, 'budget_exceeded');
                    else assert.equal(decision.action === 'invoke' && decision.purpose, 'backtest');
                    return;
                }
              });
            }
});

describe('decide: recovery rules', () => {
  test('an invocation that died twice fails the session with the phase outcome', () => {
    const design = decide(input({ phase: 'designing', status: 'running', gatePasses: true, canInvoke: true, paused: false, lease: 'expired', attempts: 2 }));
    assert.equal(design.action === 'fail' && design.outcome, 'failed_design');
    const assess = decide(input({ phase: 'assessing', status: 'running', gatePasses: true, canInvoke: true, paused: false, lease: 'expired', attempts: 2 }));
    assert.equal(assess.action === 'fail' && assess.outcome, 'failed_assessment');
  });

  test('an expired lease with one attempt is retried once', () => {
    const decision = decide(input({ phase: 'designing', status: 'running', gatePasses: true, canInvoke: true, paused: false, lease: 'expired', attempts: 1 }));
    assert.deepEqual(decision, { action: 'invoke', trigger: 'start_new_cycle', purpose: 'design', retry: true });
  });

  test('a failed operation is resumed up to the limit, then the session fails with KTRDR error message', () => {
    const decision = decide(input({ phase: 'training', status: 'failed', gatePasses: true, canInvoke: true, paused: false, lease: 'none', resumeAttempts: 2 }));
    assert.equal(decision.action, 'fail');
    assert.match(decision.action === 'fail' ? decision.reason : '', /CUDA out of memory/);
  });

  test('a stalled operation is cancelled and the session failed', () => {
    const decision = decide(input({ phase: 'backtesting', status: 'running', gatePasses: true, canInvoke: true, paused: false, lease: 'none', stalled: true }));
    assert.equal(decision.action, 'fail');
    assert.equal(decision.action === 'fail' && decision.cancelOperationId, 'op_b');
    assert.match(decision.action === 'fail' ? decision.reason : '', /stalled: no progress for 120 min/);
  });

  test('no progress across a gap in observation (KTRDR down, paused) is not a stall', () => {
    const base = input({ phase: 'training', status: 'running', gatePasses: true, canInvoke: true, paused: false, lease: 'none', stalled: true });
    const decision = decide({ ...base, session: { ...base.session, lastProgress: { percentage: 40, currentStep: 'Epoch 20/50', seenAt: minutesAgo(90) } } });
    assert.equal(decision.action, 'record_progress');
    assert.equal(decision.action === 'record_progress' && decision.changed, true);
  });

  test('a queued (pending) operation is never a stall', () => {
    const decision = decide(input({ phase: 'training', status: 'pending', gatePasses: true, canInvoke: true, paused: false, lease: 'none', stalled: true }));
    assert.equal(decision.action, 'record_progress');
  });

  test('a training that passed its gate without a model path fails before any invocation', () => {
    const base = input({ phase: 'training', status: 'completed', gatePasses: true, canInvoke: true, paused: false, lease: 'none' });
    const decision = decide({ ...base, trainingResult: { ...goodTraining, modelPath: null } });
    assert.equal(decision.action === 'fail' && decision.outcome, 'failed_training');
  });

  test('progress that moved is recorded as a change', () => {
    const decision = decide(input({ phase: 'training', status: 'running', gatePasses: true, canInvoke: true, paused: false, lease: 'none' }));
    assert.equal(decision.action === 'record_progress' && decision.changed, true);
  });
});

describe('gates', () => {
  test('reasons name the value and the threshold', () => {
    const gate = evaluateBacktestGate(badBacktest, gates);
    assert.equal(gate.passed, false);
    assert.equal(gate.reason, 'win_rate 41.2% < 45%');
  });

  test('a missing metric fails the gate', () => {
    const gate = evaluateTrainingGate({ accuracy: null, finalLoss: 0.5, lossReduction: 0.3 }, gates);
    assert.equal(gate.passed, false);
    assert.match(gate.reason ?? '', /accuracy missing/);
  });

  test('boundaries pass: values equal to the thresholds', () => {
    assert.equal(evaluateTrainingGate({ accuracy: 0.45, finalLoss: 0.8, lossReduction: 0.2 }, gates).passed, true);
    assert.equal(evaluateBacktestGate({ winRate: 0.45, maxDrawdown: 0.4, sharpe: -0.5 }, gates).passed, true);
  });

  test('every failing check is reported', () => {
    const gate = evaluateTrainingGate(badTraining, gates);
    assert.equal(gate.checks.filter((c) => !c.passed).length, 3);
    assert.match(gate.reason ?? '', /accuracy 34% < 45%; final_loss 1.09 > 0.80; loss_reduction 1% < 20%/);
  });
});

describe('gate reasons show the digits that make the comparison true', () => {
  test('a value that rounds onto its threshold gets more digits', () => {
    assert.equal(evaluateTrainingGate({ accuracy: 0.4499, finalLoss: 0.8049, lossReduction: 0.35 }, gates).reason, 'accuracy 44.99% < 45%; final_loss 0.805 > 0.80');
    assert.equal(
      evaluateBacktestGate({ winRate: 0.5, maxDrawdown: 0.40001, sharpe: -0.5000001 }, gates).reason,
      'max_drawdown 40.001% > 40%; sharpe -0.5000001 < -0.50',
    );
  });

  test('a value far from its threshold keeps the short form', () => {
    assert.equal(evaluateTrainingGate({ accuracy: 0.34, finalLoss: 1.09, lossReduction: 0.01 }, gates).reason, 'accuracy 34% < 45%; final_loss 1.09 > 0.80; loss_reduction 1% < 20%');
    assert.equal(evaluateBacktestGate({ winRate: 0.412, maxDrawdown: 0.15, sharpe: 0.9 }, gates).reason, 'win_rate 41.2% < 45%');
  });

  test('every failed reason reads true: the shown value is on the failing side of the shown threshold', () => {
    for (let i = 1; i < 2000; i += 1) {
      const loss = 0.8 + i / 1e7;
      const reason = evaluateTrainingGate({ accuracy: 0.5, finalLoss: loss, lossReduction: 0.5 }, gates).reason ?? '';
      const shown = Number(/final_loss (\S+) >/.exec(reason)![1]);
      assert.ok(shown > 0.8, `${loss}: ${reason}`);
    }
  });
});
