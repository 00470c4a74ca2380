import { batchWaitOf } from '../../agent/message-batch.ts';
import { listOpenBatches } from '../../db/repositories/message-batches.ts';
// The read model behind `status` and `status --watch`. Every query is bounded and index-backed (the active
// partial index, completed/created indexes, the budget day key, the ticks' started_at index), so the view costs the
// same on a fresh install and after a year of sessions.
import { loadBestExperiment } from './research-view.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { readControl, readKtrdrClock } from '../../db/repositories/control.ts';
import { readLastTick } from '../../db/repositories/ticks.ts';
import { activeSessionRows, countSessionsSince, recentlyCompletedSessionRows } from '../../db/read-models/status.ts';
import { countActiveSessions } from '../../db/repositories/sessions.ts';
import { findBudgetDay } from '../../db/repositories/budget.ts';
import { fromJson, toDate, toDateOrNull, toNumber } from '../../db/values.ts';
import { startOfUtcDay, utcDay } from '../../kernel/utc-day.ts';
import { limitInForce, remainingUsd } from '../../budget/daily-limit.ts';
import { shownUsd } from '../../budget/money.ts';
import { statusBanners } from './banners.ts';
import { clockSkewBanner } from './clock-banner.ts';
import { loadUtilization } from './utilization.ts';
import { loadSearchSummaryView } from './search-view.ts';
import type { ActiveCycle, LastTick, RecentCycle, StatusView, TickDecision, TodayBudget } from './schemas.ts';
import { assessmentOf, backtestFigures, currentInvocation, currentOperation, failedGate, secondsBetween } from './session-facts.ts';
import { loadPromotionCounts } from './promotion-view.ts';

export interface StatusViewOptions {
  now: Date;
  /** AGENT_BUDGET_DAILY_USD: the limit when `budget set` has not overridden it. */
  configuredLimitUsd: number;
  /** AGENT_STALL_TIMEOUT_MINUTES in seconds. */
  stallAfterSeconds: number;
  /** AGENT_BUDGET_BUFFER_USD. */
  bufferUsd?: number;
  /** Whether a spent budget stops invocations (the claude designer with enforcement on). */
  budgetBinds?: boolean;
  recentLimit?: number;
  activeLimit?: number;
  /** AGENT_FAULT_BACKOFF_MINUTES. */
  faultBackoffMinutes: number;
}

const DEFAULT_ACTIVE_LIMIT = 50;

type Db = Kysely<Database>;

async function loadActive(db: Db, options: StatusViewOptions): Promise<{ cycles: ActiveCycle[]; total: number }> {
  const limit = options.activeLimit ?? DEFAULT_ACTIVE_LIMIT;
  const rows = await activeSessionRows(db, limit);
  const batches = new Map((await listOpenBatches(db)).map((batch) => [batch.sessionId, batchWaitOf(batch)]));
  const cycles = rows.flatMap((row): ActiveCycle[] => {
    if (row.phase === 'idle') return [];
    const phaseStartedAt = toDate(row.phase_started_at);
    const createdAt = toDate(row.created_at);
    return [
      {
        id: row.id,
        phase: row.phase,
        strategyName: row.strategy_name,
        designer: row.designer,
        createdAt: createdAt.toISOString(),
        phaseStartedAt: phaseStartedAt.toISOString(),
        secondsInPhase: secondsBetween(phaseStartedAt, options.now),
        secondsSinceStart: secondsBetween(createdAt, options.now),
        operation: currentOperation(
          { ...row, operation_progress: fromJson(row.operation_progress), progress_changed_at: toDateOrNull(row.progress_changed_at) },
          options.now,
          options.stallAfterSeconds,
        ),
        invocation: currentInvocation(row.lease_owner, toDateOrNull(row.lease_expires_at), options.now),
        batch: batches.get(row.id) ?? null,
        costUsd: toNumber(row.cost_usd),
      },
    ];
  });
  const total = rows.length < limit ? rows.length : await countActiveSessions(db);
  return { cycles, total };
}

export async function loadRecentCycles(db: Db, limit: number): Promise<RecentCycle[]> {
  if (limit <= 0) return [];
  const rows = await recentlyCompletedSessionRows(db, limit);
  return rows.flatMap((row): RecentCycle[] => {
    if (!row.outcome || !row.completed_at) return [];
    const createdAt = toDate(row.created_at);
    const completedAt = toDate(row.completed_at);
    return [
      {
        id: row.id,
        strategyName: row.strategy_name,
        outcome: row.outcome,
        createdAt: createdAt.toISOString(),
        completedAt: completedAt.toISOString(),
        durationSeconds: secondsBetween(createdAt, completedAt),
        sharpe: backtestFigures(fromJson(row.backtest_results))?.sharpe ?? null,
        failedGate: failedGate(fromJson(row.training_gate), fromJson(row.backtest_gate)),
        failureReason: row.failure_reason,
        verdict: assessmentOf(fromJson(row.assessment))?.verdict ?? null,
        costUsd: toNumber(row.cost_usd),
      },
    ];
  });
}

/** Today's budget without writing: the tick creates the day's row, a read command must not. */
export async function loadTodayBudget(
  db: Db,
  input: { now: Date; configuredLimitUsd: number; overrideLimitUsd: number | null; activeTotal: number },
): Promise<TodayBudget> {
  const date = utcDay(input.now);
  const dayStart = startOfUtcDay(input.now);
  const [row, cyclesStarted, cyclesCompleted] = await Promise.all([
    findBudgetDay(db, date),
    countSessionsSince(db, 'created_at', dayStart),
    countSessionsSince(db, 'completed_at', dayStart),
  ]);
  const limit = limitInForce({ settingUsd: input.configuredLimitUsd, overrideUsd: input.overrideLimitUsd, now: input.now });
  const limitUsd = limit.limitUsd;
  const usedUsd = row?.usedUsd ?? 0;
  const reservedUsd = row?.reservedUsd ?? 0;
  return {
    date,
    limitUsd,
    limitSource: limit.source === 'setting' ? 'config' : 'override',
    usedUsd,
    reservedUsd,
    remainingUsd: shownUsd(remainingUsd({ limitUsd, usedUsd, reservedUsd })),
    // A fraction, kept to the six digits of the amounts it divides.
    usedFraction: limitUsd > 0 ? shownUsd(usedUsd / limitUsd) : null,
    invocations: row?.invocations ?? 0,
    cyclesStarted,
    cyclesCompleted,
    cyclesActive: input.activeTotal,
  };
}

export async function loadLastTick(db: Db, now: Date): Promise<LastTick | null> {
  const tick = await readLastTick(db);
  if (!tick) return null;
  return {
    id: tick.id,
    startedAt: tick.startedAt.toISOString(),
    finishedAt: tick.finishedAt ? tick.finishedAt.toISOString() : null,
    secondsAgo: secondsBetween(tick.finishedAt ?? tick.startedAt, now),
    host: tick.host,
    status: tick.status,
    errorMessage: tick.errorMessage,
    decisions: tick.decisions,
    sessionsCreated: tick.sessionsCreated,
  };
}

export async function loadStatusView(db: Db, options: StatusViewOptions): Promise<StatusView> {
  const [control, active, recent, lastTick, best, clock, utilization, search, promotions] = await Promise.all([
    readControl(db),
    loadActive(db, options),
    loadRecentCycles(db, options.recentLimit ?? 5),
    loadLastTick(db, options.now),
    loadBestExperiment(db),
    readKtrdrClock(db),
    loadUtilization(db),
    loadSearchSummaryView(db),
    loadPromotionCounts(db),
  ]);
  const budget = await loadTodayBudget(db, {
    now: options.now,
    configuredLimitUsd: options.configuredLimitUsd,
    overrideLimitUsd: control.budgetLimitUsd,
    activeTotal: active.total,
  });
  return {
    generatedAt: options.now.toISOString(),
    paused: control.paused,
    pausedAt: control.pausedAt ? control.pausedAt.toISOString() : null,
    banners: statusBanners({
      now: options.now,
      paused: control.paused,
      pausedAt: control.pausedAt,
      fault: control.fault,
      ktrdrDown: control.ktrdrDown,
      budget,
      bufferUsd: options.bufferUsd ?? 0,
      budgetBinds: options.budgetBinds ?? true,
      lastTick,
      faultBackoffMinutes: options.faultBackoffMinutes,
    }).concat(clockSkewBanner(clock) ?? []),
    active: active.cycles,
    activeTotal: active.total,
    recent,
    budget,
    lastTick,
    bestExperiment: best,
    promotions,
    utilization,
    search,
  };
}
