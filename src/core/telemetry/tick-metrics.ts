// The snapshot is read with one aggregate query per metric family: every counter and histogram is an all-time
// database total (see metrics.ts), so the cost of a push depends on the table sizes, never on a loop over rows in JS.
import { hostname } from 'node:os';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { sessionPhases } from '../research/vocabulary.ts';
import { effectiveDailyLimit, findBudgetDay } from '../db/repositories/budget.ts';
import { toDate } from '../db/values.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { HISTOGRAM_BUCKETS, buildRegistry, emptyHistogramState, type HistogramState, type MetricsSnapshot } from './metrics.ts';
import { pushMetrics } from './push.ts';

export const METRICS_JOB = 'ktrdr_agent';
const PUSH_TIMEOUT_MS = 3000;
const COMPLETED_PHASES = ['designing', 'training', 'backtesting', 'assessing'] as const;

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
  const [triggers, gateEvaluations, gateFailureReasons, cycles, phaseDurations, sessionTotals, tools, toolErrors, budget, active, tick] = await Promise.all([
    readTriggers(db),
    readGateEvaluations(db),
    readGateFailureReasons(db),
    readCycles(db),
    readPhaseDurations(db),
    readSessionTotals(db),
    readToolCalls(db),
    readToolErrors(db),
    readBudget(db, now, options.configuredDailyLimitUsd ?? 0),
    readActiveSessions(db, now),
    readLastTick(db),
  ]);
  return {
    triggers,
    gateEvaluations,
    gateFailureReasons,
    cycles: cycles.cycles,
    cycleDurations: cycles.durations,
    phaseDurations,
    tokens: sessionTotals.tokens,
    costUsdTotal: sessionTotals.costUsd,
    budgetDailyLimitUsd: budget.limitUsd,
    budgetRemainingUsd: budget.remainingUsd,
    budgetUtilization: budget.utilization,
    toolCalls: tools.calls,
    toolErrors,
    toolDurations: tools.durations,
    strategySharpe: cycles.sharpe,
    activeSessions: active.counts,
    oldestPhaseAge: active.oldest,
    tickLastSuccessUnixSeconds: tick.lastSuccessUnixSeconds,
    tickDurationSeconds: tick.durationSeconds,
  };
}

type Row = Record<string, unknown>;

/** pg returns COUNT/SUM/NUMERIC as strings and PGlite some of them as numbers or bigints: one conversion for all. */
function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : 0;
}

/**
 * `count(*) FILTER (WHERE <value> <= le)` per bucket (`b0`, `b1`...), plus `hist_count` and `hist_sum` over the
 * non-null values. The bounds are code constants, inlined as literals: a parameter compared with an INT column
 * would be typed INT and 0.5 truncated.
 */
function histogramColumns(value: RawBuilder<unknown>, bounds: readonly number[]): RawBuilder<unknown> {
  const buckets = bounds.map((le, i) => {
    if (!Number.isFinite(le)) throw new Error(`histogram bound ${le} is not a finite number`);
    return sql`count(*) FILTER (WHERE ${value} <= ${sql.lit(le)}) AS ${sql.ref(`b${i}`)}`;
  });
  return sql.join([...buckets, sql`count(${value}) AS hist_count`, sql`coalesce(sum(${value}), 0) AS hist_sum`]);
}

function histogramFromRow(row: Row | undefined, bounds: readonly number[]): HistogramState {
  if (!row) return emptyHistogramState(bounds);
  return {
    buckets: bounds.map((le, i) => ({ le, count: num(row[`b${i}`]) })),
    sum: num(row['hist_sum']),
    count: num(row['hist_count']),
  };
}

function addHistograms(a: HistogramState, b: HistogramState): HistogramState {
  return {
    buckets: a.buckets.map((bucket, i) => ({ le: bucket.le, count: bucket.count + (b.buckets[i]?.count ?? 0) })),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

async function readTriggers(db: Kysely<Database>): Promise<MetricsSnapshot['triggers']> {
  const rows = await db
    .selectFrom('agent_triggers')
    .select((eb) => ['trigger_reason', 'agent_invoked', eb.fn.countAll().as('count')])
    .groupBy(['trigger_reason', 'agent_invoked'])
    .execute();
  return rows.map((row) => ({ reason: row.trigger_reason, invoked: row.agent_invoked, count: num(row.count) }));
}

/** Gate results stored on the sessions: one evaluation per non-null training_gate / backtest_gate. */
async function readGateEvaluations(db: Kysely<Database>): Promise<MetricsSnapshot['gateEvaluations']> {
  const { rows } = await sql<{ gate_type: string; passed: string; count: unknown }>`
    SELECT 'training' AS gate_type, training_gate ->> 'passed' AS passed, count(*) AS count
    FROM agent_sessions
    WHERE jsonb_typeof(training_gate -> 'passed') = 'boolean'
    GROUP BY 2
    UNION ALL
    SELECT 'backtest' AS gate_type, backtest_gate ->> 'passed' AS passed, count(*) AS count
    FROM agent_sessions
    WHERE jsonb_typeof(backtest_gate -> 'passed') = 'boolean'
    GROUP BY 2
  `.execute(db);
  return rows.map((row) => ({ gateType: row.gate_type, result: row.passed === 'true' ? 'passed' : 'failed', count: num(row.count) }));
}

/**
 * One label per failing check of a failed gate, as `gateFailureLabels` in engine/gates.ts makes them:
 * `<metric>_missing` without a value, else `_low` for a minimum, `_high` for a maximum.
 */
async function readGateFailureReasons(db: Kysely<Database>): Promise<MetricsSnapshot['gateFailureReasons']> {
  const { rows } = await sql<{ gate_type: string; reason: string; count: unknown }>`
    SELECT g.gate_type,
      c.metric || CASE
        WHEN jsonb_typeof(c.value) IS DISTINCT FROM 'number' THEN '_missing'
        WHEN c.comparison = '>=' THEN '_low'
        ELSE '_high'
      END AS reason,
      count(*) AS count
    FROM agent_sessions s
    CROSS JOIN LATERAL (VALUES ('training', s.training_gate), ('backtest', s.backtest_gate)) AS g (gate_type, gate)
    CROSS JOIN LATERAL jsonb_to_recordset(
      CASE WHEN jsonb_typeof(g.gate -> 'checks') = 'array' THEN g.gate -> 'checks' ELSE '[]'::jsonb END
    ) AS c (metric text, value jsonb, comparison text, passed text)
    WHERE (s.training_gate ->> 'passed' = 'false' OR s.backtest_gate ->> 'passed' = 'false')
      AND g.gate ->> 'passed' = 'false'
      AND c.passed = 'false'
      AND c.metric IS NOT NULL
    GROUP BY 1, 2
  `.execute(db);
  return rows.map((row) => ({ gateType: row.gate_type, reason: row.reason, count: num(row.count) }));
}

/** Cycles by outcome, their durations, and the Sharpe of successful ones: one scan of agent_metrics. */
async function readCycles(db: Kysely<Database>): Promise<{
  cycles: MetricsSnapshot['cycles'];
  durations: HistogramState;
  sharpe: HistogramState;
}> {
  const { rows } = await sql<Row & { outcome: string; count: unknown }>`
    SELECT outcome, count(*) AS count,
      ${histogramColumns(sql`cycle_duration_seconds`, HISTOGRAM_BUCKETS.cycleDurationSeconds)},
      ${sql.join(
        HISTOGRAM_BUCKETS.strategySharpe.map((le, i) => sql`count(*) FILTER (WHERE backtest_sharpe <= ${sql.lit(le)}) AS ${sql.ref(`s${i}`)}`),
      )},
      count(backtest_sharpe) AS sharpe_count,
      coalesce(sum(backtest_sharpe), 0) AS sharpe_sum
    FROM agent_metrics
    GROUP BY outcome
  `.execute(db);
  let durations = emptyHistogramState(HISTOGRAM_BUCKETS.cycleDurationSeconds);
  for (const row of rows) durations = addHistograms(durations, histogramFromRow(row, HISTOGRAM_BUCKETS.cycleDurationSeconds));
  const success = rows.find((row) => row.outcome === 'success');
  const sharpe: HistogramState = success
    ? {
        buckets: HISTOGRAM_BUCKETS.strategySharpe.map((le, i) => ({ le, count: num(success[`s${i}`]) })),
        sum: num(success['sharpe_sum']),
        count: num(success['sharpe_count']),
      }
    : emptyHistogramState(HISTOGRAM_BUCKETS.strategySharpe);
  return { cycles: rows.map((row) => ({ outcome: row.outcome, count: num(row.count) })), durations, sharpe };
}

/** Every working phase is listed, empty ones included, so the dashboard's series do not come and go. */
async function readPhaseDurations(db: Kysely<Database>): Promise<MetricsSnapshot['phaseDurations']> {
  const { rows } = await sql<Row & { phase: string }>`
    SELECT p.phase, ${histogramColumns(sql`p.seconds`, HISTOGRAM_BUCKETS.phaseDurationSeconds)}
    FROM agent_metrics m
    CROSS JOIN LATERAL (VALUES
      ('designing', m.designing_seconds),
      ('training', m.training_seconds),
      ('backtesting', m.backtesting_seconds),
      ('assessing', m.assessing_seconds)
    ) AS p (phase, seconds)
    WHERE p.seconds IS NOT NULL
    GROUP BY p.phase
  `.execute(db);
  return COMPLETED_PHASES.map((phase) => ({
    phase,
    ...histogramFromRow(rows.find((row) => row.phase === phase), HISTOGRAM_BUCKETS.phaseDurationSeconds),
  }));
}

async function readSessionTotals(db: Kysely<Database>): Promise<{ tokens: MetricsSnapshot['tokens']; costUsd: number }> {
  const row = await db
    .selectFrom('agent_sessions')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum('tokens_input'), sql.lit(0)).as('input'),
      eb.fn.coalesce(eb.fn.sum('tokens_output'), sql.lit(0)).as('output'),
      eb.fn.coalesce(eb.fn.sum('tokens_cache_read'), sql.lit(0)).as('cache_read'),
      eb.fn.coalesce(eb.fn.sum('tokens_cache_write'), sql.lit(0)).as('cache_write'),
      eb.fn.coalesce(eb.fn.sum('cost_usd'), sql.lit(0)).as('cost_usd'),
    ])
    .executeTakeFirst();
  return {
    tokens: [
      { direction: 'input', count: num(row?.input) },
      { direction: 'output', count: num(row?.output) },
      { direction: 'cache_read', count: num(row?.cache_read) },
      { direction: 'cache_write', count: num(row?.cache_write) },
    ],
    costUsd: num(row?.cost_usd),
  };
}

/** Tool durations are whole milliseconds: bucketing them against integer bounds avoids NUMERIC arithmetic per row. */
const TOOL_DURATION_BOUNDS_MS = HISTOGRAM_BUCKETS.toolDurationSeconds.map((le) => Math.floor(Number((le * 1000).toFixed(6))));

/** Calls and durations of every tool, from one scan of agent_actions grouped by tool and success. */
async function readToolCalls(db: Kysely<Database>): Promise<{
  calls: MetricsSnapshot['toolCalls'];
  durations: MetricsSnapshot['toolDurations'];
}> {
  const { rows } = await sql<Row & { tool: string; success: boolean; calls: unknown }>`
    SELECT tool_name AS tool, success, count(*) AS calls, ${histogramColumns(sql`duration_ms`, TOOL_DURATION_BOUNDS_MS)}
    FROM agent_actions
    GROUP BY 1, 2
  `.execute(db);
  const durations = new Map<string, HistogramState>();
  for (const row of rows) {
    const inMs = histogramFromRow(row, TOOL_DURATION_BOUNDS_MS);
    const state: HistogramState = {
      buckets: HISTOGRAM_BUCKETS.toolDurationSeconds.map((le, i) => ({ le, count: inMs.buckets[i]?.count ?? 0 })),
      sum: inMs.sum / 1000,
      count: inMs.count,
    };
    const previous = durations.get(row.tool);
    durations.set(row.tool, previous ? addHistograms(previous, state) : state);
  }
  return {
    calls: rows.map((row) => ({ tool: row.tool, status: row.success ? 'success' : 'error', count: num(row.calls) })),
    durations: [...durations.entries()].map(([tool, state]) => ({ tool, ...state })),
  };
}

/**
 * Failed calls by a bounded error type read from the recorded message (the messages come from agent/tools.ts and
 * ktrdr/errors.ts): the free text itself would give the metric one series per message.
 */
async function readToolErrors(db: Kysely<Database>): Promise<MetricsSnapshot['toolErrors']> {
  const { rows } = await sql<{ tool: string; error_type: string; count: unknown }>`
    SELECT tool_name AS tool,
      CASE
        WHEN error_message LIKE 'invalid input for %' THEN 'invalid_input'
        WHEN error_message LIKE '%Could not reach KTRDR%' OR error_message LIKE '%KTRDR did not answer%'
          OR error_message ~ 'KTRDR answered .* with HTTP 5[0-9][0-9]' THEN 'ktrdr_unavailable'
        WHEN error_message LIKE '%KTRDR answered%' OR error_message LIKE 'KTRDR rejected%' THEN 'ktrdr_rejected'
        WHEN error_message LIKE '%does not match the contract%' THEN 'ktrdr_invalid_response'
        WHEN error_message LIKE tool_name || ' failed: %' THEN 'exception'
        ELSE 'rejected'
      END AS error_type,
      count(*) AS count
    FROM agent_actions
    WHERE NOT success
    GROUP BY 1, 2
  `.execute(db);
  return rows.map((row) => ({ tool: row.tool, errorType: row.error_type, count: num(row.count) }));
}

/**
 * Today's (UTC) budget. Spend counts open reservations, as the triggers' `budget_used_today_usd` does, so
 * remaining = limit - spend and the two gauges agree. Without a row yet, the limit in force and nothing spent.
 */
async function readBudget(db: Kysely<Database>, now: Date, configuredDailyLimitUsd: number): Promise<{
  limitUsd: number;
  remainingUsd: number;
  utilization: number;
}> {
  const day = await findBudgetDay(db, utcDay(now));
  const limitUsd = day ? day.limitUsd : await effectiveDailyLimit(db, configuredDailyLimitUsd);
  const spentUsd = day ? day.usedUsd + day.reservedUsd : 0;
  return {
    limitUsd,
    remainingUsd: Math.max(0, limitUsd - spentUsd),
    // A zero limit with spend is fully used, not infinitely.
    utilization: limitUsd > 0 ? spentUsd / limitUsd : spentUsd > 0 ? 1 : 0,
  };
}

async function readActiveSessions(db: Kysely<Database>, now: Date): Promise<{
  counts: MetricsSnapshot['activeSessions'];
  oldest: MetricsSnapshot['oldestPhaseAge'];
}> {
  const rows = await db
    .selectFrom('agent_sessions')
    .select((eb) => ['phase', eb.fn.countAll().as('count'), eb.fn.min('phase_started_at').as('oldest')])
    .where('outcome', 'is', null)
    .groupBy('phase')
    .execute();
  const byPhase = new Map(rows.map((row) => [row.phase as string, row]));
  return {
    counts: sessionPhases.map((phase) => ({ phase, count: num(byPhase.get(phase)?.count) })),
    oldest: rows
      .filter((row) => row.oldest !== null)
      .map((row) => ({
        phase: row.phase,
        seconds: Math.max(0, (now.getTime() - toDate(row.oldest as Date | string).getTime()) / 1000),
      })),
  };
}

async function readLastTick(db: Kysely<Database>): Promise<{ lastSuccessUnixSeconds: number | null; durationSeconds: number }> {
  const row = await db
    .selectFrom('agent_ticks')
    .select(['started_at', 'finished_at'])
    // A degraded tick (KTRDR or Anthropic down) still ran to its end: the staleness alert is for ticks that stop
    // running; a dependency's failure shows in its own signals (exit 5, the warn log lines, status banners).
    .where('status', 'in', ['ok', 'paused', 'degraded'])
    .where('finished_at', 'is not', null)
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row?.finished_at) return { lastSuccessUnixSeconds: null, durationSeconds: 0 };
  const finished = toDate(row.finished_at);
  return {
    lastSuccessUnixSeconds: finished.getTime() / 1000,
    durationSeconds: Math.max(0, (finished.getTime() - toDate(row.started_at).getTime()) / 1000),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
