import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SessionOutcome, ToolErrorKind } from '../../session/model.ts';
import { faultClasses, type FaultClass } from '../../kernel/faults.ts';
import { toDateOrNull, toJson, toNumberOrNull, withoutNul } from '../values.ts';
import type { Session } from './sessions.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface TriggerRecord {
  tickId: string | null;
  reason: string;
  sessionId: number | null;
  context?: unknown;
  agentInvoked: boolean;
  skipReason: string | null;
  budgetUsedTodayUsd: number | null;
  budgetRemainingUsd: number | null;
  at: Date;
}

export async function recordTrigger(db: Db, trigger: TriggerRecord): Promise<void> {
  await db
    .insertInto('agent_triggers')
    .values({
      tick_id: trigger.tickId,
      trigger_reason: trigger.reason,
      session_id: trigger.sessionId,
      context: toJson(trigger.context),
      agent_invoked: trigger.agentInvoked,
      skip_reason: trigger.skipReason,
      budget_used_today_usd: trigger.budgetUsedTodayUsd,
      budget_remaining_usd: trigger.budgetRemainingUsd,
      triggered_at: trigger.at,
    })
    .execute();
}

export interface ActionRecord {
  sessionId: number;
  phase: string;
  toolName: string;
  args: unknown;
  result: unknown;
  success: boolean;
  errorMessage: string | null;
  /** A failed call's kind; null for a call that succeeded. */
  errorKind?: ToolErrorKind | null;
  durationMs: number | null;
  turn: number | null;
  tokensInput: number | null;
  tokensOutput: number | null;
  /** The API request id and thinking tokens of the response that asked for the call (claude designer only). */
  requestId?: string | null;
  tokensThinking?: number | null;
  at: Date;
}

export async function recordAction(db: Db, action: ActionRecord): Promise<void> {
  await db
    .insertInto('agent_actions')
    .values({
      session_id: action.sessionId,
      phase: action.phase,
      tool_name: action.toolName,
      tool_args: toJson(action.args),
      tool_result: toJson(action.result),
      success: action.success,
      error_message: action.errorMessage === null ? null : withoutNul(action.errorMessage),
      error_kind: action.success ? null : (action.errorKind ?? 'rejected'),
      duration_ms: action.durationMs,
      turn: action.turn,
      tokens_input: action.tokensInput,
      tokens_output: action.tokensOutput,
      request_id: action.requestId ?? null,
      tokens_thinking: action.tokensThinking ?? null,
      action_at: action.at,
    })
    .execute();
}

function secondsBetween(from: string | Date | undefined, to: string | Date | undefined): number | null {
  if (!from || !to) return null;
  return Math.max(0, Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000));
}

/** Seconds spent in each phase, from the session's phase history (a phase entered twice adds up). */
export function phaseDurations(session: Pick<Session, 'phaseHistory'>, endedAt: Date): Record<string, number> {
  const durations: Record<string, number> = {};
  const history = session.phaseHistory;
  history.forEach((change, index) => {
    if (change.phase === 'idle') return;
    const next = history[index + 1]?.at ?? endedAt.toISOString();
    durations[change.phase] = (durations[change.phase] ?? 0) + (secondsBetween(change.at, next) ?? 0);
  });
  return durations;
}

/** The one metrics row of a finished session, written in the same transaction that finishes it. */
export async function recordSessionMetrics(
  db: Db,
  session: Session,
  input: { outcome: SessionOutcome; gateFailed: string | null; gateReason: string | null; completedAt: Date },
): Promise<void> {
  const durations = phaseDurations(session, input.completedAt);
  const training = (session.trainingResults ?? {}) as Record<string, number | boolean | null | undefined>;
  const backtest = (session.backtestResults ?? {}) as Record<string, number | null | undefined>;
  const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  await db
    .insertInto('agent_metrics')
    .values({
      session_id: session.id,
      cycle_started_at: session.createdAt,
      cycle_completed_at: input.completedAt,
      cycle_duration_seconds: secondsBetween(session.createdAt, input.completedAt) ?? 0,
      designing_seconds: durations.designing ?? null,
      training_seconds: durations.training ?? null,
      backtesting_seconds: durations.backtesting ?? null,
      assessing_seconds: durations.assessing ?? null,
      training_accuracy: num(training.accuracy),
      training_final_loss: num(training.finalLoss),
      training_loss_reduction: num(training.lossReduction),
      training_epochs_completed: num(training.epochsTrained),
      training_early_stopped: typeof training.earlyStopped === 'boolean' ? training.earlyStopped : null,
      backtest_sharpe: num(backtest.sharpe),
      backtest_win_rate: num(backtest.winRate),
      backtest_max_drawdown: num(backtest.maxDrawdown),
      backtest_total_trades: num(backtest.totalTrades),
      backtest_profit_factor: num(backtest.profitFactor),
      total_tokens_input: session.tokensInput,
      total_tokens_output: session.tokensOutput,
      total_tokens_cache_read: session.tokensCacheRead,
      total_tokens_cache_write: session.tokensCacheWrite,
      estimated_cost_usd: session.costUsd,
      outcome: input.outcome,
      gate_failed: input.gateFailed,
      gate_reason: input.gateReason,
    })
    .onConflict((oc) => oc.column('session_id').doNothing())
    .execute();
}

/** The infrastructure fault the agent holds invocations back for (see migrations/20261201T080000000Z-infrastructure-fault.ts). */
export interface HeldFault {
  faultClass: FaultClass;
  cause: string;
  since: Date;
  lastAt: Date;
  /** Faults in a row since the last invocation that went through; drives the retry backoff. */
  streak: number;
  /** For an authentication fault: the fingerprint of the refused key (never the key). */
  keyFingerprint: string | null;
}

export interface Control {
  paused: boolean;
  pausedAt: Date | null;
  budgetLimitUsd: number | null;
  fault: HeldFault | null;
  /** Since when every pass that tried failed to reach KTRDR, and why; null once a pass reached it. */
  ktrdrDown: { since: Date; cause: string; faultClass: 'ktrdr_unreachable' | 'ktrdr_auth' } | null;
}

function isFaultClass(value: string | null): value is FaultClass {
  return value !== null && (faultClasses as readonly string[]).includes(value);
}

export async function readControl(db: Db): Promise<Control> {
  const row = await db.selectFrom('agent_control').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  const fault =
    isFaultClass(row.fault_class) && row.fault_since && row.fault_last_at
      ? {
          faultClass: row.fault_class,
          cause: row.fault_cause ?? '',
          since: toDateOrNull(row.fault_since)!,
          lastAt: toDateOrNull(row.fault_last_at)!,
          streak: Number(row.fault_streak),
          keyFingerprint: row.fault_key_fingerprint,
        }
      : null;
  const ktrdrSince = toDateOrNull(row.ktrdr_unreachable_since);
  return {
    paused: row.paused,
    pausedAt: toDateOrNull(row.paused_at),
    budgetLimitUsd: toNumberOrNull(row.budget_limit_usd),
    fault,
    ktrdrDown: ktrdrSince
      ? { since: ktrdrSince, cause: row.ktrdr_fault_cause ?? '', faultClass: row.ktrdr_fault_class === 'ktrdr_auth' ? 'ktrdr_auth' : 'ktrdr_unreachable' }
      : null,
  };
}

/** Records a fault: a new class starts a new streak, the same class lengthens it (and its backoff). */
export async function holdFault(db: Db, fault: { faultClass: FaultClass; cause: string; keyFingerprint: string | null }, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set((eb) => ({
      fault_streak: eb
        .case()
        .when('fault_class', '=', fault.faultClass)
        .then(eb('fault_streak', '+', 1))
        .else(1)
        .end(),
      fault_since: eb.case().when('fault_class', '=', fault.faultClass).then(eb.ref('fault_since')).else(now).end(),
      fault_class: fault.faultClass,
      fault_cause: withoutNul(fault.cause),
      fault_last_at: now,
      fault_key_fingerprint: fault.keyFingerprint,
      updated_at: now,
    }))
    .where('id', '=', 1)
    .execute();
}

/** A pass could not reach KTRDR: the first such pass of a streak sets the time, later ones only the cause. */
export async function markKtrdrDown(db: Db, fault: { faultClass: string; cause: string }, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set((eb) => ({
      ktrdr_unreachable_since: eb.fn.coalesce('ktrdr_unreachable_since', eb.val(now)),
      ktrdr_fault_cause: withoutNul(fault.cause),
      ktrdr_fault_class: fault.faultClass,
    }))
    .where('id', '=', 1)
    .execute();
}

export async function markKtrdrReached(db: Db): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ ktrdr_unreachable_since: null, ktrdr_fault_cause: null, ktrdr_fault_class: null })
    .where('id', '=', 1)
    .where('ktrdr_unreachable_since', 'is not', null)
    .execute();
}

/** An invocation went through (or an operator ran `resume`): nothing is held back any more. */
export async function clearFault(db: Db, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ fault_class: null, fault_cause: null, fault_since: null, fault_last_at: null, fault_streak: 0, fault_key_fingerprint: null, updated_at: now })
    .where('id', '=', 1)
    .where('fault_class', 'is not', null)
    .execute();
}

export async function setPaused(db: Db, paused: boolean, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ paused, paused_at: paused ? now : null, updated_at: now })
    .where('id', '=', 1)
    .execute();
}

export async function startTick(db: Db, tick: { id: string; startedAt: Date; host: string }): Promise<void> {
  await db.insertInto('agent_ticks').values({ id: tick.id, started_at: tick.startedAt, host: tick.host, status: 'running' }).execute();
}

export async function finishTick(
  db: Db,
  tick: { id: string; finishedAt: Date; status: 'ok' | 'error' | 'paused' | 'skipped' | 'degraded'; summary: unknown; errorMessage?: string | null },
): Promise<void> {
  await db
    .updateTable('agent_ticks')
    .set({
      finished_at: tick.finishedAt,
      status: tick.status,
      summary: toJson(tick.summary),
      error_message: tick.errorMessage ? withoutNul(tick.errorMessage) : null,
    })
    .where('id', '=', tick.id)
    .execute();
}
