import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/core/config/load.ts';
import type { Database } from '../../src/core/db/database-schema.ts';
import type { SessionOutcome, SessionPhase, GateEvaluation } from '../../src/core/session/model.ts';
import { evaluateBacktestGate, evaluateTrainingGate, type GateThresholds } from '../../src/core/engine/gates.ts';
import { gateFailureLabels, type ToolErrorKind } from '../../src/core/session/model.ts';
import { backfillExperiments } from '../../src/core/db/repositories/experiments.ts';
import { HISTOGRAM_BUCKETS, buildRegistry } from '../../src/core/telemetry/metrics.ts';
import { histogramStateFromObservations } from '../support/metrics.ts';
import type { HistogramState, MetricsSnapshot } from '../../src/core/telemetry/metrics.ts';
import { buildMetricsSnapshot, pushTickMetrics } from '../../src/core/telemetry/tick-metrics.ts';
import { openTestStore, storeKinds, tempDir } from '../support/databases.ts';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.ts';
import { closedPort } from '../support/ports.ts';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const TODAY = '2026-11-24';
const THRESHOLDS: GateThresholds = {
  trainingMinAccuracy: 0.45,
  trainingMaxLoss: 0.8,
  trainingMinLossReduction: 0.2,
  trainingMinDirectionalAccuracy: 0.51,
  backtestMinWinRate: 0.45,
  backtestMaxDrawdown: 0.4,
  backtestMinSharpe: 0.5,
};

const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

const trainingPassed = evaluateTrainingGate({ accuracy: 0.6, finalLoss: 0.3, lossReduction: 0.5 }, THRESHOLDS);
// accuracy below its minimum, no loss reported at all: test_accuracy_low and final_train_loss_missing.
const trainingFailed = evaluateTrainingGate({ accuracy: 0.3, finalLoss: null, lossReduction: 0.5 }, THRESHOLDS);
const backtestPassed = evaluateBacktestGate({ winRate: 0.55, maxDrawdown: 0.1, sharpe: 1.2 }, THRESHOLDS);
// win rate below its minimum, drawdown above its maximum: win_rate_low and max_drawdown_high.
const backtestFailed = evaluateBacktestGate({ winRate: 0.4, maxDrawdown: 0.5, sharpe: 1 }, THRESHOLDS);

interface SeedSession {
  phase: SessionPhase;
  outcome: SessionOutcome | null;
  phaseStartedAt: Date;
  trainingGate?: GateEvaluation;
  backtestGate?: GateEvaluation;
  tokens?: { input: number; output: number; cacheRead: number; cacheWrite: number };
  costUsd?: number;
  metrics?: {
    cycleSeconds: number;
    designing?: number;
    training?: number;
    backtesting?: number;
    assessing?: number;
    sharpe?: number;
  };
}

const SESSIONS: SeedSession[] = [
  {
    phase: 'idle',
    outcome: 'success',
    phaseStartedAt: secondsAgo(7200),
    trainingGate: trainingPassed,
    backtestGate: backtestPassed,
    tokens: { input: 1000, output: 200, cacheRead: 300, cacheWrite: 40 },
    costUsd: 0.5,
    metrics: { cycleSeconds: 900, designing: 40, training: 1500, backtesting: 200, assessing: 20, sharpe: 1.2 },
  },
  {
    phase: 'idle',
    outcome: 'failed_training_gate',
    phaseStartedAt: secondsAgo(6000),
    trainingGate: trainingFailed,
    tokens: { input: 500, output: 100, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0.25,
    metrics: { cycleSeconds: 3000, designing: 50, training: 2800 },
  },
  {
    phase: 'idle',
    outcome: 'failed_backtest_gate',
    phaseStartedAt: secondsAgo(5000),
    trainingGate: trainingPassed,
    backtestGate: backtestFailed,
    // A sharpe on a failed cycle: not a successful strategy, so not in agent_strategy_sharpe.
    metrics: { cycleSeconds: 7200, designing: 5, training: 600, backtesting: 2000, sharpe: -0.7 },
  },
  {
    phase: 'idle',
    outcome: 'success',
    phaseStartedAt: secondsAgo(4000),
    metrics: { cycleSeconds: 50, designing: 10, sharpe: 2.5 },
  },
  {
    phase: 'training',
    outcome: null,
    phaseStartedAt: secondsAgo(1800),
    tokens: { input: 100, output: 0, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0.1,
  },
  { phase: 'training', outcome: null, phaseStartedAt: secondsAgo(600) },
  { phase: 'designing', outcome: null, phaseStartedAt: secondsAgo(30) },
];

interface SeedAction {
  session: number;
  tool: string;
  success: boolean;
  durationMs: number | null;
  error?: string;
  /** The kind the tool stored with the failed call (agent/tools.ts). */
  kind?: ToolErrorKind;
}

const ACTIONS: SeedAction[] = [
  { session: 0, tool: 'validate_strategy', success: true, durationMs: 5 },
  // Exactly on the 0.01 s bound: counted in that bucket.
  { session: 0, tool: 'validate_strategy', success: true, durationMs: 10 },
  {
    session: 0,
    tool: 'validate_strategy',
    success: false,
    durationMs: 20,
    error: 'invalid input for validate_strategy: name: Required',
    kind: 'invalid_input',
  },
  {
    session: 0,
    tool: 'start_training',
    success: false,
    durationMs: 3000,
    error:
      'start_training failed: Could not reach KTRDR for POST /trainings/start at http://127.0.0.1:9/api/v1: ECONNREFUSED. Check that the backend is running and that KTRDR_API_URL points at it.',
    kind: 'ktrdr_unavailable',
  },
  { session: 0, tool: 'start_training', success: true, durationMs: 700 },
  { session: 1, tool: 'start_training', success: false, durationMs: null, error: 'start_training is only allowed while designing (phase is training)' },
];

const TRIGGERS: { reason: string; invoked: boolean }[] = [
  { reason: 'start_new_cycle', invoked: true },
  { reason: 'start_new_cycle', invoked: true },
  { reason: 'start_new_cycle', invoked: false },
  { reason: 'operation_running', invoked: false },
  { reason: 'operation_running', invoked: false },
  { reason: 'operation_running', invoked: false },
];

const TICKS: { id: string; status: 'ok' | 'paused' | 'error' | 'running'; startedAt: Date; finishedAt: Date | null }[] = [
  { id: 'tick_ok', status: 'ok', startedAt: secondsAgo(602), finishedAt: secondsAgo(600) },
  // The latest completed tick: paused still counts as a tick that ran.
  { id: 'tick_paused', status: 'paused', startedAt: secondsAgo(301.5), finishedAt: secondsAgo(300) },
  // Later, but failed or unfinished: not a success.
  { id: 'tick_error', status: 'error', startedAt: secondsAgo(62), finishedAt: secondsAgo(60) },
  { id: 'tick_running', status: 'running', startedAt: secondsAgo(5), finishedAt: null },
];

async function seed(db: Kysely<Database>): Promise<number[]> {
  const ids: number[] = [];
  for (const session of SESSIONS) {
    const row = await db
      .insertInto('agent_sessions')
      .values({
        phase: session.phase,
        designer: 'baseline',
        outcome: session.outcome,
        phase_started_at: session.phaseStartedAt,
        training_gate: session.trainingGate ? JSON.stringify(session.trainingGate) : null,
        backtest_gate: session.backtestGate ? JSON.stringify(session.backtestGate) : null,
        tokens_input: session.tokens?.input ?? 0,
        tokens_output: session.tokens?.output ?? 0,
        tokens_cache_read: session.tokens?.cacheRead ?? 0,
        tokens_cache_write: session.tokens?.cacheWrite ?? 0,
        cost_usd: session.costUsd ?? 0,
        completed_at: session.outcome ? session.phaseStartedAt : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
    if (session.metrics && session.outcome) {
      await db
        .insertInto('agent_metrics')
        .values({
          session_id: row.id,
          cycle_started_at: secondsAgo(9000),
          cycle_completed_at: session.phaseStartedAt,
          cycle_duration_seconds: session.metrics.cycleSeconds,
          designing_seconds: session.metrics.designing ?? null,
          training_seconds: session.metrics.training ?? null,
          backtesting_seconds: session.metrics.backtesting ?? null,
          assessing_seconds: session.metrics.assessing ?? null,
          backtest_sharpe: session.metrics.sharpe ?? null,
          total_tokens_input: 0,
          total_tokens_output: 0,
          total_tokens_cache_read: 0,
          total_tokens_cache_write: 0,
          estimated_cost_usd: 0,
          outcome: session.outcome,
        })
        .execute();
    }
  }
  // Finished sessions get their experiment rows (with the gate-failure labels) as the backfill writes them.
  await backfillExperiments(db);
  for (const action of ACTIONS) {
    await db
      .insertInto('agent_actions')
      .values({
        session_id: ids[action.session] as number,
        phase: 'designing',
        tool_name: action.tool,
        success: action.success,
        error_message: action.error ?? null,
        error_kind: action.success ? null : (action.kind ?? 'rejected'),
        duration_ms: action.durationMs,
        action_at: secondsAgo(100),
      })
      .execute();
  }
  for (const trigger of TRIGGERS) {
    await db
      .insertInto('agent_triggers')
      .values({ trigger_reason: trigger.reason, agent_invoked: trigger.invoked, triggered_at: secondsAgo(50), session_id: ids[0] as number })
      .execute();
  }
  await db
    .insertInto('agent_budget')
    .values([
      { date: '2026-11-23', budget_limit_usd: 5, budget_used_usd: 4.9, budget_reserved_usd: 0 },
      { date: TODAY, budget_limit_usd: 5, budget_used_usd: 1.25, budget_reserved_usd: 0.5 },
    ])
    .execute();
  for (const tick of TICKS) {
    await db
      .insertInto('agent_ticks')
      .values({ id: tick.id, status: tick.status, started_at: tick.startedAt, finished_at: tick.finishedAt, host: 'test-host' })
      .execute();
  }
  return ids;
}

function byKey<T>(rows: readonly T[], key: (row: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const row of rows) {
    assert.ok(!map.has(key(row)), `duplicate row ${key(row)}`);
    map.set(key(row), row);
  }
  return map;
}

function countBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
  return counts;
}

function assertHistogram(actual: HistogramState | undefined, expected: HistogramState, what: string): void {
  assert.ok(actual, `${what} is missing`);
  assert.deepEqual(actual.buckets, expected.buckets, `${what} buckets`);
  assert.equal(actual.count, expected.count, `${what} count`);
  assert.ok(Math.abs(actual.sum - expected.sum) < 1e-9, `${what} sum ${actual.sum} != ${expected.sum}`);
}

for (const kind of storeKinds) {
  describe(`metrics snapshot read from ${kind}`, () => {
    let harness: Awaited<ReturnType<typeof openTestStore>>;
    let snapshot: MetricsSnapshot;

    before(async () => {
      harness = await openTestStore(kind);
      await seed(harness.store.db);
      snapshot = await buildMetricsSnapshot(harness.store.db, NOW, { configuredDailyLimitUsd: 5 });
    });
    after(async () => {
      await harness.cleanup();
    });

    test('trigger counters equal the agent_triggers rows by reason and invocation', () => {
      const expected = countBy(TRIGGERS, (t) => `${t.reason}/${t.invoked}`);
      const actual = byKey(snapshot.triggers, (t) => `${t.reason}/${t.invoked}`);
      assert.deepEqual(new Map([...actual].map(([key, row]) => [key, row.count])), expected);
      assert.equal(
        snapshot.triggers.reduce((sum, row) => sum + row.count, 0),
        TRIGGERS.length,
      );
    });

    test('gate evaluations and failure reasons come from the stored gate results', () => {
      const gates = SESSIONS.flatMap((s) => [s.trainingGate, s.backtestGate]).filter((g): g is GateEvaluation => g !== undefined);
      const expectedEvaluations = countBy(gates, (g) => `${g.gate}/${g.passed ? 'passed' : 'failed'}`);
      const actualEvaluations = byKey(snapshot.gateEvaluations, (g) => `${g.gateType}/${g.result}`);
      assert.deepEqual(new Map([...actualEvaluations].map(([key, row]) => [key, row.count])), expectedEvaluations);

      // The labels are the ones the engine derives from the same checks.
      const expectedReasons = countBy(
        gates.flatMap((g) => gateFailureLabels(g).map((label) => ({ gate: g.gate, label }))),
        (r) => `${r.gate}/${r.label}`,
      );
      const actualReasons = byKey(snapshot.gateFailureReasons, (r) => `${r.gateType}/${r.reason}`);
      assert.deepEqual(new Map([...actualReasons].map(([key, row]) => [key, row.count])), expectedReasons);
      assert.deepEqual([...expectedReasons.keys()].sort(), [
        'backtest/max_drawdown_high',
        'backtest/win_rate_low',
        'training/final_train_loss_missing',
        'training/test_accuracy_low',
      ]);
    });

    test('cycles by outcome and the cycle, phase and Sharpe histograms', () => {
      const finished = SESSIONS.filter((s) => s.metrics && s.outcome);
      assert.deepEqual(
        new Map([...byKey(snapshot.cycles, (c) => c.outcome)].map(([key, row]) => [key, row.count])),
        countBy(finished, (s) => s.outcome as string),
      );
      assertHistogram(
        snapshot.cycleDurations,
        histogramStateFromObservations(
          HISTOGRAM_BUCKETS.cycleDurationSeconds,
          finished.map((s) => s.metrics!.cycleSeconds),
        ),
        'cycle durations',
      );
      // 60, 300, 600 hold the 50 s cycle; 7200 s sits exactly on the last bound.
      assert.deepEqual(
        snapshot.cycleDurations.buckets.map((b) => b.count),
        [1, 1, 1, 2, 3, 4],
      );

      const phases = byKey(snapshot.phaseDurations, (p) => p.phase);
      assert.deepEqual([...phases.keys()].sort(), ['assessing', 'backtesting', 'designing', 'training']);
      for (const phase of ['designing', 'training', 'backtesting', 'assessing'] as const) {
        const values = finished.map((s) => s.metrics![phase]).filter((v): v is number => v !== undefined);
        assertHistogram(phases.get(phase), histogramStateFromObservations(HISTOGRAM_BUCKETS.phaseDurationSeconds, values), `${phase} durations`);
      }

      assertHistogram(snapshot.strategySharpe, histogramStateFromObservations(HISTOGRAM_BUCKETS.strategySharpe, [1.2, 2.5]), 'sharpe');
    });

    test('token and cost totals are the sums over every session', () => {
      const sum = (pick: (s: SeedSession) => number) => SESSIONS.reduce((acc, s) => acc + pick(s), 0);
      assert.deepEqual(
        new Map(snapshot.tokens.map((t) => [t.direction, t.count])),
        new Map([
          ['input', sum((s) => s.tokens?.input ?? 0)],
          ['output', sum((s) => s.tokens?.output ?? 0)],
          ['cache_read', sum((s) => s.tokens?.cacheRead ?? 0)],
          ['cache_write', sum((s) => s.tokens?.cacheWrite ?? 0)],
        ]),
      );
      assert.ok(Math.abs(snapshot.costUsdTotal - 0.85) < 1e-9, `cost ${snapshot.costUsdTotal}`);
    });

    test('tool calls by status, error types and duration histograms', () => {
      assert.deepEqual(
        new Map([...byKey(snapshot.toolCalls, (t) => `${t.tool}/${t.status}`)].map(([key, row]) => [key, row.count])),
        countBy(ACTIONS, (a) => `${a.tool}/${a.success ? 'success' : 'error'}`),
      );
      assert.deepEqual(
        new Map([...byKey(snapshot.toolErrors, (t) => `${t.tool}/${t.errorType}`)].map(([key, row]) => [key, row.count])),
        new Map([
          ['validate_strategy/invalid_input', 1],
          ['start_training/ktrdr_unavailable', 1],
          ['start_training/rejected', 1],
        ]),
      );
      const durations = byKey(snapshot.toolDurations, (t) => t.tool);
      for (const tool of ['validate_strategy', 'start_training']) {
        const seconds = ACTIONS.filter((a) => a.tool === tool && a.durationMs !== null).map((a) => a.durationMs! / 1000);
        assertHistogram(durations.get(tool), histogramStateFromObservations(HISTOGRAM_BUCKETS.toolDurationSeconds, seconds), `${tool} durations`);
      }
      assert.equal(durations.get('validate_strategy')?.buckets[0]?.count, 2, 'the 10 ms call is in the 0.01 s bucket');
    });

    test("budget gauges are today's UTC row: remaining = limit - used - reserved", () => {
      assert.equal(snapshot.budgetDailyLimitUsd, 5);
      assert.ok(Math.abs(snapshot.budgetRemainingUsd - 3.25) < 1e-9, `remaining ${snapshot.budgetRemainingUsd}`);
      assert.ok(Math.abs(snapshot.budgetUtilization - 0.35) < 1e-9, `utilization ${snapshot.budgetUtilization}`);
    });

    test('active sessions list every phase; the oldest age is measured from phase_started_at', () => {
      assert.deepEqual(
        new Map(snapshot.activeSessions.map((a) => [a.phase, a.count])),
        new Map([
          ['idle', 0],
          ['designing', 1],
          ['training', 2],
          ['backtesting', 0],
          ['assessing', 0],
        ]),
      );
      assert.deepEqual(
        new Map(snapshot.oldestPhaseAge.map((a) => [a.phase, a.seconds])),
        new Map([
          ['designing', 30],
          ['training', 1800],
        ]),
      );
    });

    test('the last successful tick is the latest ok or paused one, with its duration', () => {
      assert.equal(snapshot.tickLastSuccessUnixSeconds, secondsAgo(300).getTime() / 1000);
      assert.equal(snapshot.tickDurationSeconds, 1.5);
    });

    test('the snapshot is a valid registry: every series renders with the database values', async () => {
      const samples = parsePrometheusText(await buildRegistry(snapshot).metrics());
      assert.equal(sampleValue(samples, 'agent_trigger_total', { reason: 'operation_running', invoked: 'false' }), 3);
      assert.equal(sampleValue(samples, 'agent_cycle_duration_seconds_bucket', { le: '1800' }), 2);
      assert.equal(sampleValue(samples, 'agent_cycle_duration_seconds_bucket', { le: '+Inf' }), 4);
      assert.equal(sampleValue(samples, 'agent_tool_duration_seconds_bucket', { tool: 'start_training', le: '1' }), 1);
      assert.equal(sampleValue(samples, 'agent_budget_remaining_usd', {}), 3.25);
    });
  });

  describe(`metrics snapshot of an empty database on ${kind}`, () => {
    let harness: Awaited<ReturnType<typeof openTestStore>>;
    before(async () => {
      harness = await openTestStore(kind);
    });
    after(async () => {
      await harness.cleanup();
    });

    test('zeros everywhere, and the limit in force when today has no budget row yet', async () => {
      const snapshot = await buildMetricsSnapshot(harness.store.db, NOW, { configuredDailyLimitUsd: 7 });
      assert.deepEqual(snapshot.triggers, []);
      assert.deepEqual(snapshot.cycles, []);
      assert.deepEqual(snapshot.toolCalls, []);
      assert.equal(snapshot.cycleDurations.count, 0);
      assert.equal(snapshot.strategySharpe.count, 0);
      assert.deepEqual(
        snapshot.tokens.map((t) => t.count),
        [0, 0, 0, 0],
      );
      assert.equal(snapshot.costUsdTotal, 0);
      assert.equal(snapshot.budgetDailyLimitUsd, 7);
      assert.equal(snapshot.budgetRemainingUsd, 7);
      assert.equal(snapshot.budgetUtilization, 0);
      assert.ok(snapshot.activeSessions.every((a) => a.count === 0));
      assert.deepEqual(snapshot.oldestPhaseAge, []);
      assert.equal(snapshot.tickLastSuccessUnixSeconds, null);
      assert.equal(snapshot.tickDurationSeconds, 0);
      await buildRegistry(snapshot).metrics();

      // `budget set` overrides the configured limit.
      await harness.store.db.updateTable('agent_control').set({ budget_limit_usd: 2 }).where('id', '=', 1).execute();
      const overridden = await buildMetricsSnapshot(harness.store.db, NOW, { configuredDailyLimitUsd: 7 });
      assert.equal(overridden.budgetDailyLimitUsd, 2);
      assert.equal(overridden.budgetRemainingUsd, 2);
    });
  });
}

describe('pushTickMetrics', () => {
  const home = tempDir('ktrdr-agent-home-');
  let harness: Awaited<ReturnType<typeof openTestStore>>;
  before(async () => {
    harness = await openTestStore('postgres');
    await seed(harness.store.db);
  });
  after(async () => {
    await harness.cleanup();
    home.remove();
  });

  const configWith = (pushgatewayUrl: string) => loadConfig({ env: { HOME: home.path, AGENT_DESIGNER: 'baseline', PUSHGATEWAY_URL: pushgatewayUrl } });

  test('PUTs the group job=ktrdr_agent, instance=<hostname> with the database totals', async () => {
    const received: { method: string; url: string; body: string }[] = [];
    const server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      received.push({ method: request.method ?? '', url: request.url ?? '', body });
      response.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await pushTickMetrics(harness.store.db, configWith(`http://127.0.0.1:${port}`), NOW);
      assert.deepEqual(result, { ok: true });
      assert.equal(received.length, 1);
      assert.equal(received[0]?.method, 'PUT');
      assert.equal(received[0]?.url, `/metrics/job/ktrdr_agent/instance/${encodeURIComponent(hostname())}`);
      const samples = parsePrometheusText(received[0]?.body ?? '');
      assert.equal(sampleValue(samples, 'agent_trigger_total', { reason: 'start_new_cycle', invoked: 'true' }), 2);
      assert.equal(sampleValue(samples, 'agent_cycle_total', { outcome: 'success' }), 2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('an unreachable Pushgateway is reported, not thrown', async () => {
    const port = await closedPort();
    const result = await pushTickMetrics(harness.store.db, configWith(`http://127.0.0.1:${port}`), NOW);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.error, /ECONNREFUSED/);
  });

  test('a database error is reported, not thrown', async () => {
    const port = await closedPort();
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/none`, connectionTimeoutMillis: 5000 });
    const unreachable = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      const result = await pushTickMetrics(unreachable, configWith('http://127.0.0.1:9'), NOW);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.error, /reading the totals from the database failed/);
    } finally {
      await unreachable.destroy();
    }
  });
});
