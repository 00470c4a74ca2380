import type { SessionOutcome } from '../session/model.ts';
import type { Session, SessionChanges } from '../db/repositories/sessions.ts';
import { ktrdrFaultIn } from '../ktrdr/errors.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';
import type { Decision } from './decide.ts';
import type { RecoveryOutcome } from './recovery.ts';

export type RecoveryDecision = Extract<Decision, { action: 'resume_operation' | 'restart_operation' }>;

/** What KTRDR did with the step the pass took. */
export type RecoveryEvent =
  /** The resume answered; null when KTRDR has no checkpoint to resume from (a 404). */
  | { step: 'resume'; result: RecoveryOutcome | null }
  | { step: 'restart'; reason: string; result: RecoveryOutcome }
  /** The resume (no restart reason yet) or the fresh start (with its reason) threw. */
  | { step: 'threw'; restartReason: string | null; error: unknown };

export type AfterRecovery =
  /** No checkpoint: the operation is started afresh, for this reason. */
  | { kind: 'restart'; reason: string }
  | { kind: 'resumed'; changes: SessionChanges; resumedAtEpoch: number | null; detail: string }
  | { kind: 'restarted'; changes: SessionChanges; operationId: string; reason: string; detail: string }
  /** KTRDR down, busy or refusing our credentials: a fault of the world, the session waits for a later pass. */
  | { kind: 'wait'; fault: InfrastructureFault }
  | { kind: 'fail'; outcome: SessionOutcome; reason: string };

export interface AfterRecoveryInput {
  decision: RecoveryDecision;
  session: Pick<Session, 'phase' | 'resumeAttempts'>;
  now: Date;
  event: RecoveryEvent;
}

/** The first step of a recovery: a resume, or straight to a fresh start when no progress was made. */
export function firstRecoveryStep(decision: RecoveryDecision): { step: 'resume' } | { step: 'restart'; reason: string } {
  return decision.action === 'restart_operation' ? { step: 'restart', reason: decision.reason } : { step: 'resume' };
}

/**
 * What a resume or a fresh start came to for its session: the next step, the session's changes, a wait for a
 * later pass, or the session's end. Every result of either is one of these, so the pass only carries them out.
 */
export function afterRecovery(input: AfterRecoveryInput): AfterRecovery {
  const { decision, session, now, event } = input;
  const kind = session.phase === 'training' ? 'training' : 'backtest';
  const outcome: SessionOutcome = session.phase === 'training' ? 'failed_training' : 'failed_backtest';
  const failure = decision.action === 'resume_operation' ? (decision.errorMessage ?? 'no message') : null;
  switch (event.step) {
    case 'resume': {
      const resumed = event.result;
      if (resumed === null) {
        return {
          kind: 'restart',
          reason: `${kind} operation ${decision.operationId} failed (${failure ?? 'no message'}) and has no checkpoint to resume from`,
        };
      }
      if (resumed.kind === 'foreign') {
        return {
          kind: 'fail',
          outcome,
          reason: `operation ${decision.operationId} was resumed into a request that is not this session's (${resumed.reason}); it was cancelled and nothing of it was read`,
        };
      }
      const resumedAtEpoch = resumed.kind === 'resumed' ? resumed.resumedAtEpoch : null;
      const priorRun = resumed.kind === 'resumed' && resumed.priorRun ? { trainingResults: { priorRun: resumed.priorRun } } : {};
      const at = resumedAtEpoch !== null ? ` at epoch ${resumedAtEpoch}` : '';
      return {
        kind: 'resumed',
        changes: { resumeAttempts: session.resumeAttempts + 1, progressChangedAt: now, ...priorRun },
        resumedAtEpoch,
        detail: `resumed${at}: ${failure ?? 'no message'}`,
      };
    }
    case 'restart': {
      const restarted = event.result;
      // KTRDR is up but would not cancel the stalled run: not now, and not KTRDR down.
      if (restarted.kind === 'still_running') return { kind: 'wait', fault: { faultClass: 'ktrdr_busy', cause: `KTRDR busy: ${restarted.reason}` } };
      if (restarted.kind === 'foreign') {
        return { kind: 'fail', outcome, reason: `${event.reason}; the fresh start ${restarted.operationId} is not this session's (${restarted.reason})` };
      }
      // A fresh training is a first run: what an earlier resume noted of its predecessor (resume epoch, first loss) goes.
      const idField: SessionChanges =
        session.phase === 'training' ? { trainingOperationId: restarted.operationId, trainingResults: null } : { backtestOperationId: restarted.operationId };
      const which = decision.action === 'restart_operation' ? decision.stallCase : 'no_checkpoint';
      return {
        kind: 'restarted',
        changes: { ...idField, resumeAttempts: session.resumeAttempts + 1, progressChangedAt: now, operationProgress: null },
        operationId: restarted.operationId,
        reason: event.reason,
        detail: `${which}: ${event.reason}; restarted as ${restarted.operationId}`,
      };
    }
    case 'threw': {
      const fault = ktrdrFaultIn(event.error);
      if (fault) return { kind: 'wait', fault };
      const message = event.error instanceof Error ? event.error.message : String(event.error);
      const reason =
        event.restartReason === null
          ? `${kind} operation ${decision.operationId} failed: ${decision.action === 'resume_operation' ? (decision.errorMessage ?? 'no error message') : ''} (resume refused: ${message})`
          : `${event.restartReason}; starting it afresh failed: ${message}`;
      return { kind: 'fail', outcome, reason };
    }
  }
}
