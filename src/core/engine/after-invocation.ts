import type { SessionOutcome, SessionPhase, InvocationPurpose } from '../session/model.ts';
import type { HeldFault } from '../db/repositories/control.ts';
import type { DesignerKind, InvocationReport } from '../agent/designer.ts';
import type { FaultClass, InfrastructureFault } from '../kernel/faults.ts';
import { invocationFailure } from './decide.ts';

/**
 * What an invocation's end means for its session: its effect happened; it did not, through no fault of the design
 * (the attempt is refunded and the session waits in its phase); or it did not, and that is the research result.
 */
export type AfterInvocation =
  | { kind: 'ended' }
  | { kind: 'achieved' }
  /** The call went out as a Message Batch (or its batch is still processing): the attempt is refunded, no fault. */
  | { kind: 'waiting'; reason: string }
  | { kind: 'refund'; cause: 'budget_exhausted' }
  | { kind: 'refund'; cause: 'fault'; fault: InfrastructureFault }
  | { kind: 'fail'; outcome: SessionOutcome; reason: string }
  /** An operator paused the agent mid-invocation: the attempt is refunded and the session waits for `resume`. */
  | { kind: 'stopped'; reason: string };

export interface AfterInvocationInput {
  purpose: InvocationPurpose;
  /** The session as the invocation left it; null when it no longer exists. */
  session: { phase: SessionPhase; outcome: SessionOutcome | null } | null;
  report: Pick<InvocationReport, 'status' | 'reason' | 'lastText' | 'fault'>;
}

export function afterInvocation(input: AfterInvocationInput): AfterInvocation {
  const { session, report, purpose } = input;
  // The invocation's own tool ended the session (an assessment saved) or an operator cancelled it meanwhile.
  if (!session || session.outcome) return { kind: 'ended' };
  if (report.status === 'batch_pending') return { kind: 'waiting', reason: report.reason };
  const achieved = (purpose === 'design' && session.phase !== 'designing') || (purpose === 'backtest' && session.phase === 'backtesting');
  // The effect happened before anything went wrong: the session moves on whatever the invocation's status.
  if (achieved) return { kind: 'achieved' };
  if (report.status === 'operator_stopped') return { kind: 'stopped', reason: report.reason };
  switch (report.status) {
    case 'budget_exhausted':
      return { kind: 'refund', cause: 'budget_exhausted' };
    case 'ktrdr_unreachable':
      return { kind: 'refund', cause: 'fault', fault: report.fault ?? { faultClass: 'ktrdr_unreachable', cause: report.reason } };
    case 'infrastructure_fault':
      // The designer contract sets `fault` with this status; a report without one still is no research result.
      return { kind: 'refund', cause: 'fault', fault: report.fault ?? { faultClass: 'anthropic_unreachable', cause: report.reason } };
    default: {
      if (report.fault) return { kind: 'refund', cause: 'fault', fault: report.fault };
      const lastWords = report.lastText ? ` Last words: ${report.lastText.slice(0, 500)}` : '';
      return {
        kind: 'fail',
        outcome: invocationFailure[purpose],
        reason: `the ${purpose} invocation ended without its effect (${report.status}: ${report.reason}).${lastWords}`,
      };
    }
  }
}

/** Invocation statuses that only a model that answered can produce. */
const MODEL_ANSWERED: ReadonlySet<InvocationReport['status']> = new Set(['completed', 'max_turns', 'max_tokens', 'refusal', 'tool_error_limit']);

/**
 * Whether an invocation shows the world works again, so a held fault is lifted: its effect happened, or the model
 * answered. A designer that threw, an API error or a timeout proves nothing either way.
 */
export function provesTheWorldWorks(next: AfterInvocation, report: Pick<InvocationReport, 'status' | 'fault'>): boolean {
  if (report.fault) return false;
  return next.kind === 'achieved' || next.kind === 'ended' || MODEL_ANSWERED.has(report.status);
}

/** Faults that hold invocations back across passes; KTRDR faults do not, as every pass checks KTRDR first anyway. */
export function holdsInvocations(faultClass: FaultClass): boolean {
  return faultClass.startsWith('anthropic_') || faultClass === 'strategies_dir';
}

/**
 * KTRDR faults that mean it cannot be used now (down, or refusing our credentials): the pass stops calling it and
 * `status` shows since when. A busy KTRDR (no free worker) is up.
 */
export function meansKtrdrDown(faultClass: FaultClass): boolean {
  return faultClass === 'ktrdr_unreachable' || faultClass === 'ktrdr_auth';
}

/** Authentication faults stop invocations until the configuration changes or an operator runs `resume`. */
export function stopsUntilReconfigured(faultClass: FaultClass): boolean {
  return faultClass === 'anthropic_auth';
}

/**
 * How long after the n-th fault in a row the next invocation may try again: the next pass after the first, then the
 * base (AGENT_FAULT_BACKOFF_MINUTES, 5), doubling to at most 12 times it (5, 10, 20, 40, 60 minutes). A tenth early,
 * at most half a minute, so a tick that starts on its schedule is not a pass late.
 */
export function retryDelayMs(streak: number, baseMinutes: number): number {
  if (streak <= 1) return 0;
  const delayMs = Math.min(baseMinutes * 2 ** (streak - 2), 12 * baseMinutes) * 60_000;
  return delayMs - Math.min(30_000, delayMs / 10);
}

/** When a held fault lets the next invocation try again. */
export function faultRetryAt(fault: Pick<HeldFault, 'lastAt' | 'streak'>, backoffMinutes: number): Date {
  return new Date(fault.lastAt.getTime() + retryDelayMs(fault.streak, backoffMinutes));
}

export type InvocationHold =
  | { held: false }
  | { held: true; skipReason: 'anthropic_auth'; fault: HeldFault }
  | { held: true; skipReason: 'fault_backoff'; fault: HeldFault; retryAt: Date };

/** Whether a held fault keeps this pass from invoking the designer. */
export function invocationHold(input: {
  fault: HeldFault | null;
  designerKind: DesignerKind;
  /** Fingerprint of the configured API key; null when none is set. */
  keyFingerprint: string | null;
  now: Date;
  /** AGENT_FAULT_BACKOFF_MINUTES. */
  backoffMinutes: number;
}): InvocationHold {
  const { fault } = input;
  if (!fault || !holdsInvocations(fault.faultClass)) return { held: false };
  // The baseline designer never calls Anthropic: only a fault it shares (the strategies directory) holds it.
  // A designer that never calls Claude is not held back by Claude's faults.
  if (input.designerKind !== 'claude' && fault.faultClass.startsWith('anthropic_')) return { held: false };
  if (stopsUntilReconfigured(fault.faultClass)) {
    return fault.keyFingerprint !== null && fault.keyFingerprint === input.keyFingerprint
      ? { held: true, skipReason: 'anthropic_auth', fault }
      : { held: false };
  }
  const retryAt = faultRetryAt(fault, input.backoffMinutes);
  return input.now.getTime() < retryAt.getTime() ? { held: true, skipReason: 'fault_backoff', fault, retryAt } : { held: false };
}
