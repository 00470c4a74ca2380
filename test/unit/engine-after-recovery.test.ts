import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterRecovery, firstRecoveryStep, type RecoveryDecision, type RecoveryEvent } from '../../src/core/engine/after-recovery.ts';
import { KtrdrError, type KtrdrErrorInit } from '../../src/core/ktrdr/errors.ts';

const now = new Date('2026-03-01T12:00:00Z');
const phases = ['training', 'backtesting'] as const;

const decisions: { name: string; decision: RecoveryDecision }[] = [
  { name: 'resume', decision: { action: 'resume_operation', trigger: 'training_failed', operationId: 'op_1', errorMessage: 'worker died' } },
  { name: 'resume without a message', decision: { action: 'resume_operation', trigger: 'backtest_failed', operationId: 'op_1', errorMessage: null } },
  { name: 'restart', decision: { action: 'restart_operation', trigger: 'training_failed', operationId: 'op_1', stallCase: 'queued', reason: 'stalled' } },
];

function ktrdrError(init: Partial<KtrdrErrorInit>): KtrdrError {
  return new KtrdrError({ kind: 'http', status: 400, code: 'X', message: 'refused', retryable: false, ...init });
}

/** Errors a resume or a fresh start can throw, and whether each is a fault of the world (the session waits). */
const thrown: { name: string; error: unknown; fault: 'ktrdr_unreachable' | 'ktrdr_auth' | 'ktrdr_busy' | null }[] = [
  { name: 'transport', error: ktrdrError({ kind: 'transport', status: null, message: 'ECONNREFUSED' }), fault: 'ktrdr_unreachable' },
  { name: 'timeout', error: ktrdrError({ kind: 'timeout', status: null, message: 'timed out' }), fault: 'ktrdr_unreachable' },
  { name: '500', error: ktrdrError({ status: 500, message: 'boom' }), fault: 'ktrdr_unreachable' },
  { name: '401', error: ktrdrError({ status: 401, message: 'no' }), fault: 'ktrdr_auth' },
  { name: '403', error: ktrdrError({ status: 403, message: 'no' }), fault: 'ktrdr_auth' },
  { name: '429', error: ktrdrError({ status: 429, message: 'slow down' }), fault: 'ktrdr_busy' },
  { name: '503 no worker', error: ktrdrError({ status: 503, code: 'WORKER_UNAVAILABLE', message: 'No training workers available' }), fault: 'ktrdr_busy' },
  { name: '400', error: ktrdrError({ status: 400, message: 'invalid request' }), fault: null },
  { name: '409', error: ktrdrError({ status: 409, message: 'not resumable' }), fault: null },
  { name: 'a plain error', error: new Error('bug'), fault: null },
];

describe('firstRecoveryStep', () => {
  test('a failure is resumed first; a stall is started afresh at once, for its reason', () => {
    assert.deepEqual(firstRecoveryStep(decisions[0]!.decision), { step: 'resume' });
    assert.deepEqual(firstRecoveryStep(decisions[2]!.decision), { step: 'restart', reason: 'stalled' });
  });
});

describe('afterRecovery: every decision × phase × what KTRDR did', () => {
  for (const { name, decision } of decisions) {
    for (const phase of phases) {
      const session = { phase, resumeAttempts: 1 };
      const kind = phase === 'training' ? 'training' : 'backtest';
      const outcome = phase === 'training' ? 'failed_training' : 'failed_backtest';
      const failure = decision.action === 'resume_operation' ? (decision.errorMessage ?? 'no message') : 'no message';
      const after = (event: RecoveryEvent) => afterRecovery({ decision, session, now, event });

      test(`${name} / ${phase}: no checkpoint: started afresh, saying why`, () => {
        assert.deepEqual(after({ step: 'resume', result: null }), {
          kind: 'restart',
          reason: `${kind} operation op_1 failed (${failure}) and has no checkpoint to resume from`,
        });
      });

      test(`${name} / ${phase}: resumed into another request: the session fails`, () => {
        assert.deepEqual(after({ step: 'resume', result: { kind: 'foreign', operationId: 'op_1', reason: 'another strategy' } }), {
          kind: 'fail',
          outcome,
          reason: "operation op_1 was resumed into a request that is not this session's (another strategy); it was cancelled and nothing of it was read",
        });
      });

      test(`${name} / ${phase}: resumed: one more attempt, the clock restarted, the prior run kept`, () => {
        const priorRun = { initialLoss: 0.9, resumedAtEpoch: 12 };
        assert.deepEqual(after({ step: 'resume', result: { kind: 'resumed', operationId: 'op_1', resumedAtEpoch: 12, priorRun } }), {
          kind: 'resumed',
          changes: { resumeAttempts: 2, progressChangedAt: now, trainingResults: { priorRun } },
          resumedAtEpoch: 12,
          detail: `resumed at epoch 12: ${failure}`,
        });
        assert.deepEqual(after({ step: 'resume', result: { kind: 'resumed', operationId: 'op_1', resumedAtEpoch: null, priorRun: null } }), {
          kind: 'resumed',
          changes: { resumeAttempts: 2, progressChangedAt: now },
          resumedAtEpoch: null,
          detail: `resumed: ${failure}`,
        });
      });

      test(`${name} / ${phase}: the fresh start is another request's: the session fails`, () => {
        assert.deepEqual(after({ step: 'restart', reason: 'why', result: { kind: 'foreign', operationId: 'op_2', reason: 'another strategy' } }), {
          kind: 'fail',
          outcome,
          reason: "why; the fresh start op_2 is not this session's (another strategy)",
        });
      });

      test(`${name} / ${phase}: the stalled run would not be cancelled and still runs: wait, as KTRDR busy, not down`, () => {
        assert.deepEqual(after({ step: 'restart', reason: 'why', result: { kind: 'still_running', operationId: 'op_1', reason: 'op_1 is still running' } }), {
          kind: 'wait',
          fault: { faultClass: 'ktrdr_busy', cause: 'KTRDR busy: op_1 is still running' },
        });
      });

      test(`${name} / ${phase}: started afresh: the new id, one more attempt, no progress yet`, () => {
        const idField = phase === 'training' ? { trainingOperationId: 'op_2', trainingResults: null } : { backtestOperationId: 'op_2' };
        const which = decision.action === 'restart_operation' ? decision.stallCase : 'no_checkpoint';
        assert.deepEqual(after({ step: 'restart', reason: 'why', result: { kind: 'restarted', operationId: 'op_2' } }), {
          kind: 'restarted',
          changes: { ...idField, resumeAttempts: 2, progressChangedAt: now, operationProgress: null },
          operationId: 'op_2',
          reason: 'why',
          detail: `${which}: why; restarted as op_2`,
        });
      });

      for (const error of thrown) {
        for (const restartReason of [null, 'why']) {
          test(`${name} / ${phase}: ${restartReason === null ? 'the resume' : 'the fresh start'} threw ${error.name}`, () => {
            const next = after({ step: 'threw', restartReason, error: error.error });
            if (error.fault) {
              assert.equal(next.kind, 'wait', 'a fault of the world never fails the session');
              assert.equal(next.kind === 'wait' && next.fault.faultClass, error.fault);
              return;
            }
            const message = (error.error as Error).message;
            const resumeFailure = decision.action === 'resume_operation' ? (decision.errorMessage ?? 'no error message') : '';
            assert.deepEqual(next, {
              kind: 'fail',
              outcome,
              reason:
                restartReason === null
                  ? `${kind} operation op_1 failed: ${resumeFailure} (resume refused: ${message})`
                  : `why; starting it afresh failed: ${message}`,
            });
          });
        }
      }
    }
  }

  test('a thrown value that is not an Error still says what it was', () => {
    const next = afterRecovery({
      decision: decisions[2]!.decision,
      session: { phase: 'training', resumeAttempts: 0 },
      now,
      event: { step: 'threw', restartReason: 'why', error: 'odd' },
    });
    assert.deepEqual(next, { kind: 'fail', outcome: 'failed_training', reason: 'why; starting it afresh failed: odd' });
  });
});
