import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, FRESH_START_CANCEL_PREFIX, type DecisionInput, type OperationObservation } from '../../src/core/engine/decide.ts';
import { whilePaused } from '../../src/core/engine/decision-input.ts';
import { evaluateBacktestGate, evaluateTrainingGate, type GateThresholds } from '../../src/core/engine/gates.ts';

const gates: GateThresholds = {
  trainingMinAccuracy: 0.45,
  trainingMaxLoss: 0.8,
  trainingMinLossReduction: 0.2,
  trainingMinDirectionalAccuracy: 0.51,
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
        : {
            kind: 'status',
            status: options.status,
            percentage: 40,
            currentStep: 'Epoch 20/50',
            errorMessage: options.status === 'failed' ? 'CUDA out of memory' : null,
          };
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
    now,
    config: {
      gates,
      resumeMaxAttempts: 2,
      stall: { queuedMs: 20 * 60_000, resumingMs: 10 * 60_000, runningAtZeroMs: 10 * 60_000, runningMs: 60 * 60_000 },
      maxInvocationAttempts: 2,
    },
  };
}

const every = phases.flatMap((phase) =>
  statuses.flatMap((status) =>
    [true, false].flatMap((gatePasses) => [true, false].flatMap((canInvoke) => leases.map((lease) => ({ phase, status, gatePasses, canInvoke, lease })))),
  ),
);

describe('decide: every phase x operation status x gate x budget x lease', () => {
  for (const { phase, status, gatePasses, canInvoke, lease } of every) {
    test(`${phase} ${status} gate=${gatePasses} budget=${canInvoke} lease=${lease}`, () => {
      const decision = decide(input({ phase, status, gatePasses, canInvoke, lease }));
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
          assert.equal(decision.action, 'fail');
          assert.equal(decision.action === 'fail' && decision.outcome, failedOutcome);
          return;
        case 'cancelled':
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

describe("the pass's pause rule (whilePaused) on every decision of decide()", () => {
  test('a pause still watches running work (the no-progress clocks stay true) and starts or ends nothing', () => {
    for (const { phase, status, gatePasses, canInvoke, lease } of every) {
      const decision = whilePaused(decide(input({ phase, status, gatePasses, canInvoke, lease })));
      const watching = (phase === 'backtesting' || (phase === 'training' && lease !== 'live')) && ['pending', 'running', 'resuming'].includes(status);
      const label = `${phase} ${status} gate=${gatePasses} budget=${canInvoke} lease=${lease}`;
      if (watching) assert.equal(decision.action, 'record_progress', label);
      else assert.deepEqual(decision, { action: 'skip', trigger: 'paused', skipReason: 'paused' }, label);
    }
  });
});

describe('decide: recovery rules', () => {
  test('an invocation that died twice fails the session with the phase outcome', () => {
    const design = decide(input({ phase: 'designing', status: 'running', gatePasses: true, canInvoke: true, lease: 'expired', attempts: 2 }));
    assert.equal(design.action === 'fail' && design.outcome, 'failed_design');
    const assess = decide(input({ phase: 'assessing', status: 'running', gatePasses: true, canInvoke: true, lease: 'expired', attempts: 2 }));
    assert.equal(assess.action === 'fail' && assess.outcome, 'failed_assessment');
  });

  test('KTRDR busy (no free worker, 429) while polling is waited out as busy, not as KTRDR down', () => {
    for (const phase of ['training', 'backtesting'] as const) {
      const base = input({ phase, status: 'running', gatePasses: true, canInvoke: true, lease: 'none' });
      const busy = decide({ ...base, operation: { kind: 'unreachable', error: 'KTRDR busy: 503', faultClass: 'ktrdr_busy' } });
      assert.deepEqual(busy, { action: 'skip', trigger: 'operation_still_running', skipReason: 'ktrdr_busy' });
      const refused = decide({ ...base, operation: { kind: 'unreachable', error: 'KTRDR: 401', faultClass: 'ktrdr_auth' } });
      assert.equal(refused.action === 'skip' && refused.skipReason, 'ktrdr_unreachable');
    }
  });

  test('an expired lease with one attempt is retried once', () => {
    const decision = decide(input({ phase: 'designing', status: 'running', gatePasses: true, canInvoke: true, lease: 'expired', attempts: 1 }));
    assert.deepEqual(decision, { action: 'invoke', trigger: 'start_new_cycle', purpose: 'design', retry: true });
  });

  test('a failed operation is resumed up to the limit, then the session fails with KTRDR error message', () => {
    const decision = decide(input({ phase: 'training', status: 'failed', gatePasses: true, canInvoke: true, lease: 'none', resumeAttempts: 2 }));
    assert.equal(decision.action, 'fail');
    assert.match(decision.action === 'fail' ? decision.reason : '', /CUDA out of memory/);
  });

  test('a stalled operation is cancelled and started afresh, then fails once the attempts are spent', () => {
    const decision = decide(input({ phase: 'backtesting', status: 'running', gatePasses: true, canInvoke: true, lease: 'none', stalled: true }));
    assert.equal(decision.action, 'restart_operation');
    assert.equal(decision.action === 'restart_operation' && decision.stallCase, 'no_progress');
    assert.match(
      decision.action === 'restart_operation' ? decision.reason : '',
      /made no progress: 'running' with progress unchanged for 120 min \(limit 60 min/,
    );
    const spent = decide(
      input({ phase: 'backtesting', status: 'running', gatePasses: true, canInvoke: true, lease: 'none', stalled: true, resumeAttempts: 2 }),
    );
    assert.equal(spent.action, 'fail');
    assert.equal(spent.action === 'fail' && spent.cancelOperationId, 'op_b');
    assert.match(spent.action === 'fail' ? spent.reason : '', /no fresh start left after 2/);
  });

  test('no progress across a gap in observation (KTRDR down, paused) is not a stall', () => {
    const base = input({ phase: 'training', status: 'running', gatePasses: true, canInvoke: true, lease: 'none', stalled: true });
    const decision = decide({ ...base, session: { ...base.session, lastProgress: { percentage: 40, currentStep: 'Epoch 20/50', seenAt: minutesAgo(90) } } });
    assert.equal(decision.action, 'record_progress');
    assert.equal(decision.action === 'record_progress' && decision.changed, true);
  });

  test('each no-progress case has its own, shorter limit and is named', () => {
    const at = (status: 'pending' | 'running' | 'resuming', percentage: number, minutes: number) => {
      const base = input({ phase: 'training', status: 'running', gatePasses: true, canInvoke: true, lease: 'none' });
      return decide({
        ...base,
        operation: { kind: 'status', status, percentage, currentStep: null, errorMessage: null },
        session: { ...base.session, progressChangedAt: minutesAgo(minutes), lastProgress: { percentage, currentStep: null, seenAt: minutesAgo(3), status } },
      });
    };
    // Under the limit of its case: still waiting.
    assert.equal(at('pending', 0, 15).action, 'record_progress');
    assert.equal(at('resuming', 0, 8).action, 'record_progress');
    assert.equal(at('running', 0, 8).action, 'record_progress');
    assert.equal(at('running', 40, 50).action, 'record_progress');
    // Over it: restarted, with the case said.
    const queued = at('pending', 0, 25);
    assert.equal(queued.action === 'restart_operation' && queued.stallCase, 'queued');
    const resuming = at('resuming', 0, 12);
    assert.equal(resuming.action === 'restart_operation' && resuming.stallCase, 'resuming');
    assert.match(resuming.action === 'restart_operation' ? resuming.reason : '', /still 'resuming' for 12 min \(limit 10 min/);
    const zero = at('running', 0, 12);
    assert.equal(zero.action === 'restart_operation' && zero.stallCase, 'running_at_zero');
    assert.equal(at('running', 40, 12).action, 'record_progress');
  });

  test('a status change is progress: resuming -> running restarts the clock', () => {
    const base = input({ phase: 'training', status: 'running', gatePasses: true, canInvoke: true, lease: 'none' });
    const decision = decide({
      ...base,
      operation: { kind: 'status', status: 'running', percentage: 0, currentStep: null, errorMessage: null },
      session: {
        ...base.session,
        progressChangedAt: minutesAgo(30),
        lastProgress: { percentage: 0, currentStep: null, seenAt: minutesAgo(3), status: 'resuming' },
      },
    });
    assert.equal(decision.action === 'record_progress' && decision.changed, true);
  });

  test('a failure a resume cannot fix (missing data, validation, configuration) is not resumed', () => {
    for (const message of [
      'No data found in cache for GBPUSD 1h',
      'Strategy validation failed: fuzzy_sets.rsi: unknown indicator',
      'Invalid configuration: labels.source',
      'model_path is required for backtesting',
    ]) {
      const base = input({ phase: 'training', status: 'failed', gatePasses: true, canInvoke: true, lease: 'none' });
      const decision = decide({ ...base, operation: { kind: 'status', status: 'failed', percentage: 10, currentStep: null, errorMessage: message } });
      assert.equal(decision.action, 'fail', message);
      assert.match(decision.action === 'fail' ? decision.reason : '', /not resumed: .* fails again on a resume/);
    }
    const worker = decide(input({ phase: 'training', status: 'failed', gatePasses: true, canInvoke: true, lease: 'none' }));
    assert.equal(worker.action, 'resume_operation');
  });

  test('an operation cancelled in KTRDR (a killed worker) is resumed within the limit, then the session fails', () => {
    const resumed = decide(input({ phase: 'training', status: 'cancelled', gatePasses: true, canInvoke: true, lease: 'none' }));
    assert.equal(resumed.action === 'resume_operation' && resumed.errorMessage, 'cancelled in KTRDR, not by this agent');
    const spent = decide(input({ phase: 'training', status: 'cancelled', gatePasses: true, canInvoke: true, lease: 'none', resumeAttempts: 2 }));
    assert.equal(spent.action === 'fail' && spent.reason, 'training operation op_t was cancelled in KTRDR after 2 resume(s) or restart(s)');
  });

  test('an operation this agent cancelled for a fresh start is started afresh again, never resumed beside that fresh start', () => {
    const base = input({ phase: 'backtesting', status: 'cancelled', gatePasses: true, canInvoke: true, lease: 'none' });
    const cancelled = {
      kind: 'status' as const,
      status: 'cancelled' as const,
      percentage: 40,
      currentStep: null,
      errorMessage: `${FRESH_START_CANCEL_PREFIX}no progress`,
    };
    const decision = decide({ ...base, operation: cancelled });
    assert.deepEqual(decision.action === 'restart_operation' && [decision.operationId, decision.stallCase, decision.reason], [
      'op_b',
      'unrecorded_fresh_start',
      'backtest operation op_b was cancelled by this agent for a fresh start that was not recorded (no progress)',
    ]);
  });

  test("an operation that is not this session's fails it and is never read as a result", () => {
    const base = input({ phase: 'training', status: 'completed', gatePasses: true, canInvoke: true, lease: 'none' });
    const decision = decide({ ...base, operation: { kind: 'foreign', operationId: 'op_t', reason: "it runs strategy 'other'" }, trainingResult: null });
    assert.equal(decision.action, 'fail');
    assert.equal(decision.action === 'fail' && decision.outcome, 'failed_training');
    assert.match(decision.action === 'fail' ? decision.reason : '', /not the one this session started \(it runs strategy 'other'\); its results were not read/);
    assert.equal(decision.action === 'fail' && decision.cancelOperationId, undefined);
  });

  test('a training that passed its gate without a model path fails before any invocation', () => {
    const base = input({ phase: 'training', status: 'completed', gatePasses: true, canInvoke: true, lease: 'none' });
    const decision = decide({ ...base, trainingResult: { ...goodTraining, modelPath: null } });
    assert.equal(decision.action === 'fail' && decision.outcome, 'failed_training');
  });

  test('a training or backtest phase with no operation to poll fails the session in its phase', () => {
    for (const phase of ['training', 'backtesting'] as const) {
      const base = input({ phase, status: 'running', gatePasses: true, canInvoke: true, lease: 'none' });
      const decision = decide({ ...base, session: { ...base.session, trainingOperationId: null, backtestOperationId: null }, operation: { kind: 'none' } });
      assert.equal(decision.action, 'fail');
      assert.equal(decision.action === 'fail' && decision.outcome, phase === 'training' ? 'failed_training' : 'failed_backtest');
    }
  });

  test('progress that moved is recorded as a change', () => {
    const decision = decide(input({ phase: 'training', status: 'running', gatePasses: true, canInvoke: true, lease: 'none' }));
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
    assert.match(gate.reason ?? '', /test_accuracy 34% < 45%; final_train_loss 1.09 > 0.80; train_loss_reduction 1% < 20%/);
  });
});

describe("training gate on KTRDR's metrics", () => {
  // KTRDR's defaults (ktrdr/agents/gates.py at 2c5c7173) as the agent's config now defaults them.
  const ktrdrDefaults: GateThresholds = {
    ...gates,
    trainingMinAccuracy: 0.1,
    trainingMaxLoss: 0.8,
    trainingMinLossReduction: -0.5,
    trainingMinDirectionalAccuracy: 0.51,
  };

  test('the test loss is gated where KTRDR reports it, not the final training loss', () => {
    // A real run (v3_minimal on synthetic EURUSD): training loss 0.81 with dropout, test loss 0.71, reduction 10.8%.
    const real = { accuracy: 0.3468, finalLoss: 0.8068, testLoss: 0.713, lossReduction: 0.108 };
    const gate = evaluateTrainingGate(real, ktrdrDefaults);
    assert.equal(gate.passed, true, gate.reason ?? '');
    assert.deepEqual(
      gate.checks.map((c) => c.metric),
      ['test_accuracy', 'test_loss', 'train_loss_reduction'],
    );
    const noTest = evaluateTrainingGate({ ...real, testLoss: null }, ktrdrDefaults);
    assert.equal(noTest.passed, false);
    assert.equal(noTest.reason, 'final_train_loss 0.81 > 0.80');
  });

  test('a regression strategy is gated on directional accuracy, not class accuracy or loss decrease', () => {
    const regression = { accuracy: 0.2, finalLoss: 0.01, testLoss: 0.02, lossReduction: -0.9, outputFormat: 'regression' as const, directionalAccuracy: 0.49 };
    const gate = evaluateTrainingGate(regression, ktrdrDefaults);
    assert.equal(gate.passed, false);
    assert.equal(gate.reason, 'directional_accuracy 49% < 51%');
    assert.deepEqual(
      gate.checks.map((c) => c.metric),
      ['directional_accuracy', 'test_loss'],
    );
    assert.equal(evaluateTrainingGate({ ...regression, directionalAccuracy: 0.56 }, ktrdrDefaults).passed, true);
  });
});

describe('gate reasons show the digits that make the comparison true', () => {
  test('a value that rounds onto its threshold gets more digits', () => {
    assert.equal(
      evaluateTrainingGate({ accuracy: 0.4499, finalLoss: 0.8049, lossReduction: 0.35 }, gates).reason,
      'test_accuracy 44.99% < 45%; final_train_loss 0.805 > 0.80',
    );
    assert.equal(
      evaluateBacktestGate({ winRate: 0.5, maxDrawdown: 0.40001, sharpe: -0.5000001 }, gates).reason,
      'max_drawdown 40.001% > 40%; sharpe -0.5000001 < -0.50',
    );
  });

  test('a value far from its threshold keeps the short form', () => {
    assert.equal(
      evaluateTrainingGate({ accuracy: 0.34, finalLoss: 1.09, lossReduction: 0.01 }, gates).reason,
      'test_accuracy 34% < 45%; final_train_loss 1.09 > 0.80; train_loss_reduction 1% < 20%',
    );
    assert.equal(evaluateBacktestGate({ winRate: 0.412, maxDrawdown: 0.15, sharpe: 0.9 }, gates).reason, 'win_rate 41.2% < 45%');
  });

  test('every failed reason reads true: the shown value is on the failing side of the shown threshold', () => {
    for (let i = 1; i < 2000; i += 1) {
      const loss = 0.8 + i / 1e7;
      const reason = evaluateTrainingGate({ accuracy: 0.5, finalLoss: loss, lossReduction: 0.5 }, gates).reason ?? '';
      const shown = Number(/final_train_loss (\S+) >/.exec(reason)![1]);
      assert.ok(shown > 0.8, `${loss}: ${reason}`);
    }
  });
});
