// Metric snapshots for tests: the engine builds its snapshot in SQL, tests from lists.
import { buildRegistry, emptyHistogramState, HISTOGRAM_BUCKETS, type HistogramState, type MetricsSnapshot } from '../../src/core/telemetry/metrics.ts';

/** Buckets a list of observations, as the engine's SQL does. */
export function histogramStateFromObservations(bounds: readonly number[], values: readonly number[]): HistogramState {
  return {
    buckets: bounds.map((le) => ({ le, count: values.filter((value) => value <= le).length })),
    sum: values.reduce((acc, value) => acc + value, 0),
    count: values.length,
  };
}

export function emptyMetricsSnapshot(): MetricsSnapshot {
  return {
    triggers: [],
    gateEvaluations: [],
    gateFailureReasons: [],
    cycles: [],
    cycleDurations: emptyHistogramState(HISTOGRAM_BUCKETS.cycleDurationSeconds),
    phaseDurations: [],
    tokens: [],
    costUsdTotal: 0,
    budgetDailyLimitUsd: 0,
    budgetRemainingUsd: 0,
    budgetUtilization: 0,
    toolCalls: [],
    toolErrors: [],
    toolDurations: [],
    strategySharpe: emptyHistogramState(HISTOGRAM_BUCKETS.strategySharpe),
    activeSessions: [],
    oldestPhaseAge: [],
    tickLastSuccessUnixSeconds: null,
    tickDurationSeconds: 0,
  };
}

/** The snapshot in the Prometheus text exposition format. */
export function renderMetrics(snapshot: MetricsSnapshot): Promise<string> {
  return buildRegistry(snapshot).metrics();
}
