import type { Settings } from '../config/schema.ts';
import type { Session } from '../db/repositories/sessions.ts';
import type { DesignerKind } from '../agent/designer.ts';
import { canInvoke as budgetVerdict, cheapestCallUsd, type InvokeVerdict } from '../budget/can-invoke.ts';
import type { Decision, DecisionInput, OperationObservation } from './decide.ts';

/** An invocation that died with its process (its lease expired) is retried once: two attempts in all. */
export const MAX_INVOCATION_ATTEMPTS = 2;

export type DecisionSettings = Pick<
  Settings,
  | 'GATE_TRAINING_MIN_ACCURACY'
  | 'GATE_TRAINING_MAX_LOSS'
  | 'GATE_TRAINING_MIN_LOSS_REDUCTION'
  | 'GATE_TRAINING_MIN_DIRECTIONAL_ACCURACY'
  | 'GATE_BACKTEST_MIN_WIN_RATE'
  | 'GATE_BACKTEST_MAX_DRAWDOWN'
  | 'GATE_BACKTEST_MIN_SHARPE'
  | 'GATE_BACKTEST_MIN_DSR'
  | 'AGENT_RESUME_MAX_ATTEMPTS'
  | 'AGENT_STALL_QUEUED_MINUTES'
  | 'AGENT_STALL_RESUMING_MINUTES'
  | 'AGENT_STALL_ZERO_PROGRESS_MINUTES'
  | 'AGENT_STALL_TIMEOUT_MINUTES'
>;

export function decisionConfig(settings: DecisionSettings): DecisionInput['config'] {
  return {
    gates: {
      trainingMinAccuracy: settings.GATE_TRAINING_MIN_ACCURACY,
      trainingMaxLoss: settings.GATE_TRAINING_MAX_LOSS,
      trainingMinLossReduction: settings.GATE_TRAINING_MIN_LOSS_REDUCTION,
      trainingMinDirectionalAccuracy: settings.GATE_TRAINING_MIN_DIRECTIONAL_ACCURACY,
      backtestMinWinRate: settings.GATE_BACKTEST_MIN_WIN_RATE,
      backtestMaxDrawdown: settings.GATE_BACKTEST_MAX_DRAWDOWN,
      backtestMinSharpe: settings.GATE_BACKTEST_MIN_SHARPE,
      backtestMinDsr: settings.GATE_BACKTEST_MIN_DSR ?? null,
    },
    resumeMaxAttempts: settings.AGENT_RESUME_MAX_ATTEMPTS,
    stall: {
      queuedMs: settings.AGENT_STALL_QUEUED_MINUTES * 60_000,
      resumingMs: settings.AGENT_STALL_RESUMING_MINUTES * 60_000,
      runningAtZeroMs: settings.AGENT_STALL_ZERO_PROGRESS_MINUTES * 60_000,
      runningMs: settings.AGENT_STALL_TIMEOUT_MINUTES * 60_000,
    },
    maxInvocationAttempts: MAX_INVOCATION_ATTEMPTS,
  };
}

/** The session as decide() sees it; a session whose progress never changed counts from the start of its phase. */
export function sessionSnapshot(session: Session, waitingForBatch: boolean): DecisionInput['session'] {
  const progress = session.operationProgress;
  const { phase } = session;
  // The pass decides only for active sessions, and the store holds no active session idle (`finished_is_idle`).
  if (phase === 'idle') throw new Error(`session ${session.id} has ended: there is no next step to decide for it`);
  return {
    id: session.id,
    phase,
    trainingOperationId: session.trainingOperationId,
    backtestOperationId: session.backtestOperationId,
    resumeAttempts: session.resumeAttempts,
    invocationAttempts: session.invocationAttempts,
    leaseExpiresAt: session.leaseExpiresAt,
    progressChangedAt: session.progressChangedAt ?? session.phaseStartedAt,
    waitingForBatch,
    lastProgress: progress
      ? {
          percentage: progress.percentage,
          currentStep: progress.currentStep,
          seenAt: progress.seenAt ? new Date(progress.seenAt) : null,
          status: progress.status ?? null,
        }
      : null,
  };
}

/** decide()'s input for one polled session: a pure mapping of the session, what the poll found and the settings. */
export function decisionInputFor(input: {
  session: Session;
  observation: OperationObservation;
  trainingResult: DecisionInput['trainingResult'];
  backtestResult: DecisionInput['backtestResult'];
  waitingForBatch: boolean;
  canInvoke: boolean;
  now: Date;
  settings: DecisionSettings;
}): DecisionInput {
  return {
    session: sessionSnapshot(input.session, input.waitingForBatch),
    operation: input.observation,
    trainingResult: input.trainingResult,
    backtestResult: input.backtestResult,
    canInvoke: input.canInvoke,
    now: input.now,
    config: decisionConfig(input.settings),
  };
}

/**
 * The one rule of a pause for sessions under way: decide() knows nothing of it; a paused pass applies this to its
 * decision, so progress is still recorded (the no-progress clocks stay true) and every other decision is a skip.
 */
export function whilePaused(decision: Decision): Decision {
  return decision.action === 'record_progress' ? decision : { action: 'skip', trigger: 'paused', skipReason: 'paused' };
}

export type InvocationBudgetSettings = Pick<
  Settings,
  'AGENT_BUDGET_ENFORCEMENT' | 'AGENT_BUDGET_BUFFER_USD' | 'AGENT_MODEL' | 'AGENT_MODEL_PRICES' | 'AGENT_MAX_TOKENS'
>;

/** The worst case of a first request with the configured model (budget/can-invoke.ts `cheapestCallUsd`). */
export function minimumCallUsd(settings: InvocationBudgetSettings): number {
  return cheapestCallUsd({ model: settings.AGENT_MODEL, priceOverrides: settings.AGENT_MODEL_PRICES, maxTokens: settings.AGENT_MAX_TOKENS });
}

/** The budget's go/no-go (budget/can-invoke.ts) for the pass's designer under the settings, with its reason. */
export function invokeVerdict(input: { designerKind: DesignerKind; remainingUsd: number; settings: InvocationBudgetSettings }): InvokeVerdict {
  const { settings } = input;
  const metered = input.designerKind === 'claude';
  return budgetVerdict({
    metered,
    enforce: settings.AGENT_BUDGET_ENFORCEMENT,
    remainingUsd: input.remainingUsd,
    bufferUsd: settings.AGENT_BUDGET_BUFFER_USD,
    // Only a metered, enforced budget needs the price (an unpriced model must not fail the baseline's pass).
    cheapestCallUsd: metered && settings.AGENT_BUDGET_ENFORCEMENT ? minimumCallUsd(settings) : 0,
  });
}

/** Whether an invocation may start (`invokeVerdict` without its reason), as decide() takes it. */
export function canInvoke(input: { designerKind: DesignerKind; remainingUsd: number; settings: InvocationBudgetSettings }): boolean {
  return invokeVerdict(input).ok;
}
