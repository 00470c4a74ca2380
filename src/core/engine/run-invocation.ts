import { clearFault, holdFault, readControl, type HeldFault } from '../db/repositories/control.ts';
import { findSession, updateSession, type Session, type SessionChanges } from '../db/repositories/sessions.ts';
import { leaseForInvocation } from '../db/transactions/lease-invocation.ts';
import { remainingUsd } from '../budget/daily-limit.ts';
import { isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';
import { keyFingerprint } from '../kernel/key-fingerprint.ts';
import type { InvocationPurpose, TriggerReason } from '../session/model.ts';
import type { InvocationReport } from '../agent/designer.ts';
import { afterInvocation, faultRetryAt, holdsInvocations, provesTheWorldWorks, stopsUntilReconfigured } from './after-invocation.ts';
import type { ExplainFacts } from './decision-record.ts';
import { pausedSince, quotaHeld } from './invocation-guards.ts';
import { explainRecord, failSession, noteResult, record, type PassContext } from './pass-context.ts';
import { noteFault } from './pass-ledger.ts';

/**
 * Takes the lease (so a process killed mid-invocation is found later), then runs the designer. One transaction: what
 * the pass learnt (results, gate, a phase change), the lease, and the invocation count.
 */
export async function invokeSession(
  context: PassContext,
  decidedOn: Session,
  purpose: InvocationPurpose,
  trigger: TriggerReason,
  retry: boolean,
  changes: SessionChanges = {},
): Promise<void> {
  const { env } = context;
  const sessionId = decidedOn.id;
  if (await pausedSince(context, sessionId, trigger)) return;
  if (await quotaHeld(context, sessionId, trigger)) return;
  const now = env.now();
  const leaseSeconds = env.config.settings.AGENT_LEASE_SECONDS;
  const leased = await leaseForInvocation(env.store.db, {
    sessionId,
    phase: decidedOn.phase,
    lease: { owner: env.tickId, expiresAt: new Date(now.getTime() + leaseSeconds * 1000) },
    changes,
    now,
  });
  if (!leased) {
    // Another pass took the lease between this pass's read and its write: it invokes, this one does not.
    await record(context, { sessionId, trigger, action: 'skip', invoked: false, skipReason: 'invocation_in_progress' }, { phase: decidedOn.phase });
    return;
  }
  context.budget.changed();
  await runInvocation(context, sessionId, purpose, trigger, { retry });
}

/** Proves the lock, calls the designer, and carries out what afterInvocation() says its end means for the session. */
export async function runInvocation(
  context: PassContext,
  sessionId: number,
  purpose: InvocationPurpose,
  trigger: TriggerReason,
  facts: ExplainFacts,
): Promise<void> {
  const { env, ledger } = context;
  const db = env.store.db;
  await env.verifyTickLock?.();
  const day = await context.budget.day();
  await record(context, { sessionId, trigger, action: 'invoke', invoked: true, skipReason: null, detail: purpose }, facts);
  let report: InvocationReport;
  try {
    const designer = await context.designer();
    report = await env.tracer.span(
      'invoke_agent',
      {
        'trigger.reason': trigger,
        'trigger.session_id': sessionId,
        'trigger.agent_invoked': true,
        'trigger.budget_remaining_usd': remainingUsd(day),
        'agent.purpose': purpose,
      },
      () => designer.invoke({ sessionId, purpose, trigger }),
    );
  } catch (error) {
    report = isInfrastructureFault(error)
      ? { status: 'infrastructure_fault', reason: error.fault.cause, lastText: '', costUsd: 0, fault: error.fault }
      : { status: 'error', reason: (error as Error).message, lastText: '', costUsd: 0 };
  }
  context.budget.changed();
  const session = await findSession(db, sessionId);
  const next = afterInvocation({ purpose, session: session ? { phase: session.phase, outcome: session.outcome } : null, report });
  const now = env.now();
  const previousHold = ledger.hold.held ? ledger.hold.fault : (await readControl(db)).fault;
  const clearHeld = async (): Promise<void> => {
    if (previousHold && provesTheWorldWorks(next, report)) await clearFault(db, now);
  };
  switch (next.kind) {
    case 'ended':
      await clearHeld();
      if (session?.outcome) noteResult(context, sessionId, trigger, session.outcome, `the ${purpose} invocation ended the session`);
      return;
    case 'waiting':
      // Not an attempt: the session waits in its phase and a later pass collects the batch.
      await updateSession(db, sessionId, { lease: null, invocationAttempts: Math.max(0, session!.invocationAttempts - 1) }, now);
      await record(context, { sessionId, trigger, action: 'wait', invoked: false, skipReason: 'waiting_for_batch', detail: next.reason });
      return;
    case 'achieved':
      await updateSession(db, sessionId, { lease: null }, now);
      await clearHeld();
      noteResult(context, sessionId, trigger, 'achieved', `the ${purpose} invocation moved the session to ${session!.phase}`);
      return;
    case 'refund': {
      // Not the design's fault: the attempt does not count and the session waits in its phase for a later pass.
      await updateSession(db, sessionId, { lease: null, invocationAttempts: Math.max(0, session!.invocationAttempts - 1) }, now);
      if (next.cause === 'budget_exhausted') {
        ledger.budgetExceeded = true;
        // Told, not recorded: the session waits as if this invocation had not started.
        explainRecord(context, { sessionId, trigger, action: 'refund', invoked: false, skipReason: 'budget_exceeded', detail: purpose });
        return;
      }
      const fault = noteFault(ledger, next.fault, purpose === 'backtest' ? 'backtest' : 'any');
      await holdBack(context, fault, previousHold);
      await record(context, { sessionId, trigger, action: 'refund', invoked: false, skipReason: 'infrastructure_fault', fault, detail: purpose });
      return;
    }
    case 'fail':
      await clearHeld();
      await failSession(context, session!, { trigger, outcome: next.outcome, reason: next.reason });
      return;
    case 'stopped':
      // Paused mid-invocation: not an attempt, and nothing more this pass (operator-control.ts).
      ledger.paused = true;
      await updateSession(db, sessionId, { lease: null, invocationAttempts: Math.max(0, session!.invocationAttempts - 1) }, now);
      await record(context, { sessionId, trigger, action: 'skip', invoked: false, skipReason: 'paused', detail: next.reason }, { phase: session!.phase });
      return;
  }
}

/** Holds a fault that keeps invocations back on later passes (and, through the ledger, on the rest of this one). */
async function holdBack(context: PassContext, fault: InfrastructureFault, previous: HeldFault | null): Promise<void> {
  if (!holdsInvocations(fault.faultClass)) return;
  const { env } = context;
  const now = env.now();
  const fingerprint = stopsUntilReconfigured(fault.faultClass) ? keyFingerprint(env.config.settings.ANTHROPIC_API_KEY) : null;
  await holdFault(env.store.db, { ...fault, keyFingerprint: fingerprint }, now);
  const sameStreak = previous?.faultClass === fault.faultClass;
  const held: HeldFault = {
    ...fault,
    since: sameStreak ? previous.since : now,
    lastAt: now,
    streak: sameStreak ? previous.streak + 1 : 1,
    keyFingerprint: fingerprint,
  };
  context.ledger.hold = stopsUntilReconfigured(fault.faultClass)
    ? { held: true, skipReason: 'anthropic_auth', fault: held }
    : {
        held: true,
        skipReason: 'fault_backoff',
        fault: held,
        retryAt: faultRetryAt({ lastAt: now, streak: held.streak }, env.config.settings.AGENT_FAULT_BACKOFF_MINUTES),
      };
}
