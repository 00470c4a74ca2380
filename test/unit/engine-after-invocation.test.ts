import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvocationReport } from '../../src/core/agent/designer.ts';
import type { HeldFault } from '../../src/core/db/repositories/control.ts';
import { sessionPhases, type SessionPhase, type InvocationPurpose } from '../../src/core/session/model.ts';
import { afterInvocation, invocationHold, provesTheWorldWorks, retryDelayMs } from '../../src/core/engine/after-invocation.ts';
import { faultClasses, type FaultClass } from '../../src/core/kernel/faults.ts';
import { keyFingerprint } from '../../src/core/kernel/key-fingerprint.ts';

const purposes: InvocationPurpose[] = ['design', 'backtest', 'assess'];
const statuses: InvocationReport['status'][] = [
  'completed',
  'budget_exhausted',
  'ktrdr_unreachable',
  'max_turns',
  'max_tokens',
  'refusal',
  'timeout',
  'api_error',
  'tool_error_limit',
  'infrastructure_fault',
  'error',
];
const researchStatuses = new Set(['completed', 'max_turns', 'max_tokens', 'refusal', 'timeout', 'api_error', 'tool_error_limit', 'error']);

function report(status: InvocationReport['status'], fault?: FaultClass): InvocationReport {
  return { status, reason: `reason of ${status}`, lastText: '', costUsd: 0, ...(fault ? { fault: { faultClass: fault, cause: `cause of ${fault}` } } : {}) };
}

/** The phase an invocation of this purpose moves the session to when it does its job. */
const effectPhase: Record<InvocationPurpose, SessionPhase | null> = { design: 'training', backtest: 'backtesting', assess: null };
const startPhase: Record<InvocationPurpose, SessionPhase> = { design: 'designing', backtest: 'training', assess: 'assessing' };

describe('afterInvocation: every purpose × status × fault × session state', () => {
  for (const purpose of purposes) {
    for (const status of statuses) {
      for (const fault of [undefined, ...faultClasses]) {
        test(`${purpose} / ${status} / ${fault ?? 'no fault'}`, () => {
          const r = report(status, fault);
          // The session ended meanwhile (an assessment saved, an operator cancelled): nothing more to do.
          assert.deepEqual(afterInvocation({ purpose, session: { phase: 'idle', outcome: 'success' }, report: r }), { kind: 'ended' });
          assert.deepEqual(afterInvocation({ purpose, session: null, report: r }), { kind: 'ended' });
          // The effect happened: achieved, whatever went wrong after it.
          const moved = effectPhase[purpose];
          if (moved) assert.deepEqual(afterInvocation({ purpose, session: { phase: moved, outcome: null }, report: r }), { kind: 'achieved' });
          // No effect.
          const next = afterInvocation({ purpose, session: { phase: startPhase[purpose], outcome: null }, report: r });
          if (status === 'budget_exhausted') {
            assert.deepEqual(next, { kind: 'refund', cause: 'budget_exhausted' });
          } else if (fault) {
            assert.deepEqual(next, { kind: 'refund', cause: 'fault', fault: { faultClass: fault, cause: `cause of ${fault}` } });
          } else if (status === 'ktrdr_unreachable') {
            assert.deepEqual(next, { kind: 'refund', cause: 'fault', fault: { faultClass: 'ktrdr_unreachable', cause: 'reason of ktrdr_unreachable' } });
          } else if (status === 'infrastructure_fault') {
            assert.equal(next.kind, 'refund', 'a fault status is never a research result, even without its fault field');
          } else {
            assert.ok(researchStatuses.has(status));
            const outcome = { design: 'failed_design', backtest: 'failed_backtest', assess: 'failed_assessment' }[purpose];
            assert.equal(next.kind, 'fail');
            assert.equal(next.kind === 'fail' && next.outcome, outcome);
            assert.match(
              next.kind === 'fail' ? next.reason : '',
              new RegExp(`the ${purpose} invocation ended without its effect \\(${status}: reason of ${status}\\)`),
            );
          }
        });
      }
    }
  }

  test('a design that saved but did not start training is still in designing: no effect', () => {
    for (const phase of sessionPhases.filter((p) => p !== 'designing' && p !== 'idle')) {
      assert.equal(afterInvocation({ purpose: 'design', session: { phase, outcome: null }, report: report('api_error') }).kind, 'achieved');
    }
    assert.equal(afterInvocation({ purpose: 'design', session: { phase: 'designing', outcome: null }, report: report('completed') }).kind, 'fail');
  });
});

describe('provesTheWorldWorks: when a held fault is lifted', () => {
  test('an effect, or an answer from the model, lifts it; a throw, an API error, a timeout or a fault does not', () => {
    const lifting = statuses.filter((status) => provesTheWorldWorks({ kind: 'fail', outcome: 'failed_design', reason: '' }, report(status)));
    assert.deepEqual(lifting, ['completed', 'max_turns', 'max_tokens', 'refusal', 'tool_error_limit']);
    assert.equal(provesTheWorldWorks({ kind: 'achieved' }, report('api_error')), true);
    assert.equal(provesTheWorldWorks({ kind: 'ended' }, report('completed')), true);
    assert.equal(provesTheWorldWorks({ kind: 'achieved' }, report('infrastructure_fault', 'strategies_dir')), false);
  });
});

describe('invocationHold: what a held fault keeps back', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const key = 'sk-ant-test-one';
  const held = (faultClass: FaultClass, streak: number, minutesAgo: number, fingerprint: string | null = null): HeldFault => ({
    faultClass,
    cause: 'c',
    since: new Date(now.getTime() - 3_600_000),
    lastAt: new Date(now.getTime() - minutesAgo * 60_000),
    streak,
    keyFingerprint: fingerprint,
  });

  test('nothing held, nothing kept back', () => {
    assert.deepEqual(invocationHold({ fault: null, designerKind: 'claude', keyFingerprint: keyFingerprint(key), now, backoffMinutes: 5 }), { held: false });
  });

  test('a refused key stops invocations until the key changes, however long ago it was refused', () => {
    const fault = held('anthropic_auth', 9, 600, keyFingerprint(key));
    const same = invocationHold({ fault, designerKind: 'claude', keyFingerprint: keyFingerprint(key), now, backoffMinutes: 5 });
    assert.equal(same.held && same.skipReason, 'anthropic_auth');
    assert.deepEqual(invocationHold({ fault, designerKind: 'claude', keyFingerprint: keyFingerprint('sk-ant-test-two'), now, backoffMinutes: 5 }), {
      held: false,
    });
    assert.deepEqual(invocationHold({ fault, designerKind: 'baseline', keyFingerprint: keyFingerprint(key), now, backoffMinutes: 5 }), { held: false });
  });

  test('other held faults back off: the next pass after the first, then 5, 10, 20, 40 and 60 minutes', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 9].map((n) => retryDelayMs(n, 5) / 60_000),
      [0, 4.5, 9.5, 19.5, 39.5, 59.5, 59.5],
    );
    for (const faultClass of ['anthropic_unreachable', 'anthropic_unbilled', 'anthropic_rate_limited', 'strategies_dir'] as const) {
      assert.deepEqual(invocationHold({ fault: held(faultClass, 1, 0), designerKind: 'claude', keyFingerprint: null, now, backoffMinutes: 5 }), {
        held: false,
      });
      const early = invocationHold({ fault: held(faultClass, 3, 9), designerKind: 'claude', keyFingerprint: null, now, backoffMinutes: 5 });
      assert.equal(early.held && early.skipReason, 'fault_backoff', faultClass);
      assert.equal(early.held && early.skipReason === 'fault_backoff' && early.retryAt.toISOString(), '2026-12-01T12:00:30.000Z');
      assert.deepEqual(invocationHold({ fault: held(faultClass, 3, 10), designerKind: 'claude', keyFingerprint: null, now, backoffMinutes: 5 }), {
        held: false,
      });
    }
  });

  test('AGENT_FAULT_BACKOFF_MINUTES sets the base: it doubles to at most 12 times it, a tenth early (at most 30 s)', () => {
    assert.deepEqual(
      [1, 2, 3, 6].map((n) => retryDelayMs(n, 1) / 1000),
      [0, 54, 108, 690],
    );
    assert.deepEqual(
      [2, 3, 9].map((n) => Math.round(retryDelayMs(n, 0.05)) / 1000),
      [2.7, 5.4, 32.4],
    );
    assert.equal(retryDelayMs(4, 0), 0);
    const fault = held('anthropic_unreachable', 2, 0);
    const later = new Date(now.getTime() + 3_000);
    assert.deepEqual(invocationHold({ fault, designerKind: 'claude', keyFingerprint: null, now: later, backoffMinutes: 0.05 }), { held: false });
    assert.equal(invocationHold({ fault, designerKind: 'claude', keyFingerprint: null, now: later, backoffMinutes: 5 }).held, true);
  });

  test('the baseline designer is held only by faults it shares; KTRDR faults hold nothing (every pass checks KTRDR)', () => {
    const fault = held('anthropic_unreachable', 5, 1);
    assert.deepEqual(invocationHold({ fault, designerKind: 'baseline', keyFingerprint: null, now, backoffMinutes: 5 }), { held: false });
    const dir = invocationHold({ fault: held('strategies_dir', 5, 1), designerKind: 'baseline', keyFingerprint: null, now, backoffMinutes: 5 });
    assert.equal(dir.held, true);
    for (const faultClass of ['ktrdr_unreachable', 'ktrdr_auth', 'ktrdr_busy', 'database'] as const) {
      assert.deepEqual(invocationHold({ fault: held(faultClass, 5, 1), designerKind: 'claude', keyFingerprint: null, now, backoffMinutes: 5 }), {
        held: false,
      });
    }
  });

  test('a key fingerprint never holds the key', () => {
    const fingerprint = keyFingerprint('sk-ant-api03-secret-value')!;
    assert.match(fingerprint, /^sha256:[0-9a-f]{12}$/);
    assert.ok(!fingerprint.includes('secret'));
    assert.equal(keyFingerprint(undefined), null);
  });
});
