import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { HISTOGRAM_BUCKETS, buildRegistry } from '../../src/core/telemetry/metrics.ts';
import { emptyMetricsSnapshot, histogramStateFromObservations, renderMetrics } from '../support/metrics.ts';
import type { MetricsSnapshot } from '../../src/core/telemetry/metrics.ts';
import { declaredTypes, parsePrometheusText, sampleValue } from '../support/prometheus-text.ts';

function sampleSnapshot(): MetricsSnapshot {
  return {
    triggers: [
      { reason: 'start_new_cycle', invoked: true, count: 40 },
      { reason: 'operation_running', invoked: false, count: 1200 },
    ],
    gateEvaluations: [
      { gateType: 'training', result: 'passed', count: 30 },
      { gateType: 'training', result: 'failed', count: 10 },
    ],
    gateFailureReasons: [{ gateType: 'training', reason: 'accuracy_low', count: 10 }],
    cycles: [
      { outcome: 'success', count: 25 },
      { outcome: 'failed_training_gate', count: 10 },
    ],
    cycleDurations: histogramStateFromObservations(HISTOGRAM_BUCKETS.cycleDurationSeconds, [120, 900, 4000, 9000]),
    phaseDurations: [
      { phase: 'designing', ...histogramStateFromObservations(HISTOGRAM_BUCKETS.phaseDurationSeconds, [20, 45]) },
      { phase: 'training', ...histogramStateFromObservations(HISTOGRAM_BUCKETS.phaseDurationSeconds, [1500]) },
    ],
    tokens: [
      { direction: 'input', count: 1_500_000 },
      { direction: 'output', count: 200_000 },
      { direction: 'cache_read', count: 900_000 },
      { direction: 'cache_write', count: 50_000 },
    ],
    costUsdTotal: 123.45,
    budgetDailyLimitUsd: 5,
    budgetRemainingUsd: 3.25,
    budgetUtilization: 0.35,
    toolCalls: [
      { tool: 'start_training', status: 'success', count: 30 },
      { tool: 'start_training', status: 'error', count: 2 },
    ],
    toolErrors: [{ tool: 'start_training', errorType: 'ktrdr_unavailable', count: 2 }],
    toolDurations: [{ tool: 'start_training', ...histogramStateFromObservations(HISTOGRAM_BUCKETS.toolDurationSeconds, [0.2, 0.4, 7]) }],
    strategySharpe: histogramStateFromObservations(HISTOGRAM_BUCKETS.strategySharpe, [-0.2, 0.8, 1.7]),
    activeSessions: [
      { phase: 'designing', count: 0 },
      { phase: 'training', count: 1 },
    ],
    oldestPhaseAge: [{ phase: 'training', seconds: 1800 }],
    tickLastSuccessUnixSeconds: 1_750_000_000,
    tickDurationSeconds: 0.42,
  };
}

describe('metrics registry built from database totals', () => {
  test('renders every counter and gauge with the snapshot values', async () => {
    const samples = parsePrometheusText(await renderMetrics(sampleSnapshot()));
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);

    assert.equal(value('agent_trigger_total', { reason: 'start_new_cycle', invoked: 'true' }), 40);
    assert.equal(value('agent_trigger_total', { reason: 'operation_running', invoked: 'false' }), 1200);
    assert.equal(value('agent_gate_evaluations_total', { gate_type: 'training', result: 'passed' }), 30);
    assert.equal(value('agent_gate_evaluations_total', { gate_type: 'training', result: 'failed' }), 10);
    assert.equal(value('agent_gate_failure_reasons_total', { gate_type: 'training', reason: 'accuracy_low' }), 10);
    assert.equal(value('agent_cycle_total', { outcome: 'success' }), 25);
    assert.equal(value('agent_cycle_total', { outcome: 'failed_training_gate' }), 10);
    assert.equal(value('agent_tokens_total', { direction: 'input' }), 1_500_000);
    assert.equal(value('agent_tokens_total', { direction: 'output' }), 200_000);
    assert.equal(value('agent_tokens_total', { direction: 'cache_read' }), 900_000);
    assert.equal(value('agent_tokens_total', { direction: 'cache_write' }), 50_000);
    assert.equal(value('agent_cost_usd_total'), 123.45);
    assert.equal(value('agent_budget_daily_limit_usd'), 5);
    assert.equal(value('agent_budget_remaining_usd'), 3.25);
    assert.equal(value('agent_budget_utilization_ratio'), 0.35);
    assert.equal(value('agent_tool_calls_total', { tool: 'start_training', status: 'success' }), 30);
    assert.equal(value('agent_tool_calls_total', { tool: 'start_training', status: 'error' }), 2);
    assert.equal(value('agent_tool_errors_total', { tool: 'start_training', error_type: 'ktrdr_unavailable' }), 2);
    assert.equal(value('agent_active_sessions', { phase: 'designing' }), 0);
    assert.equal(value('agent_active_sessions', { phase: 'training' }), 1);
    assert.equal(value('agent_session_oldest_phase_age_seconds', { phase: 'training' }), 1800);
    assert.equal(value('agent_tick_last_success_timestamp_seconds'), 1_750_000_000);
    assert.equal(value('agent_tick_duration_seconds'), 0.42);
  });

  test('renders histograms as cumulative buckets with +Inf, sum and count', async () => {
    const samples = parsePrometheusText(await renderMetrics(sampleSnapshot()));
    const buckets = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => [s.labels['le'], s.value]);

    assert.deepEqual(buckets('agent_cycle_duration_seconds'), [
      ['60', 0],
      ['300', 1],
      ['600', 1],
      ['1800', 2],
      ['3600', 2],
      ['7200', 3],
      ['+Inf', 4],
    ]);
    assert.equal(sampleValue(samples, 'agent_cycle_duration_seconds_sum', {}), 14020);
    assert.equal(sampleValue(samples, 'agent_cycle_duration_seconds_count', {}), 4);

    assert.deepEqual(buckets('agent_phase_duration_seconds', { phase: 'designing' }), [
      ['10', 0],
      ['30', 1],
      ['60', 2],
      ['300', 2],
      ['600', 2],
      ['1800', 2],
      ['3600', 2],
      ['+Inf', 2],
    ]);
    assert.equal(sampleValue(samples, 'agent_phase_duration_seconds_sum', { phase: 'training' }), 1500);
    assert.equal(sampleValue(samples, 'agent_tool_duration_seconds_count', { tool: 'start_training' }), 3);
    assert.equal(sampleValue(samples, 'agent_tool_duration_seconds_bucket', { tool: 'start_training', le: '0.5' }), 2);
    assert.equal(sampleValue(samples, 'agent_strategy_sharpe_bucket', { le: '0' }), 1);
    assert.equal(sampleValue(samples, 'agent_strategy_sharpe_bucket', { le: '-0.5' }), 0);
    assert.equal(sampleValue(samples, 'agent_strategy_sharpe_count', {}), 3);
  });

  test('declares counters as counters and histograms as histograms', async () => {
    const types = declaredTypes(await renderMetrics(sampleSnapshot()));
    assert.equal(types.get('agent_cycle_total'), 'counter');
    assert.equal(types.get('agent_cost_usd_total'), 'counter');
    assert.equal(types.get('agent_cycle_duration_seconds'), 'histogram');
    assert.equal(types.get('agent_strategy_sharpe'), 'histogram');
    assert.equal(types.get('agent_budget_remaining_usd'), 'gauge');
    assert.equal(types.get('agent_active_sessions'), 'gauge');
  });

  test('holds only agent metrics: no process or Node.js defaults, nothing in the global registry', async () => {
    const text = await renderMetrics(sampleSnapshot());
    assert.deepEqual([...declaredTypes(text).keys()].sort(), [
      'agent_active_sessions',
      'agent_budget_daily_limit_usd',
      'agent_budget_remaining_usd',
      'agent_budget_utilization_ratio',
      'agent_cost_usd_total',
      'agent_cycle_duration_seconds',
      'agent_cycle_total',
      'agent_gate_evaluations_total',
      'agent_gate_failure_reasons_total',
      'agent_phase_duration_seconds',
      'agent_session_oldest_phase_age_seconds',
      'agent_strategy_sharpe',
      'agent_tick_duration_seconds',
      'agent_tick_last_success_timestamp_seconds',
      'agent_tokens_total',
      'agent_tool_calls_total',
      'agent_tool_duration_seconds',
      'agent_tool_errors_total',
      'agent_trigger_total',
    ]);
    for (const sample of parsePrometheusText(text)) assert.match(sample.name, /^agent_/);
    assert.equal(globalRegistry.getMetricsAsArray().length, 0);
  });

  test('no series carries a session id label', async () => {
    for (const sample of parsePrometheusText(await renderMetrics(sampleSnapshot()))) {
      for (const label of Object.keys(sample.labels)) assert.doesNotMatch(label, /session/);
    }
  });

  test('each process exports the database totals, not what it added since it started', async () => {
    // Two cron runs: each builds its registry from the totals read at that moment.
    const first = { ...sampleSnapshot(), cycles: [{ outcome: 'success', count: 25 }], costUsdTotal: 100 };
    const second = { ...sampleSnapshot(), cycles: [{ outcome: 'success', count: 26 }], costUsdTotal: 100.5 };
    const firstSamples = parsePrometheusText(await renderMetrics(first));
    const secondSamples = parsePrometheusText(await renderMetrics(second));
    assert.equal(sampleValue(firstSamples, 'agent_cycle_total', { outcome: 'success' }), 25);
    assert.equal(sampleValue(secondSamples, 'agent_cycle_total', { outcome: 'success' }), 26);
    assert.equal(sampleValue(secondSamples, 'agent_cost_usd_total', {}), 100.5);
    // Rendering the same registry twice does not double anything.
    const registry = buildRegistry(second);
    await registry.metrics();
    assert.equal(sampleValue(parsePrometheusText(await registry.metrics()), 'agent_cycle_total', { outcome: 'success' }), 26);
  });

  test('an empty database exports zeros for unlabelled series and no labelled series', async () => {
    const samples = parsePrometheusText(await renderMetrics(emptyMetricsSnapshot()));
    assert.equal(sampleValue(samples, 'agent_cost_usd_total', {}), 0);
    assert.equal(sampleValue(samples, 'agent_cycle_duration_seconds_count', {}), 0);
    assert.equal(sampleValue(samples, 'agent_tick_last_success_timestamp_seconds', {}), 0);
    assert.equal(samples.filter((s) => s.name === 'agent_cycle_total').length, 0);
    assert.equal(samples.filter((s) => s.name === 'agent_trigger_total').length, 0);
  });

  test('rejects snapshots that would publish wrong numbers', () => {
    assert.throws(
      () =>
        buildRegistry({
          ...emptyMetricsSnapshot(),
          cycles: [
            { outcome: 'success', count: 1 },
            { outcome: 'success', count: 2 },
          ],
        }),
      /agent_cycle_total\{outcome="success"\} appears twice/,
    );
    assert.throws(() => buildRegistry({ ...emptyMetricsSnapshot(), costUsdTotal: -1 }), /agent_cost_usd_total must be a finite total >= 0/);
    assert.throws(
      () => buildRegistry({ ...emptyMetricsSnapshot(), cycleDurations: histogramStateFromObservations([60, 300], [1]) }),
      /agent_cycle_duration_seconds has buckets \[60, 300\], expected \[60, 300, 600, 1800, 3600, 7200\]/,
    );
    const decreasing = {
      buckets: HISTOGRAM_BUCKETS.strategySharpe.map((le, i) => ({ le, count: i === 0 ? 2 : 1 })),
      sum: 0,
      count: 2,
    };
    assert.throws(() => buildRegistry({ ...emptyMetricsSnapshot(), strategySharpe: decreasing }), /agent_strategy_sharpe bucket counts must be cumulative/);
    assert.throws(() => buildRegistry({ ...emptyMetricsSnapshot(), budgetRemainingUsd: Number.NaN }), /agent_budget_remaining_usd must be a finite number/);
  });

  test('histogramStateFromObservations counts cumulatively', () => {
    assert.deepEqual(histogramStateFromObservations([1, 5], [0.5, 1, 3, 9]), {
      buckets: [
        { le: 1, count: 2 },
        { le: 5, count: 3 },
      ],
      sum: 13.5,
      count: 4,
    });
  });
});
