// The --json contract of the read commands. Scripts parse these documents, so every shape is a schema that the
// tests check the real output against; the views' TypeScript types are inferred from here so the two cannot drift.
import { z } from 'zod';
import {
  gateComparisons,
  gateKinds,
  hypothesisStatuses,
  sessionOutcomes,
  sessionPhases,
  verdicts,
  type Assessment,
  type GateEvaluation,
} from '../../session/model.ts';
import { tickStatuses } from '../../db/database-schema.ts';
import { promotionCountsSchema, promotionSchema } from './promotion-schemas.ts';
import { utilizationSchema } from './utilization.ts';
import { searchSummarySchema, sessionSearchSchema } from './search-view.ts';

const isoTime = z.iso.datetime();
const day = z.iso.date();
const usd = z.number();
const count = z.int().nonnegative();
const fraction = z.number().nullable();

export const phaseSchema = z.enum(sessionPhases);
export const activePhaseSchema = z.enum(['designing', 'training', 'backtesting', 'assessing']);
export const outcomeSchema = z.enum(sessionOutcomes);

/** The KTRDR operation a session waits on, with the progress last polled. */
export const operationSchema = z.object({
  kind: z.enum(['training', 'backtest']),
  id: z.string(),
  /** KTRDR's status at the last poll; null before the first poll. */
  status: z.string().nullable(),
  /** 0..100. */
  percentage: z.number().min(0).max(100).nullable(),
  currentStep: z.string().nullable(),
  seenAt: isoTime.nullable(),
  progressChangedAt: isoTime.nullable(),
  /** Running with no progress for longer than AGENT_STALL_TIMEOUT_MINUTES. */
  stalled: z.boolean(),
});

/** A designer or assessor invocation holding the session's lease right now. */
export const invocationSchema = z.object({ owner: z.string(), expiresAt: isoTime });

/** A Message Batch the session waits for: its result is collected (and its reservation settled) on a later tick. */
export const batchWaitSchema = z.object({
  batchId: z.string().nullable(),
  customId: z.string(),
  status: z.enum(['submitting', 'in_progress', 'canceling']),
  submittedAt: isoTime,
  expiresAt: isoTime.nullable(),
  reservedUsd: z.number().nonnegative(),
});

export const gateCheckSchema = z.object({
  metric: z.string(),
  value: z.number().nullable(),
  threshold: z.number(),
  comparison: z.enum(gateComparisons),
  passed: z.boolean(),
});

// The research vocabulary's GateEvaluation, as --json shows it: a field the type gains and this lacks fails to compile.
export const gateEvaluationSchema = z.object({
  gate: z.enum(gateKinds),
  passed: z.boolean(),
  reason: z.string().nullable(),
  checks: z.array(gateCheckSchema),
}) satisfies z.ZodType<GateEvaluation>;

export const failedGateSchema = z.object({ gate: z.enum(gateKinds), reason: z.string() });

export const trainingFiguresSchema = z.object({
  accuracy: fraction,
  valAccuracy: fraction,
  testLoss: z.number().nullable(),
  initialLoss: z.number().nullable(),
  finalLoss: z.number().nullable(),
  lossReduction: fraction,
  epochsTrained: z.number().nullable(),
  epochsConfigured: z.number().nullable(),
  earlyStopped: z.boolean().nullable(),
  /** The epoch a resume continued from (KTRDR then reports only the later epochs); null when never resumed. */
  resumedAtEpoch: z.number().nullable(),
  modelPath: z.string().nullable(),
});

export const backtestFiguresSchema = z.object({
  sharpe: z.number().nullable(),
  winRate: fraction,
  /** A fraction: 0.123 is a 12.3% drawdown. */
  maxDrawdown: fraction,
  totalTrades: z.number().nullable(),
  profitFactor: z.number().nullable(),
  totalReturnPct: z.number().nullable(),
});

export const verdictSchema = z.enum(verdicts);

export const assessmentSchema = z.object({
  verdict: verdictSchema,
  explanation: z.string(),
  strengths: z.array(z.string()),
  weaknesses: z.array(z.string()),
  suggestions: z.array(z.string()),
  author: z.string(),
}) satisfies z.ZodType<Assessment>;

export const usageSchema = z.object({
  tokensInput: count,
  tokensOutput: count,
  tokensCacheRead: count,
  tokensCacheWrite: count,
  costUsd: usd,
  /** The part of costUsd that is a kept reservation for a call of unknown outcome: estimated, unconfirmed. */
  estimatedUsd: usd,
});

export const todayBudgetSchema = z.object({
  date: day,
  limitUsd: usd,
  /** `override` when set with `budget set`, else AGENT_BUDGET_DAILY_USD. */
  limitSource: z.enum(['override', 'config']),
  usedUsd: usd,
  /** Worst-case cost of model calls in flight. */
  reservedUsd: usd,
  remainingUsd: usd,
  /** usedUsd / limitUsd; null when the limit is 0. */
  usedFraction: z.number().nullable(),
  invocations: count,
  cyclesStarted: count,
  cyclesCompleted: count,
  cyclesActive: count,
});

export const activeCycleSchema = z.object({
  id: z.int().positive(),
  phase: activePhaseSchema,
  strategyName: z.string().nullable(),
  designer: z.string(),
  createdAt: isoTime,
  phaseStartedAt: isoTime,
  secondsInPhase: count,
  secondsSinceStart: count,
  operation: operationSchema.nullable(),
  invocation: invocationSchema.nullable(),
  batch: batchWaitSchema.nullable().default(null),
  costUsd: usd,
});

export const recentCycleSchema = z.object({
  id: z.int().positive(),
  strategyName: z.string().nullable(),
  outcome: outcomeSchema,
  createdAt: isoTime,
  completedAt: isoTime,
  durationSeconds: count,
  sharpe: z.number().nullable(),
  failedGate: failedGateSchema.nullable(),
  failureReason: z.string().nullable(),
  verdict: verdictSchema.nullable(),
  costUsd: usd,
});

/** One decision of a tick, as the engine records it in agent_ticks.summary. */
export const tickDecisionSchema = z.object({
  sessionId: z.int().nullable(),
  trigger: z.string().nullable(),
  /** skip, record_progress, resume_operation, fail, enter_assessing, invoke. */
  action: z.string().nullable(),
  invoked: z.boolean(),
  skipReason: z.string().nullable(),
  /** The outcome a `fail` decision gave the session. */
  outcome: z.string().nullable(),
  /** E.g. the operation's current step, or what the agent was invoked for. */
  detail: z.string().nullable(),
});

export const lastTickSchema = z.object({
  id: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  secondsAgo: count,
  host: z.string(),
  status: z.enum(tickStatuses),
  errorMessage: z.string().nullable(),
  decisions: z.array(tickDecisionSchema),
  sessionsCreated: z.array(z.int()),
});

/**
 * A deflated Sharpe computed now over every trial of the family (symbol, timeframe): a DSR is a statement about
 * the trials made so far, so it is always shown with their count.
 */
export const dsrNowSchema = z.object({
  dsr: z.number().min(0).max(1),
  /** Backtests in the family now, this one included. */
  trials: z.int().positive(),
  /** The annualised Sharpe the best of that many no-edge trials would be expected to reach (the DSR's benchmark). */
  expectedMaxSharpe: z.number(),
});

/** One experiment of the research memory, in the shape every research view shares. */
export const experimentSummarySchema = z.object({
  id: z.int().positive(),
  sessionId: z.int().positive(),
  strategyName: z.string().nullable(),
  outcome: outcomeSchema,
  designer: z.string(),
  model: z.string().nullable(),
  indicators: z.array(z.string()),
  labelSource: z.string().nullable(),
  labelThreshold: z.number().nullable(),
  architecture: z.string().nullable(),
  symbol: z.string().nullable(),
  timeframe: z.string().nullable(),
  trainingWindow: z.object({ startDate: day, endDate: day }).nullable(),
  backtestWindow: z.object({ startDate: day, endDate: day }).nullable(),
  gateFailed: z.enum(gateKinds).nullable(),
  failedChecks: z.array(z.string()),
  accuracy: fraction,
  finalLoss: z.number().nullable(),
  sharpe: z.number().nullable(),
  winRate: fraction,
  maxDrawdown: fraction,
  totalTrades: z.number().nullable(),
  /** As stored when the session ended (history): probability (0..1) that the true Sharpe beats the expected best of the family's trials then. */
  deflatedSharpe: z.number().min(0).max(1).nullable(),
  /** Backtests in the family (symbol, timeframe) when that DSR was computed, this one included. */
  dsrTrials: z.int().nullable(),
  /** The DSR over the family's trials now, with their count: the one the views show. */
  dsrNow: dsrNowSchema.nullable(),
  /** The backtest Sharpe when both gates passed; null otherwise. */
  score: z.number().nullable(),
  verdict: verdictSchema.nullable(),
  hypothesisId: z.int().nullable(),
  exploration: z.boolean(),
  parentExperimentId: z.int().nullable(),
  fingerprint: z.string().nullable(),
  costUsd: usd,
  completedAt: isoTime,
  /** The promotion stage's word on it: null when it was never a candidate (issue #20). Always set by the views that list experiments. */
  promotion: promotionSchema.nullable().optional(),
});

export const experimentsViewSchema = z.object({
  generatedAt: isoTime,
  filters: z.object({
    outcomes: z.array(outcomeSchema).nullable(),
    indicators: z.array(z.string()).nullable(),
    symbol: z.string().nullable(),
    sort: z.string(),
    limit: z.int().positive(),
  }),
  /** Every experiment in the memory, whatever the filters. */
  total: count,
  experiments: z.array(experimentSummarySchema),
});

export const experimentDetailViewSchema = z.object({
  generatedAt: isoTime,
  experiment: experimentSummarySchema.extend({
    failureReason: z.string().nullable(),
    /** Why a design never reached training: the experiment it repeats, its first error, the session running it. */
    designFailure: z.object({ kind: z.string(), detail: z.string() }).nullable(),
    strategy: z.record(z.string(), z.unknown()).nullable(),
    trainingGate: gateEvaluationSchema.nullable(),
    backtestGate: gateEvaluationSchema.nullable(),
    trainingMetrics: z.record(z.string(), z.unknown()).nullable(),
    backtestMetrics: z.record(z.string(), z.unknown()).nullable(),
    assessment: z.object({ verdict: verdictSchema, explanation: z.string() }).nullable(),
    tokensInput: count,
    tokensOutput: count,
  }),
  parent: experimentSummarySchema.nullable(),
  children: z.array(experimentSummarySchema),
  /** The search directive of the experiment's cycle (docs/search.md). */
  search: sessionSearchSchema.nullable().optional(),
  hypothesis: z.object({ id: z.int(), text: z.string(), status: z.enum(hypothesisStatuses) }).nullable(),
});

export const hypothesisStatusSchema = z.enum(hypothesisStatuses);

export const hypothesisSchema = z.object({
  id: z.int().positive(),
  text: z.string(),
  rationale: z.string().nullable(),
  status: hypothesisStatusSchema,
  retired: z.boolean(),
  source: z.enum(['model', 'operator', 'designer']),
  proposedByExperimentId: z.int().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const hypothesesViewSchema = z.object({
  generatedAt: isoTime,
  filters: z.object({ statuses: z.array(hypothesisStatusSchema).nullable(), includeRetired: z.boolean() }),
  hypotheses: z.array(hypothesisSchema),
});

export const hypothesisDetailViewSchema = z.object({
  generatedAt: isoTime,
  hypothesis: hypothesisSchema,
  /** Every status it had, oldest first, and what set it (a tool or the operator). */
  events: z.array(
    z.object({
      status: z.enum([...hypothesisStatuses, 'retired']),
      evidence: z.string().nullable(),
      experimentId: z.int().nullable(),
      via: z.string(),
      at: isoTime,
      /** False: the event records without moving the status (a verdict made on an older status, a rejected promotion). */
      moved: z.boolean(),
    }),
  ),
  experiments: z.array(experimentSummarySchema),
});

/** Something the operator must know before anything else: the loop is not doing its work, and why. */
export const bannerSchema = z.object({
  kind: z.enum(['paused', 'anthropic_auth', 'fault_held', 'ktrdr_unreachable', 'ktrdr_clock_skew', 'budget_exhausted', 'tick_stale']),
  /** When the condition began, when known. */
  since: isoTime.nullable(),
  message: z.string(),
  /** What to do about it. */
  advice: z.string(),
});

export const statusViewSchema = z.object({
  generatedAt: isoTime,
  paused: z.boolean(),
  pausedAt: isoTime.nullable(),
  /** Worst first; empty when the loop is doing its work. */
  banners: z.array(bannerSchema).default([]),
  /** Active sessions, oldest first; at most 50 (activeTotal counts them all). */
  active: z.array(activeCycleSchema),
  activeTotal: count,
  recent: z.array(recentCycleSchema),
  budget: todayBudgetSchema,
  lastTick: lastTickSchema.nullable(),
  /** The best experiment so far by score (backtest Sharpe of those that passed both gates). */
  bestExperiment: experimentSummarySchema.nullable(),
  /** Strategies promoted, promotions pending validation, and the validation backtests in flight. */
  promotions: promotionCountsSchema.optional(),
  /** KTRDR's training workers and what limits new cycles, as the last tick that read them saw it. */
  utilization: utilizationSchema.nullable().optional(),
  /** The search policy at large (docs/search.md). */
  search: searchSummarySchema.optional(),
});

export const historyEntrySchema = z.object({
  id: z.int().positive(),
  strategyName: z.string().nullable(),
  phase: phaseSchema,
  outcome: outcomeSchema.nullable(),
  active: z.boolean(),
  createdAt: isoTime,
  completedAt: isoTime.nullable(),
  /** Finished: created to completed. Active: so far. */
  durationSeconds: count,
  operation: operationSchema.nullable(),
  training: trainingFiguresSchema.nullable(),
  backtest: backtestFiguresSchema.nullable(),
  failedGate: failedGateSchema.nullable(),
  failureReason: z.string().nullable(),
  assessment: z.object({ verdict: verdictSchema, summary: z.string() }).nullable(),
  costUsd: usd,
  tokensInput: count,
  tokensOutput: count,
  /** Of the session's experiment, once it ended with a backtest: as stored at its end (history). */
  deflatedSharpe: z.number().min(0).max(1).nullable(),
  /** The same over the family's trials now, with their count. */
  dsrNow: dsrNowSchema.nullable(),
});

export const historyViewSchema = z.object({
  generatedAt: isoTime,
  filters: z.object({
    limit: z.int().positive(),
    outcomes: z.array(outcomeSchema).nullable(),
    since: isoTime.nullable(),
  }),
  sessions: z.array(historyEntrySchema),
  /** Pass to --cursor for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const indicatorSummarySchema = z.object({ id: z.string(), type: z.string().nullable() });

export const strategySummarySchema = z.object({
  name: z.string().nullable(),
  hypothesis: z.string().nullable(),
  description: z.string().nullable(),
  indicators: z.array(indicatorSummarySchema),
  symbols: z.array(z.string()),
  timeframes: z.array(z.string()),
  filePath: z.string().nullable(),
});

export const sessionActionSchema = z.object({
  id: z.int(),
  at: isoTime,
  phase: z.string(),
  toolName: z.string(),
  args: z.unknown(),
  success: z.boolean(),
  errorMessage: z.string().nullable(),
  durationMs: z.int().nullable(),
  turn: z.int().nullable(),
  tokensInput: z.int().nullable(),
  tokensOutput: z.int().nullable(),
});

export const phaseSpanSchema = z.object({ phase: phaseSchema, at: isoTime, seconds: count });

export const sessionViewSchema = z.object({
  generatedAt: isoTime,
  id: z.int().positive(),
  phase: phaseSchema,
  outcome: outcomeSchema.nullable(),
  active: z.boolean(),
  designer: z.string(),
  strategyName: z.string().nullable(),
  createdAt: isoTime,
  completedAt: isoTime.nullable(),
  phaseStartedAt: isoTime,
  durationSeconds: count,
  failureReason: z.string().nullable(),
  strategy: strategySummarySchema.nullable(),
  training: z.object({
    operationId: z.string().nullable(),
    params: z.object({ symbols: z.array(z.string()), timeframes: z.array(z.string()), startDate: z.string(), endDate: z.string() }).nullable(),
    figures: trainingFiguresSchema.nullable(),
    results: z.record(z.string(), z.unknown()).nullable(),
  }),
  backtest: z.object({
    operationId: z.string().nullable(),
    params: z.object({ symbol: z.string(), timeframe: z.string(), startDate: z.string(), endDate: z.string() }).nullable(),
    figures: backtestFiguresSchema.nullable(),
    results: z.record(z.string(), z.unknown()).nullable(),
  }),
  operation: operationSchema.nullable(),
  invocation: invocationSchema.nullable(),
  batch: batchWaitSchema.nullable().default(null),
  gates: z.object({ training: gateEvaluationSchema.nullable(), backtest: gateEvaluationSchema.nullable() }),
  assessment: assessmentSchema.nullable(),
  usage: usageSchema,
  phases: z.array(phaseSpanSchema),
  actions: z.object({ total: count, shown: count, items: z.array(sessionActionSchema) }),
  /** The session's experiment in the research memory, once the session ended. */
  experiment: experimentSummarySchema.nullable(),
  /** The search policy's directive for this cycle (docs/search.md). */
  search: sessionSearchSchema.nullable().default(null),
});

export const budgetDaySchema = z.object({
  date: day,
  /** Mon..Sun (UTC). */
  weekday: z.string(),
  today: z.boolean(),
  /** null on a day with no activity and no budget row. */
  limitUsd: usd.nullable(),
  usedUsd: usd,
  invocations: count,
  cyclesCompleted: count,
  successful: count,
});

export const budgetViewSchema = z.object({
  generatedAt: isoTime,
  /** estimatedUsd: the part of usedUsd that is kept reservations for calls of unknown outcome (unconfirmed). */
  today: todayBudgetSchema.extend({ successful: count, avgCostPerInvocationUsd: usd.nullable(), estimatedUsd: usd }),
  configuredLimitUsd: usd,
  bufferUsd: usd,
  enforcement: z.boolean(),
  /** Oldest first, today last. */
  days: z.array(budgetDaySchema),
  totals: z.object({ usedUsd: usd, invocations: count, cyclesCompleted: count, successful: count }),
});

export const budgetSetResultSchema = z.object({
  limitUsd: usd,
  previousLimitUsd: usd,
  /** `override` when set here (it wins over the setting), `config` after --clear. */
  source: z.enum(['override', 'config']),
  /** AGENT_BUDGET_DAILY_USD, what --clear returns to. */
  configuredLimitUsd: usd,
  /** The amount as typed when it had to be rounded to the cent. */
  roundedFrom: z.string().nullable(),
  date: day,
  usedTodayUsd: usd,
  remainingTodayUsd: usd,
});

/** What every command prints under --json when it fails. */
export const errorResultSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), exitCode: z.int() }),
});

export type Operation = z.infer<typeof operationSchema>;
export type Invocation = z.infer<typeof invocationSchema>;
export type FailedGate = z.infer<typeof failedGateSchema>;
export type TrainingFigures = z.infer<typeof trainingFiguresSchema>;
export type BacktestFigures = z.infer<typeof backtestFiguresSchema>;
export type TodayBudget = z.infer<typeof todayBudgetSchema>;
export type ActiveCycle = z.infer<typeof activeCycleSchema>;
export type RecentCycle = z.infer<typeof recentCycleSchema>;
export type TickDecision = z.infer<typeof tickDecisionSchema>;
export type LastTick = z.infer<typeof lastTickSchema>;
export type StatusView = z.infer<typeof statusViewSchema>;
export type Banner = z.infer<typeof bannerSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type HistoryView = z.infer<typeof historyViewSchema>;
export type StrategySummary = z.infer<typeof strategySummarySchema>;
export type SessionAction = z.infer<typeof sessionActionSchema>;
export type SessionView = z.infer<typeof sessionViewSchema>;
export type BudgetDayEntry = z.infer<typeof budgetDaySchema>;
export type BudgetView = z.infer<typeof budgetViewSchema>;
export type BudgetSetResult = z.infer<typeof budgetSetResultSchema>;
export type ExperimentSummary = z.infer<typeof experimentSummarySchema>;
export type ExperimentsView = z.infer<typeof experimentsViewSchema>;
export type ExperimentDetailView = z.infer<typeof experimentDetailViewSchema>;
export type HypothesisEntry = z.infer<typeof hypothesisSchema>;
export type HypothesesView = z.infer<typeof hypothesesViewSchema>;
export type HypothesisDetailView = z.infer<typeof hypothesisDetailViewSchema>;
