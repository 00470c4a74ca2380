import type { SessionOutcome, SessionPhase } from '../db/database-schema.ts';
import type { GateEvaluation } from '../db/repositories/sessions.ts';
import { evaluateBacktestGate, evaluateTrainingGate, type GateThresholds } from './gates.ts';

export type TriggerReason =
  | 'start_new_cycle'
  | 'training_completed'
  | 'training_failed'
  | 'backtest_completed'
  | 'backtest_failed'
  | 'operation_still_running'
  | 'invocation_check'
  | 'paused';

export type SkipReason =
  | 'paused'
  | 'ktrdr_unreachable'
  | 'operation_still_running'
  | 'invocation_in_progress'
  | 'budget_exceeded'
  | 'infrastructure_fault'
  | 'anthropic_auth'
  | 'fault_backoff';

export type InvocationPurpose = 'design' | 'backtest' | 'assess';

/** What one poll of the session's KTRDR operation found. */
export type OperationObservation =
  | { kind: 'none' }
  | { kind: 'unreachable'; error: string; faultClass?: 'ktrdr_unreachable' | 'ktrdr_auth' | 'ktrdr_busy' }
  | { kind: 'not_found' }
  | {
      kind: 'status';
      status: string;
      percentage: number | null;
      currentStep: string | null;
      errorMessage: string | null;
    };

export interface SessionSnapshot {
  id: number;
  phase: SessionPhase;
  trainingOperationId: string | null;
  backtestOperationId: string | null;
  resumeAttempts: number;
  invocationAttempts: number;
  leaseExpiresAt: Date | null;
  progressChangedAt: Date | null;
  lastProgress: { percentage: number | null; currentStep: string | null; seenAt: Date | null } | null;
}

export interface DecisionInput {
  session: SessionSnapshot;
  operation: OperationObservation;
  /** Flattened results, present once the operation completed and its results were read. */
  trainingResult: { accuracy: number | null; finalLoss: number | null; lossReduction: number | null; modelPath?: string | null } | null;
  backtestResult: { winRate: number | null; maxDrawdown: number | null; sharpe: number | null } | null;
  /** False when the budget is at or under the buffer (never false for the zero-cost baseline designer). */
  canInvoke: boolean;
  paused: boolean;
  now: Date;
  config: {
    gates: GateThresholds;
    resumeMaxAttempts: number;
    stallTimeoutMs: number;
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
function invocationDecision(
  input: DecisionInput,
  purpose: InvocationPurpose,
  trigger: TriggerReason,
  gate?: GateEvaluation,
): Decision {
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
  if (!input.canInvoke) return { action: 'skip', trigger, skipReason: 'budget_exceeded' };
  return { action: 'invoke', trigger, purpose, retry: attempts > 0, ...(gate ? { gate } : {}) };
}

function operationDecision(input: DecisionInput, kind: 'training' | 'backtest'): Decision | null {
  const operationId = kind === 'training' ? input.session.trainingOperationId : input.session.backtestOperationId;
  const failedTrigger: TriggerReason = kind === 'training' ? 'training_failed' : 'backtest_failed';
  const failedOutcome: SessionOutcome = kind === 'training' ? 'failed_training' : 'failed_backtest';
  const op = input.operation;
  if (!operationId) return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `no ${kind} operation id on the session` };
  switch (op.kind) {
    case 'none':
      return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `the ${kind} operation ${operationId} was not polled` };
    case 'unreachable':
      return { action: 'skip', trigger: 'operation_still_running', skipReason: 'ktrdr_unreachable' };
    case 'not_found':
      return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `${kind} operation ${operationId} is unknown to KTRDR (404)` };
  }
  switch (op.status) {
    case 'pending':
    case 'running':
    case 'resuming': {
      const last = input.session.lastProgress;
      // Time the pass could not watch (KTRDR down, agent paused) is not a stall: a gap in observation restarts the clock.
      const unobserved = !last?.seenAt || input.now.getTime() - last.seenAt.getTime() > input.config.stallTimeoutMs;
      const changed = unobserved || last.percentage !== op.percentage || last.currentStep !== op.currentStep;
      const since = input.session.progressChangedAt;
      // A queued (pending) operation waits for a worker: that is not a stall either.
      if (op.status !== 'pending' && !changed && since && input.now.getTime() - since.getTime() > input.config.stallTimeoutMs) {
        const minutes = Math.round((input.now.getTime() - since.getTime()) / 60000);
        return {
          action: 'fail',
          trigger: failedTrigger,
          outcome: failedOutcome,
          reason: `${kind} operation ${operationId} stalled: no progress for ${minutes} min (at ${op.currentStep ?? `${op.percentage ?? 0}%`})`,
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
    case 'failed':
      if (input.session.resumeAttempts < input.config.resumeMaxAttempts) {
        return { action: 'resume_operation', trigger: failedTrigger, operationId, errorMessage: op.errorMessage };
      }
      return {
        action: 'fail',
        trigger: failedTrigger,
        outcome: failedOutcome,
        reason: `${kind} operation ${operationId} failed${input.session.resumeAttempts > 0 ? ` after ${input.session.resumeAttempts} resume(s)` : ''}: ${op.errorMessage ?? 'no error message from KTRDR'}`,
      };
    case 'cancelled':
      return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `${kind} operation ${operationId} was cancelled in KTRDR` };
    case 'completed':
      return null;
    default:
      return { action: 'fail', trigger: failedTrigger, outcome: failedOutcome, reason: `${kind} operation ${operationId} has an unknown status '${op.status}'` };
  }
}

/** The trigger decision: a pure function of the session, what KTRDR said, the results, the budget and the clock. */
export function decide(input: DecisionInput): Decision {
  const { session } = input;
  if (input.paused) return { action: 'skip', trigger: 'paused', skipReason: 'paused' };
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
      if (!gate.passed) return { action: 'fail', trigger: 'training_completed', outcome: 'failed_training_gate', reason: `training gate: ${gate.reason}`, gate };
      if (input.trainingResult.modelPath === null) {
        return { action: 'fail', trigger: 'training_completed', outcome: 'failed_training', reason: 'training completed without a model_path: there is no model to backtest', gate };
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
      if (!gate.passed) return { action: 'fail', trigger: 'backtest_completed', outcome: 'failed_backtest_gate', reason: `backtest gate: ${gate.reason}`, gate };
      return { action: 'enter_assessing', trigger: 'backtest_completed', gate, invoke: input.canInvoke };
    }
    case 'idle':
      return { action: 'skip', trigger: 'invocation_check', skipReason: 'operation_still_running' };
  }
}
