import { phaseOperationId, type GateEvaluation, type InvocationPurpose, type SessionOutcome, type SessionPhase, type TriggerReason } from '../session/model.ts';
import type { OperationStatus } from '../ktrdr/schemas.ts';
import { evaluateBacktestGate, evaluateTrainingGate, type GateThresholds } from './gates.ts';

/** Why decide() (or the pause rule, whilePaused) skips a session; the pass records more (decision-record.ts `RecordedSkipReason`). */
export type SkipReason =
  | 'paused'
  | 'ktrdr_unreachable'
  /** KTRDR up but with no free worker (503) or rate-limiting (429): it is there, just not now. */
  | 'ktrdr_busy'
  | 'operation_still_running'
  | 'invocation_in_progress'
  | 'budget_exceeded';

/** What one poll of the session's KTRDR operation found. */
export type OperationObservation =
  | { kind: 'none' }
  | { kind: 'unreachable'; error: string; faultClass?: 'ktrdr_unreachable' | 'ktrdr_auth' | 'ktrdr_busy' }
  | { kind: 'not_found' }
  /** The operation under the session's id is not the one it started (another run's, or a resume of another request). */
  | { kind: 'foreign'; operationId: string; reason: string }
  | {
      kind: 'status';
      status: OperationStatus;
      percentage: number | null;
      currentStep: string | null;
      errorMessage: string | null;
    };

/** The phases of an active session: an ended one is idle (the store's `finished_is_idle` constraint) and has no next step. */
export type ActivePhase = Exclude<SessionPhase, 'idle'>;

export interface SessionSnapshot {
  id: number;
  phase: ActivePhase;
  trainingOperationId: string | null;
  backtestOperationId: string | null;
  resumeAttempts: number;
  invocationAttempts: number;
  leaseExpiresAt: Date | null;
  progressChangedAt: Date | null;
  lastProgress: { percentage: number | null; currentStep: string | null; seenAt: Date | null; status?: string | null } | null;
  /** A Message Batch of this session is open: collecting it spends nothing new (its worst case is already held). */
  waitingForBatch?: boolean;
}

/**
 * Where the reason this agent gives KTRDR for cancelling a run before its fresh start begins. KTRDR keeps a cancel's
 * reason as the operation's `error_message` (`OperationsService.cancel_operation`, operations_service.py at
 * 2c5c7173), so a pass that finds its session's run cancelled with it knows the fresh start may have gone out.
 */
export const FRESH_START_CANCEL_PREFIX = 'ktrdr-agent: cancelled for a fresh start: ';

/** Which kind of "no progress": each has its own limit, since a queue or a resume that hangs is noticed sooner. */
export type StallCase = 'queued' | 'resuming' | 'running_at_zero' | 'no_progress';

export interface StallLimits {
  /** `pending`: no worker took the operation. */
  queuedMs: number;
  /** `resuming`: KTRDR can keep answering `resuming` for a training that already finished (seen on 2c5c7173). */
  resumingMs: number;
  /** `running` at 0%: e.g. a restarted worker on the same URL adopted a dead worker's operation. */
  runningAtZeroMs: number;
  /** `running` with progress that stopped moving. */
  runningMs: number;
}

export interface DecisionInput {
  session: SessionSnapshot;
  operation: OperationObservation;
  /** Flattened results, present once the operation completed and its results were read. */
  trainingResult: { accuracy: number | null; finalLoss: number | null; lossReduction: number | null; modelPath?: string | null } | null;
  backtestResult: { winRate: number | null; maxDrawdown: number | null; sharpe: number | null; deflatedSharpe?: number | null } | null;
  /** False when the budget is at or under the buffer (never false for the zero-cost baseline designer). */
  canInvoke: boolean;
  now: Date;
  config: {
    gates: GateThresholds;
    /** Resumes, and fresh starts after a stall, of one session's operation. */
    resumeMaxAttempts: number;
    stall: StallLimits;
    /** An invocation that died with its process is retried once: two attempts in all. */
    maxInvocationAttempts: number;
  };
}

export type Decision =
  | { action: 'skip'; trigger: TriggerReason; skipReason: SkipReason }
  | {
      action: 'record_progress';
      trigger: 'operation_still_running';
      progress: { percentage: number | null; currentStep: string | null; status: string };
      changed: boolean;
    }
  | { action: 'resume_operation'; trigger: 'training_failed' | 'backtest_failed'; operationId: string; errorMessage: string | null }
  | {
      action: 'restart_operation';
      trigger: 'training_failed' | 'backtest_failed';
      operationId: string;
      /** The stall seen, or a fresh start already under way whose pass died before recording it. */
      stallCase: StallCase | 'unrecorded_fresh_start';
      /** What was seen, for the operator: "resuming for 12 min". */
      reason: string;
    }
  | {
      action: 'fail';
      trigger: TriggerReason;
      outcome: SessionOutcome;
      reason: string;
      cancelOperationId?: string;
      gate?: GateEvaluation;
    }
  | { action: 'enter_assessing'; trigger: 'backtest_completed'; gate: GateEvaluation; invoke: boolean }
  | { action: 'invoke'; trigger: TriggerReason; purpose: InvocationPurpose; gate?: GateEvaluation; retry: boolean };

type LeaseState = 'none' | 'live' | 'expired';

function leaseState(session: SessionSnapshot, now: Date): LeaseState {
  if (!session.leaseExpiresAt) return 'none';
  return session.leaseExpiresAt.getTime() > now.getTime() ? 'live' : 'expired';
}

export const invocationFailure: Record<InvocationPurpose, 'failed_design' | 'failed_backtest' | 'failed_assessment'> = {
  design: 'failed_design',
  backtest: 'failed_backtest',
  assess: 'failed_assessment',
};

/**
 * An invocation is due: the first one, a retry of one that died with its process (expired lease), or nothing
 * when one is still running or the retry was already used.
 */
function invocationDecision(input: DecisionInput, purpose: InvocationPurpose, trigger: TriggerReason, gate?: GateEvaluation): Decision {
  const lease = leaseState(input.session, input.now);
  if (lease === 'live') return { action: 'skip', trigger, skipReason: 'invocation_in_progress' };
  const attempts = input.session.invocationAttempts;
  if (attempts >= input.config.maxInvocationAttempts) {
    return {
      action: 'fail',
      trigger,
      outcome: invocationFailure[purpose],
      reason: `the ${purpose} invocation did not finish after ${attempts} attempts (its process died or timed out)`,
      ...(gate ? { gate } : {}),
    };
  }
  if (!input.canInvoke && !input.session.waitingForBatch) return { action: 'skip', trigger, skipReason: 'budget_exceeded' };
  return { action: 'invoke', trigger, purpose, retry: attempts > 0, ...(gate ? { gate } : {}) };
}

function operationDecision(input: DecisionInput, kind: 'training' | 'backtest'): Decision | null {
  const operationId = phaseOperationId(input.session);
  const failedTrigger: TriggerReason = kind === 'training' ? 'training_failed' : 'backtest_failed';
  const failedOutcome: SessionOutcome = kind === 'training' ? 'failed_training' : 'failed_backtest';
  const op = input.operation;
  // The poll finds nothing to ask about exactly when the phase has no operation id (poll-session.ts).
  if (!operationId || op.kind === 'none') {
    return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `no ${kind} operation id on the session` };
  }
  switch (op.kind) {
    case 'unreachable':
      return { action: 'skip', trigger: 'operation_still_running', skipReason: ktrdrSkipReason(op.faultClass) };
    case 'not_found':
      return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `${kind} operation ${operationId} is unknown to KTRDR (404)` };
    case 'foreign':
      return {
        action: 'fail',
        trigger: failedTrigger,
        outcome: failedOutcome,
        reason: `${kind} operation ${operationId} is not the one this session started (${op.reason}); its results were not read`,
      };
  }
  switch (op.status) {
    case 'pending':
    case 'running':
    case 'resuming': {
      const last = input.session.lastProgress;
      const stallCase = stallCaseOf(op.status, op.percentage);
      const limitMs = stallLimitMs(input.config.stall, stallCase);
      // Time the pass could not watch (KTRDR down, agent paused) is not a stall: a gap in observation restarts the
      // clock. The gap is measured against the longest limit, so a short limit is not reset by a normal poll interval.
      const unobserved = !last?.seenAt || input.now.getTime() - last.seenAt.getTime() > Math.max(limitMs, input.config.stall.runningMs);
      const statusChanged = last?.status !== undefined && last.status !== null && last.status !== op.status;
      const changed = unobserved || statusChanged || last.percentage !== op.percentage || last.currentStep !== op.currentStep;
      const since = input.session.progressChangedAt;
      if (!changed && since && input.now.getTime() - since.getTime() > limitMs) {
        const minutes = Math.round((input.now.getTime() - since.getTime()) / 60000);
        const reason = `${kind} operation ${operationId} made no progress: ${stallDescription[stallCase]} for ${minutes} min (limit ${Math.round(limitMs / 60000)} min; at ${op.currentStep ?? `${op.percentage ?? 0}%`})`;
        if (input.session.resumeAttempts < input.config.resumeMaxAttempts) {
          return { action: 'restart_operation', trigger: failedTrigger, operationId, stallCase, reason };
        }
        return {
          action: 'fail',
          trigger: failedTrigger,
          outcome: failedOutcome,
          reason: `${reason}; no fresh start left after ${input.session.resumeAttempts} resume(s) or restart(s)`,
          cancelOperationId: operationId,
        };
      }
      return {
        action: 'record_progress',
        trigger: 'operation_still_running',
        progress: { percentage: op.percentage, currentStep: op.currentStep, status: op.status },
        changed,
      };
    }
    case 'failed': {
      const unfixable = unresumableFailure(op.errorMessage);
      if (!unfixable && input.session.resumeAttempts < input.config.resumeMaxAttempts) {
        return { action: 'resume_operation', trigger: failedTrigger, operationId, errorMessage: op.errorMessage };
      }
      return {
        action: 'fail',
        trigger: failedTrigger,
        outcome: failedOutcome,
        reason: `${kind} operation ${operationId} failed${input.session.resumeAttempts > 0 ? ` after ${input.session.resumeAttempts} resume(s)` : ''}: ${op.errorMessage ?? 'no error message from KTRDR'}${unfixable ? ` (not resumed: ${unfixable})` : ''}`,
      };
    }
    case 'cancelled':
      // This agent cancelled it to start it afresh, and the pass died before it recorded the new run: resuming it would
      // run it beside that fresh start. The fresh start is made again, which takes up the one that went out (a
      // training's task id names it; a backtest's live run of the same request is adopted, recovery.ts).
      if (op.errorMessage?.startsWith(FRESH_START_CANCEL_PREFIX) && input.session.resumeAttempts < input.config.resumeMaxAttempts) {
        return {
          action: 'restart_operation',
          trigger: failedTrigger,
          operationId,
          stallCase: 'unrecorded_fresh_start',
          reason: `${kind} operation ${operationId} was cancelled by this agent for a fresh start that was not recorded (${op.errorMessage.slice(FRESH_START_CANCEL_PREFIX.length)})`,
        };
      }
      // Otherwise the agent cancels only operations whose session it ends (and the operator's `cancel` ends it too), so
      // an active session's operation cancelled in KTRDR was cancelled by the world: a killed training worker does that
      // (seen with test:real on 2c5c7173). It is resumed from its cancellation checkpoint, or started afresh.
      if (input.session.resumeAttempts < input.config.resumeMaxAttempts) {
        return { action: 'resume_operation', trigger: failedTrigger, operationId, errorMessage: 'cancelled in KTRDR, not by this agent' };
      }
      return {
        action: 'fail',
        trigger: failedTrigger,
        outcome: failedOutcome,
        reason: `${kind} operation ${operationId} was cancelled in KTRDR${input.session.resumeAttempts > 0 ? ` after ${input.session.resumeAttempts} resume(s) or restart(s)` : ''}`,
      };
    case 'completed':
      return null;
  }
}

function stallCaseOf(status: 'pending' | 'running' | 'resuming', percentage: number | null): StallCase {
  if (status === 'pending') return 'queued';
  if (status === 'resuming') return 'resuming';
  return (percentage ?? 0) <= 0 ? 'running_at_zero' : 'no_progress';
}

function stallLimitMs(limits: StallLimits, stallCase: StallCase): number {
  switch (stallCase) {
    case 'queued':
      return limits.queuedMs;
    case 'resuming':
      return limits.resumingMs;
    case 'running_at_zero':
      return limits.runningAtZeroMs;
    case 'no_progress':
      return limits.runningMs;
  }
}

const stallDescription: Record<StallCase, string> = {
  queued: 'queued (pending) with no worker taking it',
  resuming: "still 'resuming'",
  running_at_zero: "'running' at 0%",
  no_progress: "'running' with progress unchanged",
};

/**
 * Failures a resume from the checkpoint cannot fix: the same data, strategy and configuration fail again, and a
 * KTRDR failure checkpoint may hold another request (a resume then trains something else). Null: worth a resume.
 */
const unresumablePatterns: { pattern: RegExp; why: string }[] = [
  { pattern: /no data|data not (found|available)|insufficient data|not enough data|no .*bars/i, why: 'missing data' },
  {
    pattern: /validation|invalid|configuration|config error|not supported|unknown indicator|is required|missing required/i,
    why: 'a validation or configuration error',
  },
  { pattern: /strategy file not found|model not found|not found: .*\.ya?ml/i, why: 'a missing strategy or model' },
];

export function unresumableFailure(errorMessage: string | null): string | null {
  if (!errorMessage) return null;
  const hit = unresumablePatterns.find(({ pattern }) => pattern.test(errorMessage));
  return hit ? `${hit.why} fails again on a resume` : null;
}

/** The trigger decision: a pure function of the session, what KTRDR said, the results, the budget and the clock. */
export function decide(input: DecisionInput): Decision {
  const { session } = input;
  switch (session.phase) {
    case 'designing':
      return invocationDecision(input, 'design', 'start_new_cycle');
    case 'assessing':
      return invocationDecision(input, 'assess', 'backtest_completed');
    case 'training': {
      if (leaseState(session, input.now) === 'live') return { action: 'skip', trigger: 'training_completed', skipReason: 'invocation_in_progress' };
      const early = operationDecision(input, 'training');
      if (early) return early;
      if (!input.trainingResult) {
        return { action: 'fail', trigger: 'training_completed', outcome: 'failed_training', reason: 'training completed but KTRDR returned no results' };
      }
      const gate = evaluateTrainingGate(input.trainingResult, input.config.gates);
      if (!gate.passed)
        return { action: 'fail', trigger: 'training_completed', outcome: 'failed_training_gate', reason: `training gate: ${gate.reason}`, gate };
      if (input.trainingResult.modelPath === null) {
        return {
          action: 'fail',
          trigger: 'training_completed',
          outcome: 'failed_training',
          reason: 'training completed without a model_path: there is no model to backtest',
          gate,
        };
      }
      return invocationDecision(input, 'backtest', 'training_completed', gate);
    }
    case 'backtesting': {
      const early = operationDecision(input, 'backtest');
      if (early) return early;
      if (!input.backtestResult) {
        return { action: 'fail', trigger: 'backtest_completed', outcome: 'failed_backtest', reason: 'backtest completed but KTRDR returned no results' };
      }
      const gate = evaluateBacktestGate(input.backtestResult, input.config.gates);
      if (!gate.passed)
        return { action: 'fail', trigger: 'backtest_completed', outcome: 'failed_backtest_gate', reason: `backtest gate: ${gate.reason}`, gate };
      return { action: 'enter_assessing', trigger: 'backtest_completed', gate, invoke: input.canInvoke };
    }
  }
}

/** The skip reason of a KTRDR fault: busy is not down (a 503 with no free worker says KTRDR is there). */
export function ktrdrSkipReason(faultClass: string | undefined): 'ktrdr_busy' | 'ktrdr_unreachable' {
  return faultClass === 'ktrdr_busy' ? 'ktrdr_busy' : 'ktrdr_unreachable';
}
