import type { Settings } from '../config/schema.ts';
import type { Session } from '../db/repositories/sessions.ts';
import type { DesignerKind } from '../agent/designer.ts';
import { priceFor, worstCaseCost } from '../budget/pricing.ts';
import type { Decision, DecisionInput, OperationObservation } from './decide.ts';

/** An invocation that died with its process (its lease expired) is retried once: two attempts in all. */
export const MAX_INVOCATION_ATTEMPTS = 2;

/**
 * The most a first request sends (system prompt, tools and the session's context): it bounds the worst case of the
 * cheapest call, below which the budget buys nothing.
 */
export const FIRST_REQUEST_INPUT_TOKENS = 6_000;

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

/** The worst case of a first request: less than this left above the buffer buys no call. */
export function minimumCallUsd(settings: InvocationBudgetSettings): number {
  const price = priceFor(settings.AGENT_MODEL, settings.AGENT_MODEL_PRICES);
  return worstCaseCost(price, { inputTokensUpperBound: FIRST_REQUEST_INPUT_TOKENS, maxTokens: settings.AGENT_MAX_TOKENS });
}

/** An invocation may start: the baseline costs nothing; otherwise what is left above the buffer must pay for a call. */
export function canInvoke(input: { designerKind: DesignerKind; remainingUsd: number; settings: InvocationBudgetSettings }): boolean {
  const { settings } = input;
  if (input.designerKind !== 'claude' || !settings.AGENT_BUDGET_ENFORCEMENT) return true;
  const spendable = input.remainingUsd - settings.AGENT_BUDGET_BUFFER_USD;
  return spendable > 0 && spendable >= minimumCallUsd(settings);
}
