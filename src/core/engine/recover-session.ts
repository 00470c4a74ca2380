import { updateSession, type Session } from '../db/repositories/sessions.ts';
import { KtrdrError } from '../ktrdr/errors.ts';
import { ktrdrSkipReason } from './decide.ts';
import { afterRecovery, firstRecoveryStep, type RecoveryDecision, type RecoveryEvent } from './after-recovery.ts';
import { failSession, record, type PassContext } from './pass-context.ts';
import { noteFault } from './pass-ledger.ts';
import { restartAfresh, resumeAndVerify } from './recovery.ts';

/**
 * A resume (a failure a resume can fix) or a fresh start (no progress, or a fixable failure with no checkpoint, as
 * after KTRDR's orphan detector failed a training whose backend restarted); either is checked to be this session's.
 * What each step came to is afterRecovery()'s to say; this carries it out.
 */
export async function recoverSession(context: PassContext, session: Session, decision: RecoveryDecision): Promise<void> {
  const { env } = context;
  const base = { sessionId: session.id, trigger: decision.trigger, action: decision.action };
  const now = env.now();
  // A resume or a fresh start changes KTRDR before any write of ours could notice a lost lock: prove it first, as
  // before an invocation, so two passes never restart one operation twice.
  await env.verifyTickLock?.();
  let step = firstRecoveryStep(decision);
  // At most two steps: a resume that finds no checkpoint is followed by a fresh start.
  for (;;) {
    const event: RecoveryEvent = await recoveryStep(context, session, decision, step).catch((error: unknown) => ({
      step: 'threw' as const,
      restartReason: step.step === 'restart' ? step.reason : null,
      error,
    }));
    const next = afterRecovery({ decision, session, now, event });
    const recovery = {
      operationId: decision.operationId,
      failure: decision.action === 'resume_operation' ? (decision.errorMessage ?? 'no message') : '',
      resumedAtEpoch: next.kind === 'resumed' ? next.resumedAtEpoch : null,
      reason: next.kind === 'restarted' ? next.reason : '',
      restartedAs: next.kind === 'restarted' ? next.operationId : '',
    };
    switch (next.kind) {
      case 'restart':
        step = { step: 'restart', reason: next.reason };
        continue;
      case 'resumed':
        await updateSession(env.store.db, session.id, next.changes, now);
        await record(context, { ...base, invoked: false, skipReason: 'operation_resumed', detail: next.detail }, { recovery });
        return;
      case 'restarted':
        await updateSession(env.store.db, session.id, next.changes, now);
        await record(context, { ...base, action: 'restart_operation', invoked: false, skipReason: 'operation_restarted', detail: next.detail }, { recovery });
        return;
      case 'wait':
        await record(context, { ...base, invoked: false, skipReason: ktrdrSkipReason(next.fault.faultClass), fault: noteFault(context.ledger, next.fault) });
        return;
      case 'fail':
        await failSession(context, session, { trigger: decision.trigger, outcome: next.outcome, reason: next.reason });
        return;
    }
  }
}

async function recoveryStep(
  context: PassContext,
  session: Session,
  decision: RecoveryDecision,
  step: ReturnType<typeof firstRecoveryStep>,
): Promise<RecoveryEvent> {
  const { env } = context;
  if (step.step === 'restart') {
    return { step: 'restart', reason: step.reason, result: await restartAfresh(env.store.db, env.ktrdr, session, decision.operationId, step.reason) };
  }
  const result = await resumeAndVerify(env.ktrdr, session, decision.operationId).catch((error: unknown) => {
    if (error instanceof KtrdrError && error.isNotFound) return null;
    throw error;
  });
  return { step: 'resume', result };
}
