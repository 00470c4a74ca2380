import type { AgentConfig } from '../config/load.ts';
import type { Store } from '../db/connect.ts';
import { recordTrigger } from '../db/repositories/triggers.ts';
import type { Session } from '../db/repositories/sessions.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import type { BacktestResult, TrainingResult } from '../ktrdr/results.ts';
import type { Tracer } from '../kernel/tracer.ts';
import { remainingUsd, spentTodayUsd } from '../budget/daily-limit.ts';
import { endSession } from '../session/end.ts';
import type { GateEvaluation, SessionOutcome, TriggerReason } from '../session/model.ts';
import type { Designer, DesignerKind } from '../agent/designer.ts';
import { explainDecision, type DecisionRecord, type ExplainFacts } from './decision-record.ts';
import type { PassBudget } from './pass-budget.ts';
import type { PassLedger } from './pass-ledger.ts';

export interface PassEnvironment {
  store: Store;
  config: AgentConfig;
  ktrdr: KtrdrClient;
  /** Created only when an invocation is due, so a pass with nothing to decide loads no LLM code. */
  designer: () => Promise<Designer>;
  designerKind: DesignerKind;
  now: () => Date;
  tickId: string;
  tracer: Tracer;
  /** Human explanation of what the pass checks and does (`trigger`); silent for `tick`. */
  explain?: (line: string) => void;
  /** Told of every decision as it is recorded (the tick logs one line for each). */
  onDecision?: (decision: DecisionRecord) => void;
  /** Proves the tick lock is still held (a round trip); throws when it is not. Called before any money is spent. */
  verifyTickLock?: () => Promise<void>;
  /** A warning for the operator's log (the tick writes it as a JSON line). */
  warn?: (event: string, fields: Record<string, unknown>) => void;
  /** Waits between polls of followed work; the bench passes one that moves its simulated clock. */
  sleep?: (ms: number) => Promise<void>;
}

/** What every piece of a pass is handed: the environment, the ledger it notes its doing in, and today's budget. */
export interface PassContext {
  readonly env: PassEnvironment;
  readonly ledger: PassLedger;
  readonly budget: PassBudget;
  /** The designer, created on the first invocation of the pass and shared by the rest. */
  designer(): Promise<Designer>;
  /** Sessions with an open Message Batch, read once per pass. */
  readonly batchWaiting: ReadonlySet<number>;
  /** Symbols with hourly data for the search directive of a new cycle, asked of KTRDR once per pass. */
  searchSymbols(): Promise<string[]>;
}

export function explain(context: PassContext, line: string): void {
  context.env.explain?.(line);
}

/** Tells `trigger` what a decision was, in the words of the one function that phrases decisions. */
export function explainRecord(context: PassContext, record: DecisionRecord, facts?: ExplainFacts): void {
  for (const line of explainDecision(record, facts)) explain(context, line);
}

function noteDecision(context: PassContext, decision: DecisionRecord): void {
  context.ledger.decisions.push(decision);
  context.env.onDecision?.(decision);
}

/** Records a decision (the ledger, the log, the trigger row) and explains it to `trigger`. */
export async function record(context: PassContext, input: DecisionRecord & { context?: unknown }, facts?: ExplainFacts): Promise<void> {
  const { env } = context;
  const day = await context.budget.day();
  const { context: triggerContext, ...decision } = input;
  explainRecord(context, decision, facts);
  noteDecision(context, decision);
  const faultContext = input.fault ? { faultClass: input.fault.faultClass, cause: input.fault.cause } : {};
  const detailContext = input.detail ? { detail: input.detail } : {};
  await recordTrigger(env.store.db, {
    tickId: env.tickId,
    reason: input.trigger,
    sessionId: input.sessionId,
    context: triggerContext ?? (input.fault || input.detail ? { ...faultContext, ...detailContext } : null),
    agentInvoked: input.invoked,
    skipReason: input.skipReason,
    budgetUsedTodayUsd: spentTodayUsd(day),
    budgetRemainingUsd: remainingUsd(day),
    at: env.now(),
  });
}

/** What an invocation came to, for the log and the summary (its trigger row was written when it started). */
export function noteResult(
  context: PassContext,
  sessionId: number,
  trigger: TriggerReason,
  outcome: NonNullable<DecisionRecord['outcome']>,
  detail: string,
): void {
  noteDecision(context, { sessionId, trigger, action: 'invocation_result', invoked: false, skipReason: null, outcome, detail });
}

/** Ends a session as failed (session/end.ts, one transaction) and records why. */
export async function failSession(
  context: PassContext,
  session: Session,
  input: {
    trigger: TriggerReason;
    outcome: SessionOutcome;
    reason: string;
    gate?: GateEvaluation;
    trainingResults?: TrainingResult | null;
    backtestResults?: BacktestResult | null;
  },
): Promise<void> {
  await endSession(
    context.env.store.db,
    session.id,
    {
      outcome: input.outcome,
      reason: input.reason,
      ...(input.gate ? { gate: input.gate } : {}),
      ...(input.trainingResults ? { trainingResults: input.trainingResults } : {}),
      ...(input.backtestResults ? { backtestResults: input.backtestResults } : {}),
    },
    context.env.now(),
  );
  await record(context, {
    sessionId: session.id,
    trigger: input.trigger,
    action: 'fail',
    invoked: false,
    skipReason: input.gate ? 'gate_failed' : 'session_failed',
    outcome: input.outcome,
    detail: input.reason,
  });
}
