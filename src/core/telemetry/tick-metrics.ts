// The snapshot is read with one aggregate query per metric family: every counter and histogram is an all-time
// database total (see metrics.ts), so the cost of a push depends on the table sizes, never on a loop over rows in JS.
import { hostname } from 'node:os';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import { sessionPhases, type Database } from '../db/database-schema.ts';
import { effectiveDailyLimit, findBudgetDay } from '../db/repositories/budget.ts';
import { toDate, utcDay } from '../db/values.ts';
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
  const [triggers, gates, cycles, phaseDurations, sessionTotals, tools, budget, active, tick] = await Promise.all([
    readTriggers(db),
    readGates(db),
    readCycles(db),
    readPhaseDurations(db),
    readSessionTotals(db),
    readTools(db),
    readBudget(db, now, options.configuredDailyLimitUsd ?? 0),
    readActiveSessions(db, now),
    readLastTick(db),
  ]);
  return {
    triggers,
    gateEvaluations: gates.evaluations,
    gateFailureReasons: gates.failureReasons,
    cycles: cycles.cycles,
    cycleDurations: cycles.durations,
    phaseDurations,
    tokens: sessionTotals.tokens,
    costUsdTotal: sessionTotals.costUsd,
    budgetDailyLimitUsd: budget.limitUsd,
    budgetRemainingUsd: budget.remainingUsd,
    budgetUtilization: budget.utilization,
    toolCalls: tools.calls,
    toolErrors: tools.errors,
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

/**
 * Gate results stored on the sessions. A failure reason is one label per failing check, as `gateFailureLabels`
 * in engine/gates.ts makes them: `<metric>_missing` without a value, else `_low` for a minimum, `_high` for a maximum.
 */
async function readGates(db: Kysely<Database>): Promise<{
  evaluations: MetricsSnapshot['gateEvaluations'];
  failureReasons: MetricsSnapshot['gateFailureReasons'];
}> {
  const { rows } = await sql<{ gate_type: string; kind: 'evaluation' | 'failure'; label: string; count: unknown }>`
    WITH gates AS (
      SELECT g.gate_type, g.gate
      FROM agent_sessions s
      CROSS JOIN LATERAL (VALUES ('training', s.training_gate), ('backtest', s.backtest_gate)) AS g (gate_type, gate)
      WHERE (s.training_gate IS NOT NULL OR s.backtest_gate IS NOT NULL)
        AND jsonb_typeof(g.gate -> 'passed') = 'boolean'
    )
    SELECT gate_type, 'evaluation' AS kind,
      CASE WHEN (gate ->> 'passed')::boolean THEN 'passed' ELSE 'failed' END AS label,
      count(*) AS count
    FROM gates
    GROUP BY 1, 3
    UNION ALL
    SELECT gate_type, 'failure' AS kind,
      (c.item ->> 'metric') || CASE
        WHEN jsonb_typeof(c.item -> 'value') IS DISTINCT FROM 'number' THEN '_missing'
        WHEN c.item ->> 'comparison' = '>=' THEN '_low'
        ELSE '_high'
      END AS label,
      count(*) AS count
    FROM gates
    CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(gate -> 'checks') = 'array' THEN gate -> 'checks' ELSE '[]'::jsonb END
    ) AS c (item)
    WHERE c.item ->> 'passed' = 'false' AND c.item ->> 'metric' IS NOT NULL
    GROUP BY 1, 3
  `.execute(db);
  return {
    evaluations: rows
      .filter((row) => row.kind === 'evaluation')
      .map((row) => ({ gateType: row.gate_type, result: row.label === 'passed' ? 'passed' : 'failed', count: num(row.count) })),
    failureReasons: rows
      .filter((row) => row.kind === 'failure')
      .map((row) => ({ gateType: row.gate_type, reason: row.label, count: num(row.count) })),
  };
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

/**
 * A bounded error type from the recorded message (the messages come from agent/tools.ts and ktrdr/errors.ts):
 * the free text would give the metric one series per message.
 */
const toolErrorType = sql`CASE
  WHEN success THEN NULL
  WHEN error_message LIKE 'invalid input for %' THEN 'invalid_input'
  WHEN error_message LIKE '%Could not reach KTRDR%' OR error_message LIKE '%KTRDR did not answer%'
    OR error_message ~ 'KTRDR answered .* with HTTP 5[0-9][0-9]' THEN 'ktrdr_unavailable'
  WHEN error_message LIKE '%KTRDR answered%' OR error_message LIKE 'KTRDR rejected%' THEN 'ktrdr_rejected'
  WHEN error_message LIKE '%does not match the contract%' THEN 'ktrdr_invalid_response'
  WHEN error_message LIKE tool_name || ' failed: %' THEN 'exception'
  ELSE 'rejected'
END`;

/** Calls, errors and durations of every tool from one scan of agent_actions, grouped to a few rows per tool. */
async function readTools(db: Kysely<Database>): Promise<{
  calls: MetricsSnapshot['toolCalls'];
  errors: MetricsSnapshot['toolErrors'];
  durations: MetricsSnapshot['toolDurations'];
}> {
  // Bucketed in milliseconds: `duration_ms / 1000.0` is NUMERIC, so 10 ms lands exactly in the 0.01 s bucket.
  const { rows } = await sql<Row & { tool: string; success: boolean; error_type: string | null; calls: unknown }>`
    SELECT tool_name AS tool, success, ${toolErrorType} AS error_type, count(*) AS calls,
      ${histogramColumns(sql`(duration_ms / 1000.0)`, HISTOGRAM_BUCKETS.toolDurationSeconds)}
    FROM agent_actions
    GROUP BY 1, 2, 3
  `.execute(db);
  const calls = new Map<string, { tool: string; status: 'success' | 'error'; count: number }>();
  const errors = new Map<string, { tool: string; errorType: string; count: number }>();
  const durations = new Map<string, HistogramState>();
  for (const row of rows) {
    const status = row.success ? 'success' : 'error';
    const callKey = `${row.tool}\u0000${status}`;
    const count = num(row.calls);
    calls.set(callKey, { tool: row.tool, status, count: (calls.get(callKey)?.count ?? 0) + count });
    if (!row.success && row.error_type !== null) {
      const errorKey = `${row.tool}\u0000${row.error_type}`;
      errors.set(errorKey, { tool: row.tool, errorType: row.error_type, count: (errors.get(errorKey)?.count ?? 0) + count });
    }
    const state = histogramFromRow(row, HISTOGRAM_BUCKETS.toolDurationSeconds);
    const previous = durations.get(row.tool);
    durations.set(row.tool, previous ? addHistograms(previous, state) : state);
  }
  return {
    calls: [...calls.values()],
    errors: [...errors.values()],
    durations: [...durations.entries()].map(([tool, state]) => ({ tool, ...state })),
  };
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
    .where('status', 'in', ['ok', 'paused'])
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
