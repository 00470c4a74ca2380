// Every counter and histogram is an all-time database total (see metrics.ts), read by the metrics-snapshot
// repository; this module maps its rows to the snapshot and pushes it.
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { sessionPhases } from '../session/model.ts';
import { findBudgetDay } from '../db/repositories/budget.ts';
import { readLimitInForce } from '../db/budget-ledger.ts';
import { remainingUsd, spentTodayUsd } from '../budget/daily-limit.ts';
import {
  countGateEvaluations,
  countGateFailureReasons,
  countToolErrors,
  countTriggers,
  cycleTotalsByOutcome,
  lastCompletedTick,
  openSessionsByPhase,
  phaseDurationCounts,
  sessionTotals,
  toolCallCounts,
  type CycleTotals,
  type SessionTotals,
  type ToolCallCounts,
} from '../db/read-models/metrics-snapshot.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { HISTOGRAM_BUCKETS, buildRegistry, emptyHistogramState, type HistogramState, type MetricsSnapshot } from './metrics.ts';
import { pushMetrics } from './push.ts';

export const METRICS_JOB = 'ktrdr_agent';
const PUSH_TIMEOUT_MS = 3000;
const COMPLETED_PHASES = sessionPhases.filter((phase) => phase !== 'idle');

export interface MetricsSnapshotOptions {
  /** AGENT_BUDGET_DAILY_USD: the limit shown when today's budget row does not exist yet and no override is set. */
  configuredDailyLimitUsd?: number;
}

export type PushTickMetricsResult = { ok: true } | { ok: false; error: string };

/** Reads the totals from the database and replaces this host's Pushgateway group with them. Never throws. */
export async function pushTickMetrics(db: Kysely<Database>, config: AgentConfig, now: Date): Promise<PushTickMetricsResult> {
  const url = config.settings.PUSHGATEWAY_URL;
  if (!url) return { ok: true };
  let snapshot: MetricsSnapshot;
  try {
    snapshot = await buildMetricsSnapshot(db, now, { configuredDailyLimitUsd: config.settings.AGENT_BUDGET_DAILY_USD });
  } catch (error) {
    return { ok: false, error: `metrics not pushed: reading the totals from the database failed: ${messageOf(error)}` };
  }
  try {
    return await pushMetrics({ url, job: METRICS_JOB, instance: hostname(), registry: buildRegistry(snapshot), timeoutMs: PUSH_TIMEOUT_MS });
  } catch (error) {
    return { ok: false, error: `metrics not pushed: ${messageOf(error)}` };
  }
}

/** Every value the metrics show, from the database as of `now` (gauges) and since it was created (counters). */
export async function buildMetricsSnapshot(db: Kysely<Database>, now: Date, options: MetricsSnapshotOptions = {}): Promise<MetricsSnapshot> {
  // Independent families: with a pool they run side by side (PGlite runs them one after another).
  const [triggers, gateEvaluations, gateFailureReasons, cycles, phaseDurations, totals, tools, toolErrors, budget, active, tick] = await Promise.all([
    countTriggers(db),
    countGateEvaluations(db),
    countGateFailureReasons(db),
    cycleTotalsByOutcome(db, { durationSeconds: HISTOGRAM_BUCKETS.cycleDurationSeconds, backtestSharpe: HISTOGRAM_BUCKETS.strategySharpe }),
    phaseDurationCounts(db, HISTOGRAM_BUCKETS.phaseDurationSeconds),
    sessionTotals(db),
    toolCallCounts(db, TOOL_DURATION_BOUNDS_MS),
    countToolErrors(db),
    readBudget(db, now, options.configuredDailyLimitUsd ?? 0),
    openSessionsByPhase(db),
    lastCompletedTick(db),
  ]);
  const tickDurationSeconds = tick ? Math.max(0, (tick.finishedAt.getTime() - tick.startedAt.getTime()) / 1000) : 0;
  return {
    triggers,
    gateEvaluations: gateEvaluations.map((row) => ({ gateType: row.gateType, result: row.passed ? 'passed' : 'failed', count: row.count })),
    gateFailureReasons,
    cycles: cycles.map((row) => ({ outcome: row.outcome, count: row.count })),
    cycleDurations: cycleDurationsOf(cycles),
    // Every working phase is listed, empty ones included, so the dashboard's series do not come and go.
    phaseDurations: COMPLETED_PHASES.map((phase) => ({
      phase,
      ...(phaseDurations.find((row) => row.phase === phase)?.seconds ?? emptyHistogramState(HISTOGRAM_BUCKETS.phaseDurationSeconds)),
    })),
    tokens: tokensOf(totals),
    costUsdTotal: totals.costUsd,
    budgetDailyLimitUsd: budget.limitUsd,
    budgetRemainingUsd: budget.remainingUsd,
    budgetUtilization: budget.utilization,
    toolCalls: tools.map((row) => ({ tool: row.tool, status: row.success ? 'success' : 'error', count: row.count })),
    toolErrors,
    toolDurations: toolDurationsOf(tools),
    strategySharpe: cycles.find((row) => row.outcome === 'success')?.backtestSharpe ?? emptyHistogramState(HISTOGRAM_BUCKETS.strategySharpe),
    activeSessions: sessionPhases.map((phase) => ({ phase, count: active.find((row) => row.phase === phase)?.count ?? 0 })),
    oldestPhaseAge: active.flatMap((row) =>
      row.earliestPhaseStart === null ? [] : [{ phase: row.phase, seconds: Math.max(0, (now.getTime() - row.earliestPhaseStart.getTime()) / 1000) }],
    ),
    tickLastSuccessUnixSeconds: tick ? tick.finishedAt.getTime() / 1000 : null,
    tickDurationSeconds,
  };
}

function addHistograms(a: HistogramState, b: HistogramState): HistogramState {
  return {
    buckets: a.buckets.map((bucket, i) => ({ le: bucket.le, count: bucket.count + (b.buckets[i]?.count ?? 0) })),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

/** Durations of all cycles, whatever their outcome. */
function cycleDurationsOf(cycles: readonly CycleTotals[]): HistogramState {
  let durations = emptyHistogramState(HISTOGRAM_BUCKETS.cycleDurationSeconds);
  for (const row of cycles) durations = addHistograms(durations, row.durationSeconds);
  return durations;
}

function tokensOf(totals: SessionTotals): MetricsSnapshot['tokens'] {
  return [
    { direction: 'input', count: totals.tokensInput },
    { direction: 'output', count: totals.tokensOutput },
    { direction: 'cache_read', count: totals.tokensCacheRead },
    { direction: 'cache_write', count: totals.tokensCacheWrite },
  ];
}

/** Tool durations are whole milliseconds: bucketing them against integer bounds avoids NUMERIC arithmetic per row. */
const TOOL_DURATION_BOUNDS_MS = HISTOGRAM_BUCKETS.toolDurationSeconds.map((le) => Math.floor(Number((le * 1000).toFixed(6))));

/** Per tool, successes and failures together, in seconds against the seconds bounds. */
function toolDurationsOf(tools: readonly ToolCallCounts[]): MetricsSnapshot['toolDurations'] {
  const durations = new Map<string, HistogramState>();
  for (const row of tools) {
    const state: HistogramState = {
      buckets: HISTOGRAM_BUCKETS.toolDurationSeconds.map((le, i) => ({ le, count: row.durationMs.buckets[i]?.count ?? 0 })),
      sum: row.durationMs.sum / 1000,
      count: row.durationMs.count,
    };
    const previous = durations.get(row.tool);
    durations.set(row.tool, previous ? addHistograms(previous, state) : state);
  }
  return [...durations.entries()].map(([tool, state]) => ({ tool, ...state }));
}

/**
 * Today's (UTC) budget. Spend counts open reservations, as the triggers' `budget_used_today_usd` does, so
 * remaining = limit - spend and the two gauges agree. Without a row yet, the limit in force and nothing spent.
 */
async function readBudget(
  db: Kysely<Database>,
  now: Date,
  configuredDailyLimitUsd: number,
): Promise<{
  limitUsd: number;
  remainingUsd: number;
  utilization: number;
}> {
  const day = await findBudgetDay(db, utcDay(now));
  const limitUsd = day ? day.limitUsd : (await readLimitInForce(db, configuredDailyLimitUsd, now)).limitUsd;
  const booked = day ?? { usedUsd: 0, reservedUsd: 0 };
  const spentUsd = spentTodayUsd(booked);
  return {
    limitUsd,
    remainingUsd: remainingUsd({ limitUsd, ...booked }),
    // A zero limit with spend is fully used, not infinitely.
    utilization: limitUsd > 0 ? spentUsd / limitUsd : spentUsd > 0 ? 1 : 0,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
