// The all-time totals the metrics show, one aggregate query per family: the cost of a read depends on the table
// sizes, never on a loop over rows in JS. Histogram bounds come from the caller; the counts come back as numbers.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toCount, toDate } from '../values.ts';

/** Counts of a column's non-null values: `buckets[i].count` of them are `<= buckets[i].le` (cumulative). */
export interface BucketCounts {
  buckets: readonly { le: number; count: number }[];
  sum: number;
  count: number;
}

type Row = Record<string, unknown>;

/**
 * `count(*) FILTER (WHERE <value> <= le)` per bucket (`<prefix>_le0`, `<prefix>_le1`...), plus `<prefix>_count` and
 * `<prefix>_sum` over the non-null values. The bounds are code constants, inlined as literals: a parameter compared
 * with an INT column would be typed INT and 0.5 truncated.
 */
function bucketColumns(value: RawBuilder<unknown>, bounds: readonly number[], prefix: string): RawBuilder<unknown> {
  const buckets = bounds.map((le, i) => {
    if (!Number.isFinite(le)) throw new Error(`histogram bound ${le} is not a finite number`);
    return sql`count(*) FILTER (WHERE ${value} <= ${sql.lit(le)}) AS ${sql.ref(`${prefix}_le${i}`)}`;
  });
  return sql.join([...buckets, sql`count(${value}) AS ${sql.ref(`${prefix}_count`)}`, sql`coalesce(sum(${value}), 0) AS ${sql.ref(`${prefix}_sum`)}`]);
}

function bucketCountsOf(row: Row, bounds: readonly number[], prefix: string): BucketCounts {
  return {
    buckets: bounds.map((le, i) => ({ le, count: toCount(row[`${prefix}_le${i}`]) })),
    sum: toCount(row[`${prefix}_sum`]),
    count: toCount(row[`${prefix}_count`]),
  };
}

export async function countTriggers(db: Kysely<Database>): Promise<{ reason: string; invoked: boolean; count: number }[]> {
  const rows = await db
    .selectFrom('agent_triggers')
    .select((eb) => ['trigger_reason', 'agent_invoked', eb.fn.countAll().as('count')])
    .groupBy(['trigger_reason', 'agent_invoked'])
    .execute();
  return rows.map((row) => ({ reason: row.trigger_reason, invoked: row.agent_invoked, count: toCount(row.count) }));
}

/** Gate results stored on the sessions: one evaluation per non-null training_gate / backtest_gate. */
export async function countGateEvaluations(db: Kysely<Database>): Promise<{ gateType: string; passed: boolean; count: number }[]> {
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
  return rows.map((row) => ({ gateType: row.gate_type, passed: row.passed === 'true', count: toCount(row.count) }));
}

/**
 * Gate failures by gate and label, from the labels each experiment stored when its session ended
 * (`failed_checks`, made by `gateFailureLabels`): one count per failing check.
 */
export async function countGateFailureReasons(db: Kysely<Database>): Promise<{ gateType: string; reason: string; count: number }[]> {
  const { rows } = await sql<{ gate_type: string; reason: string; count: unknown }>`
    SELECT gate_failed AS gate_type, label AS reason, count(*) AS count
    FROM agent_experiments, unnest(failed_checks) AS label
    WHERE gate_failed IS NOT NULL
    GROUP BY 1, 2
  `.execute(db);
  return rows.map((row) => ({ gateType: row.gate_type, reason: row.reason, count: toCount(row.count) }));
}

export interface CycleTotals {
  outcome: string;
  count: number;
  durationSeconds: BucketCounts;
  backtestSharpe: BucketCounts;
}

/** Cycles by outcome with their durations and backtest Sharpe ratios: one scan of agent_metrics. */
export async function cycleTotalsByOutcome(
  db: Kysely<Database>,
  bounds: { durationSeconds: readonly number[]; backtestSharpe: readonly number[] },
): Promise<CycleTotals[]> {
  const { rows } = await sql<Row & { outcome: string; count: unknown }>`
    SELECT outcome, count(*) AS count,
      ${bucketColumns(sql`cycle_duration_seconds`, bounds.durationSeconds, 'duration')},
      ${bucketColumns(sql`backtest_sharpe`, bounds.backtestSharpe, 'sharpe')}
    FROM agent_metrics
    GROUP BY outcome
  `.execute(db);
  return rows.map((row) => ({
    outcome: row.outcome,
    count: toCount(row.count),
    durationSeconds: bucketCountsOf(row, bounds.durationSeconds, 'duration'),
    backtestSharpe: bucketCountsOf(row, bounds.backtestSharpe, 'sharpe'),
  }));
}

/** Durations of completed phases, per phase that has any. */
export async function phaseDurationCounts(db: Kysely<Database>, boundsSeconds: readonly number[]): Promise<{ phase: string; seconds: BucketCounts }[]> {
  const { rows } = await sql<Row & { phase: string }>`
    SELECT p.phase, ${bucketColumns(sql`p.seconds`, boundsSeconds, 'seconds')}
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
  return rows.map((row) => ({ phase: row.phase, seconds: bucketCountsOf(row, boundsSeconds, 'seconds') }));
}

export interface SessionTotals {
  tokensInput: number;
  tokensOutput: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  costUsd: number;
}

export async function sessionTotals(db: Kysely<Database>): Promise<SessionTotals> {
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
    tokensInput: toCount(row?.input),
    tokensOutput: toCount(row?.output),
    tokensCacheRead: toCount(row?.cache_read),
    tokensCacheWrite: toCount(row?.cache_write),
    costUsd: toCount(row?.cost_usd),
  };
}

export interface ToolCallCounts {
  tool: string;
  success: boolean;
  count: number;
  durationMs: BucketCounts;
}

/**
 * Calls of every tool by success, with their durations in whole milliseconds (the column's unit, so integer bounds
 * avoid NUMERIC arithmetic per row): one scan of agent_actions.
 */
export async function toolCallCounts(db: Kysely<Database>, boundsMs: readonly number[]): Promise<ToolCallCounts[]> {
  const { rows } = await sql<Row & { tool: string; success: boolean; calls: unknown }>`
    SELECT tool_name AS tool, success, count(*) AS calls, ${bucketColumns(sql`duration_ms`, boundsMs, 'ms')}
    FROM agent_actions
    GROUP BY 1, 2
  `.execute(db);
  return rows.map((row) => ({
    tool: row.tool,
    success: row.success,
    count: toCount(row.calls),
    durationMs: bucketCountsOf(row, boundsMs, 'ms'),
  }));
}

/** Failed tool calls by tool and the kind stored when each was recorded (`agent_actions.error_kind`). */
export async function countToolErrors(db: Kysely<Database>): Promise<{ tool: string; errorType: string; count: number }[]> {
  const rows = await db
    .selectFrom('agent_actions')
    .select((eb) => ['tool_name', 'error_kind', eb.fn.countAll().as('count')])
    .where('success', '=', false)
    .groupBy(['tool_name', 'error_kind'])
    .execute();
  return rows.map((row) => ({ tool: row.tool_name, errorType: row.error_kind ?? 'rejected', count: toCount(row.count) }));
}

/** Sessions still running, per phase, with when the earliest of them entered it. */
export async function openSessionsByPhase(db: Kysely<Database>): Promise<{ phase: string; count: number; earliestPhaseStart: Date | null }[]> {
  const rows = await db
    .selectFrom('agent_sessions')
    .select((eb) => ['phase', eb.fn.countAll().as('count'), eb.fn.min('phase_started_at').as('oldest')])
    .where('outcome', 'is', null)
    .groupBy('phase')
    .execute();
  return rows.map((row) => ({
    phase: row.phase,
    count: toCount(row.count),
    earliestPhaseStart: row.oldest === null ? null : toDate(row.oldest as Date | string),
  }));
}

/** The last tick that ran to its end, or undefined when none has. */
export async function lastCompletedTick(db: Kysely<Database>): Promise<{ startedAt: Date; finishedAt: Date } | undefined> {
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
  if (!row?.finished_at) return undefined;
  return { startedAt: toDate(row.started_at), finishedAt: toDate(row.finished_at) };
}
