// Counters and histograms carry all-time totals read from PostgreSQL, not this process's observations: a cron tick
// lives seconds, so each push replaces the Pushgateway group with the database totals and Prometheus sees one
// monotonic series across runs (rate()/increase() work). Gauges are the state when the snapshot was read.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Metric } from 'prom-client';

export const HISTOGRAM_BUCKETS = {
  cycleDurationSeconds: [60, 300, 600, 1800, 3600, 7200],
  phaseDurationSeconds: [10, 30, 60, 300, 600, 1800, 3600],
  toolDurationSeconds: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
  strategySharpe: [-1, -0.5, 0, 0.5, 1, 1.5, 2, 3],
} as const;

/** A histogram's all-time state: `buckets[i].count` is the number of observations `<= buckets[i].le` (cumulative). */
export interface HistogramState {
  buckets: readonly { le: number; count: number }[];
  sum: number;
  count: number;
}

export type TokenDirection = 'input' | 'output' | 'cache_read' | 'cache_write';

/** Everything the metrics show, read from the database in one pass. One row per label set. */
export interface MetricsSnapshot {
  triggers: readonly { reason: string; invoked: boolean; count: number }[];
  gateEvaluations: readonly { gateType: string; result: 'passed' | 'failed'; count: number }[];
  gateFailureReasons: readonly { gateType: string; reason: string; count: number }[];
  cycles: readonly { outcome: string; count: number }[];
  cycleDurations: HistogramState;
  phaseDurations: readonly ({ phase: string } & HistogramState)[];
  tokens: readonly { direction: TokenDirection; count: number }[];
  costUsdTotal: number;
  budgetDailyLimitUsd: number;
  budgetRemainingUsd: number;
  /** Today's spend over today's limit, 0..1 (above 1 when overspent). */
  budgetUtilization: number;
  toolCalls: readonly { tool: string; status: 'success' | 'error'; count: number }[];
  toolErrors: readonly { tool: string; errorType: string; count: number }[];
  toolDurations: readonly ({ tool: string } & HistogramState)[];
  /** Sharpe ratios of strategies whose cycle ended in success. Can be negative, so query quantiles, not increase(_sum). */
  strategySharpe: HistogramState;
  /** List every phase, zeros included, so a phase that drains shows 0 instead of vanishing. */
  activeSessions: readonly { phase: string; count: number }[];
  /** Per phase, how long the session that entered it earliest has been there. */
  oldestPhaseAge: readonly { phase: string; seconds: number }[];
  /** Unix seconds of the last tick that completed; null if none has (exported as 0, which the staleness alert catches). */
  tickLastSuccessUnixSeconds: number | null;
  tickDurationSeconds: number;
}

export function emptyHistogramState(bounds: readonly number[]): HistogramState {
  return { buckets: bounds.map((le) => ({ le, count: 0 })), sum: 0, count: 0 };
}

type Labels = Record<string, string>;

interface Series<T> {
  labels: Labels;
  value: T;
}

/** A fresh registry holding only the agent's metrics (no process defaults), filled from `snapshot`. */
export function buildRegistry(snapshot: MetricsSnapshot): Registry {
  const registry = new Registry();

  addCounter(
    registry,
    'agent_trigger_total',
    'Trigger checks by reason and whether the agent was invoked',
    ['reason', 'invoked'],
    snapshot.triggers.map((row) => series({ reason: row.reason, invoked: String(row.invoked) }, row.count)),
  );
  addCounter(
    registry,
    'agent_gate_evaluations_total',
    'Quality gate evaluations by gate and result',
    ['gate_type', 'result'],
    snapshot.gateEvaluations.map((row) => series({ gate_type: row.gateType, result: row.result }, row.count)),
  );
  addCounter(
    registry,
    'agent_gate_failure_reasons_total',
    'Quality gate failures by gate and reason',
    ['gate_type', 'reason'],
    snapshot.gateFailureReasons.map((row) => series({ gate_type: row.gateType, reason: row.reason }, row.count)),
  );
  addCounter(
    registry,
    'agent_cycle_total',
    'Completed research cycles by outcome',
    ['outcome'],
    snapshot.cycles.map((row) => series({ outcome: row.outcome }, row.count)),
  );
  addHistogram(registry, 'agent_cycle_duration_seconds', 'Duration of completed cycles', HISTOGRAM_BUCKETS.cycleDurationSeconds, [
    series({}, snapshot.cycleDurations),
  ]);
  addHistogram(
    registry,
    'agent_phase_duration_seconds',
    'Duration of completed phases',
    HISTOGRAM_BUCKETS.phaseDurationSeconds,
    snapshot.phaseDurations.map((row) => series({ phase: row.phase }, row)),
  );
  addCounter(
    registry,
    'agent_tokens_total',
    'LLM tokens by direction',
    ['direction'],
    snapshot.tokens.map((row) => series({ direction: row.direction }, row.count)),
  );
  addCounter(registry, 'agent_cost_usd_total', 'Estimated LLM cost in USD', [], [series({}, snapshot.costUsdTotal)]);
  addGauge(registry, 'agent_budget_daily_limit_usd', "Today's LLM budget in USD", [], [series({}, snapshot.budgetDailyLimitUsd)]);
  addGauge(registry, 'agent_budget_remaining_usd', 'Remaining LLM budget for today in USD', [], [series({}, snapshot.budgetRemainingUsd)]);
  addGauge(registry, 'agent_budget_utilization_ratio', "Today's spend over today's budget", [], [series({}, snapshot.budgetUtilization)]);
  addCounter(
    registry,
    'agent_tool_calls_total',
    'Agent tool calls by tool and status',
    ['tool', 'status'],
    snapshot.toolCalls.map((row) => series({ tool: row.tool, status: row.status }, row.count)),
  );
  addCounter(
    registry,
    'agent_tool_errors_total',
    'Agent tool errors by tool and error type',
    ['tool', 'error_type'],
    snapshot.toolErrors.map((row) => series({ tool: row.tool, error_type: row.errorType }, row.count)),
  );
  addHistogram(
    registry,
    'agent_tool_duration_seconds',
    'Agent tool call duration',
    HISTOGRAM_BUCKETS.toolDurationSeconds,
    snapshot.toolDurations.map((row) => series({ tool: row.tool }, row)),
  );
  addHistogram(registry, 'agent_strategy_sharpe', 'Sharpe ratio of successful strategies', HISTOGRAM_BUCKETS.strategySharpe, [
    series({}, snapshot.strategySharpe),
  ]);
  addGauge(
    registry,
    'agent_active_sessions',
    'Research sessions in progress by phase',
    ['phase'],
    snapshot.activeSessions.map((row) => series({ phase: row.phase }, row.count)),
  );
  addGauge(
    registry,
    'agent_session_oldest_phase_age_seconds',
    'Time the longest-waiting session has spent in its phase',
    ['phase'],
    snapshot.oldestPhaseAge.map((row) => series({ phase: row.phase }, row.seconds)),
  );
  addGauge(
    registry,
    'agent_tick_last_success_timestamp_seconds',
    'Unix time of the last completed tick',
    [],
    [series({}, snapshot.tickLastSuccessUnixSeconds ?? 0)],
  );
  addGauge(registry, 'agent_tick_duration_seconds', 'Duration of the tick that produced this push', [], [series({}, snapshot.tickDurationSeconds)]);

  return registry;
}

function series<T>(labels: Labels, value: T): Series<T> {
  return { labels, value };
}

function addCounter(registry: Registry, name: string, help: string, labelNames: readonly string[], rows: readonly Series<number>[]): void {
  const counter = new Counter({ name, help, labelNames: [...labelNames], registers: [registry] });
  for (const row of uniqueSeries(name, rows)) {
    requireValue(name, row, (value) => Number.isFinite(value) && value >= 0, 'a finite total >= 0');
    // One inc() per process with the all-time total: the pushed value equals the database total.
    counter.inc(row.labels, row.value);
  }
}

function addGauge(registry: Registry, name: string, help: string, labelNames: readonly string[], rows: readonly Series<number>[]): void {
  const gauge = new Gauge({ name, help, labelNames: [...labelNames], registers: [registry] });
  for (const row of uniqueSeries(name, rows)) {
    requireValue(name, row, Number.isFinite, 'a finite number');
    gauge.set(row.labels, row.value);
  }
}

function addHistogram(registry: Registry, name: string, help: string, bounds: readonly number[], rows: readonly Series<HistogramState>[]): void {
  const histogram = new BucketedHistogram(name, help, bounds);
  for (const row of uniqueSeries(name, rows)) histogram.set(row.labels, row.value);
  // prom-client's Metric type lists its own classes only; the registry needs just name, type, get() and reset().
  registry.registerMetric(histogram as unknown as Metric);
}

/**
 * A histogram whose state arrives already bucketed (from SQL). prom-client's Histogram can only observe one value
 * at a time, which could not reproduce an exact sum, so this speaks the registry's metric contract directly.
 */
class BucketedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly bounds: readonly number[];
  private readonly series: Series<HistogramState>[] = [];

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = bounds;
  }

  set(labels: Labels, state: HistogramState): void {
    const where = `${this.name}${formatLabels(labels)}`;
    const les = state.buckets.map((bucket) => bucket.le);
    if (les.length !== this.bounds.length || les.some((le, i) => le !== this.bounds[i])) {
      throw new Error(`metrics snapshot: ${where} has buckets [${les.join(', ')}], expected [${this.bounds.join(', ')}]`);
    }
    if (!(Number.isInteger(state.count) && state.count >= 0) || !Number.isFinite(state.sum)) {
      throw new Error(`metrics snapshot: ${where} needs an integer count >= 0 and a finite sum`);
    }
    let previous = 0;
    for (const bucket of state.buckets) {
      if (!Number.isInteger(bucket.count) || bucket.count < previous || bucket.count > state.count) {
        throw new Error(`metrics snapshot: ${where} bucket counts must be cumulative integers, non-decreasing and at most count`);
      }
      previous = bucket.count;
    }
    this.series.push({ labels, value: state });
  }

  async get() {
    const values = this.series.flatMap(({ labels, value: state }) => [
      ...state.buckets.map((bucket) => ({
        metricName: `${this.name}_bucket`,
        labels: { ...labels, le: String(bucket.le) },
        value: bucket.count,
      })),
      { metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: state.count },
      { metricName: `${this.name}_sum`, labels, value: state.sum },
      { metricName: `${this.name}_count`, labels, value: state.count },
    ]);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.length = 0;
  }
}

function uniqueSeries<T>(name: string, rows: readonly Series<T>[]): readonly Series<T>[] {
  const seen = new Set<string>();
  for (const row of rows) {
    const key = formatLabels(row.labels);
    if (seen.has(key)) {
      throw new Error(`metrics snapshot: ${name}${key} appears twice; the query must return one row per label set`);
    }
    seen.add(key);
  }
  return rows;
}

function requireValue(name: string, row: Series<number>, isValid: (value: number) => boolean, expected: string): void {
  if (!isValid(row.value)) {
    throw new Error(`metrics snapshot: ${name}${formatLabels(row.labels)} must be ${expected}, got ${row.value}`);
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(',')}}`;
}
