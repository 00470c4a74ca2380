/**
 * What the real KTRDR (2c5c7173) did to the agent, replayed against the simulator that now behaves the same way:
 * repeated task ids answered with an old operation, stale `resuming`, resumed epoch slices, 503 busy, partial
 * data. Each pass runs in-process (`runTick`) on real PostgreSQL, with one clock for the agent and the simulator.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/core/config/load.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { openStore } from '../../src/core/db/connect.ts';
import { ensureMigrated } from '../../src/core/db/migrate.ts';
import { setPaused } from '../../src/core/db/repositories/control.ts';
import { loadSessionView } from '../../src/core/cli/views/session-view.ts';
import { renderSessionText } from '../../src/core/cli/views/session-text.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { startFakeAnthropic } from '../support/fake-anthropic.ts';
import { playModel } from '../support/scripted-model.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

class Clock {
  at = Date.parse('2026-11-24T12:00:00Z');
  readonly now = (): number => this.at;
  advance(ms: number): void {
    this.at += ms;
  }
}

interface Installation {
  url: string;
  pool: pg.Pool;
  explained: string[];
  tick(env?: Record<string, string>): Promise<void>;
  session(id: number): Promise<Record<string, any>>;
  triggers(id: number): Promise<{ skip_reason: string | null; context: { detail?: string } | null }[]>;
  drop(): Promise<void>;
}

async function installation(sim: Simulator, strategiesDir: string, clock: Clock, baseEnv: Record<string, string> = {}): Promise<Installation> {
  const database = await createTestDatabase('ktrdr_agent_fidelity', { migrated: true });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  pool.on('error', () => {});
  const explained: string[] = [];
  const env = {
    DATABASE_URL: database.url,
    KTRDR_API_URL: sim.url,
    KTRDR_STRATEGIES_DIR: strategiesDir,
    AGENT_DESIGNER: 'baseline',
    AGENT_RETRY_BACKOFF_BASE: '0',
    AGENT_RETRY_MAX_ATTEMPTS: '1',
    GATE_BACKTEST_MIN_WIN_RATE: '0',
    GATE_BACKTEST_MAX_DRAWDOWN: '1',
    GATE_BACKTEST_MIN_SHARPE: '-100',
    GATE_TRAINING_MIN_ACCURACY: '0',
    GATE_TRAINING_MAX_LOSS: '100',
    // These passes are stepped one at a time on a clock the test holds; following is tested in test/e2e/pass-follow.test.ts.
    AGENT_PASS_FOLLOW_SECONDS: '0',
    // One session, as these checks of KTRDR's answers read session 1; `auto` (the default) starts none while KTRDR
    // lists no worker, and has tests of its own (test/e2e/throughput.test.ts).
    AGENT_MAX_CONCURRENT_SESSIONS: '1',
    ...baseEnv,
  };
  return {
    url: database.url,
    pool,
    explained,
    async tick(extra = {}) {
      const config = loadConfig({ env: { ...env, ...extra }, ignoreEnvFiles: true });
      await runTick({ config, log: () => {}, explain: (line) => explained.push(line), now: () => new Date(clock.now()), lockWaitMs: 5_000 });
    },
    async session(id) {
      const row = (await pool.query('SELECT * FROM agent_sessions WHERE id = $1', [id])).rows[0];
      assert.ok(row, `no session ${id}`);
      return row;
    },
    async triggers(id) {
      return (await pool.query('SELECT skip_reason, context FROM agent_triggers WHERE session_id = $1 ORDER BY id', [id])).rows;
    },
    async drop() {
      await pool.end();
      await database.drop();
    },
  };
}

/** Ticks, moving both clocks on, until session `id` has ended. */
async function runSession(agent: Installation, clock: Clock, id: number, stepMs = 10 * MINUTE, maxTicks = 40): Promise<Record<string, any>> {
  for (let i = 0; i < maxTicks; i++) {
    await agent.tick();
    const rows = (await agent.pool.query('SELECT outcome FROM agent_sessions WHERE id = $1', [id])).rows;
    if (rows[0]?.outcome) return agent.session(id);
    clock.advance(stepMs);
  }
  throw new Error(`session ${id} did not end; ${agent.explained.slice(-5).join(' | ')}`);
}

async function rig(options: { dataLimits?: Record<string, { startDate?: string; endDate?: string } | null> } = {}) {
  const clock = new Clock();
  const strategies = tempDir('ktrdr-agent-fidelity-');
  const sim = await createSimulator({ strategiesDir: strategies.path, seed: 3, timeScale: 1, now: clock.now, dataLimits: options.dataLimits });
  return {
    clock,
    sim,
    strategiesDir: strategies.path,
    async close() {
      await sim.close();
      strategies.remove();
    },
  };
}

/**
 * Session 1's training fails partway (with a checkpoint) and its resume will stay 'resuming' for ever, as KTRDR's did
 * after a resume whose training had in fact finished; returns the first operation's id.
 */
async function startStuckResume(world: Awaited<ReturnType<typeof rig>>, agent: Installation): Promise<string> {
  world.sim.faults.failureRate = 1;
  world.sim.faults.staleResuming = true;
  await agent.tick();
  world.sim.faults.failureRate = 0;
  return (await agent.session(1)).training_operation_id;
}

describe('KTRDR fidelity against the simulator', () => {
  test('two fresh databases on one KTRDR: ids differ and each session gets its own results', async () => {
    const world = await rig();
    const a = await installation(world.sim, world.strategiesDir, world.clock);
    const b = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      const first = await runSession(a, world.clock, 1);
      const second = await runSession(b, world.clock, 1);
      assert.equal(first.outcome, 'success', first.failure_reason);
      assert.equal(second.outcome, 'success', second.failure_reason);
      assert.notEqual(first.training_operation_id, second.training_operation_id);
      assert.notEqual(first.strategy_name, second.strategy_name);
      const idA = (await a.pool.query('SELECT installation_id FROM agent_installation')).rows[0].installation_id;
      assert.match(first.training_operation_id, new RegExp(`^op_training_agent_${idA}_s1_`));
      // Each session's stored result is the one its own operation produced.
      const own = world.sim.state.operations.get(second.training_operation_id);
      assert.equal(second.training_results.modelPath, own?.modelPath);
      assert.equal(second.strategy_name, own?.strategyName);
    } finally {
      await a.drop();
      await b.drop();
      await world.close();
    }
  });

  test('a recreated database that repeats a task id gets the OLD operation back: refused, never read as a result', async () => {
    const world = await rig();
    const a = await installation(world.sim, world.strategiesDir, world.clock);
    const b = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      const first = await runSession(a, world.clock, 1);
      assert.equal(first.outcome, 'success', first.failure_reason);
      // B is A's database recreated with the same installation id (the old code's situation: ids by session
      // number only), so its session 1 asks for A's session-1 task id.
      const store = await openStore({ kind: 'postgres', url: b.url });
      await ensureMigrated(store.db);
      await store.close();
      const idA = (await a.pool.query('SELECT installation_id FROM agent_installation')).rows[0].installation_id;
      await b.pool.query('UPDATE agent_installation SET installation_id = $1', [idA]);
      world.clock.advance(HOUR);
      const repeated = await runSession(b, world.clock, 1);
      assert.notEqual(repeated.outcome, 'success');
      assert.equal(repeated.training_results, null);
      const actions = (await b.pool.query(`SELECT error_message FROM agent_actions WHERE tool_name = 'start_training'`)).rows;
      assert.match(actions[0]?.error_message ?? '', /not the one this session started: it was created at .* before this session began/);
      assert.match(actions[0]?.error_message ?? '', /It was not adopted/);
    } finally {
      await a.drop();
      await b.drop();
      await world.close();
    }
  });

  test("a resumed training reports only the epochs after the resume: 'resumed at epoch N', loss reduction from the first run", async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      world.sim.faults.failureRate = 1;
      await agent.tick();
      const started = await agent.session(1);
      assert.equal(started.phase, 'training', started.failure_reason);
      world.sim.faults.failureRate = 0;
      const done = await runSession(agent, world.clock, 1);
      assert.equal(done.outcome, 'success', done.failure_reason);
      const resumeDetail = (await agent.triggers(1)).map((t) => t.context?.detail ?? '').find((d) => d.startsWith('resumed'));
      const epoch = Number(/resumed at epoch (\d+)/.exec(resumeDetail ?? '')?.[1]);
      assert.ok(epoch >= 1, resumeDetail ?? 'no resume was recorded');
      assert.ok(agent.explained.some((line) => line.includes(`resumed from its checkpoint at epoch ${epoch}`)));
      const operation = world.sim.state.operations.get(done.training_operation_id)!;
      const history = operation.training!.history.trainLoss;
      assert.equal(done.training_results.resumedAtEpoch, epoch);
      assert.equal(done.training_results.initialLoss, history[0]!);
      assert.equal(done.training_results.epochsTrained, operation.training!.epochsTrained);
      const expected = (history[0]! - operation.training!.finalTrainLoss) / history[0]!;
      assert.ok(Math.abs(done.training_results.lossReduction - expected) < 1e-9);
      // `session` says it too.
      const store = await openStore({ kind: 'postgres', url: agent.url });
      const view = await loadSessionView(store.db, 1, { now: new Date(world.clock.now()), actionLimit: 50, stallAfterSeconds: 3600 });
      await store.close();
      assert.match(renderSessionText(view!, { color: false }), new RegExp(`Epochs: \\d+/50( \\(early stopped\\))? \\(resumed at epoch ${epoch}\\)`));
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test("a resume stuck in 'resuming' is cancelled and started afresh under a new id, and the case is named", async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      const first = await startStuckResume(world, agent);
      const done = await runSession(agent, world.clock, 1, 4 * MINUTE, 80);
      assert.equal(done.outcome, 'success', done.failure_reason);
      assert.notEqual(done.training_operation_id, first);
      assert.match(done.training_operation_id, /_s1_r2_/);
      const restart = (await agent.triggers(1)).find((t) => t.skip_reason === 'operation_restarted');
      assert.match(restart?.context?.detail ?? '', /^resuming: training operation .* made no progress: still 'resuming' for \d+ min \(limit 10 min/);
      const cancelled = world.sim.state.requests.filter((r) => r.method === 'DELETE' && r.path === `/operations/${first}`);
      assert.equal(cancelled.length, 1);
      // The fresh start is a first run: nothing of the stuck resume's slice (resume epoch, initial loss) is carried over.
      assert.equal(done.training_results.resumedAtEpoch, null);
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test('a stalled run whose cancel fails is not started afresh beside it: the pass waits as for a KTRDR fault, then restarts once the cancel works', async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      const first = await startStuckResume(world, agent);
      world.sim.faults.cancelFails = true;
      const trainings = () => [...world.sim.state.operations.values()].filter((op) => op.type === 'training' && !op.retryOf && op.id.includes('_s1_'));
      for (let i = 0; i < 12; i++) {
        await agent.tick();
        world.clock.advance(4 * MINUTE);
      }
      // The stall was seen and a cancel asked for, but no second training was started while the first still ran.
      assert.ok(world.sim.state.requests.some((r) => r.method === 'DELETE' && r.path === `/operations/${first}`));
      assert.equal(trainings().length, 1);
      assert.equal((await agent.session(1)).training_operation_id, first);
      assert.equal((await agent.session(1)).outcome, null);
      const waited = (await agent.triggers(1)).find((t) => t.skip_reason === 'ktrdr_busy');
      assert.match(JSON.stringify(waited?.context ?? {}), new RegExp(`operation ${first} could not be cancelled .* still resuming`));
      world.sim.faults.cancelFails = false;
      const done = await runSession(agent, world.clock, 1, 4 * MINUTE, 80);
      assert.equal(done.outcome, 'success', done.failure_reason);
      assert.notEqual(done.training_operation_id, first);
      assert.equal(trainings().length, 2);
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test('a fixable failure with no checkpoint (KTRDR orphan detector after a backend restart) is started afresh', async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      world.sim.faults.failureRate = 1;
      world.sim.faults.orphaned = true;
      await agent.tick();
      const first = (await agent.session(1)).training_operation_id;
      world.sim.faults.failureRate = 0;
      const done = await runSession(agent, world.clock, 1);
      assert.equal(done.outcome, 'success', done.failure_reason);
      assert.match(done.training_operation_id, /_s1_r1_/);
      const restart = (await agent.triggers(1)).find((t) => t.skip_reason === 'operation_restarted');
      assert.match(
        restart?.context?.detail ?? '',
        new RegExp(
          `^no_checkpoint: training operation ${first} failed \\(Operation was RUNNING but no worker claimed it.*\\) and has no checkpoint to resume from; restarted as `,
        ),
      );
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test('windows come from /data/range: the baseline trains and backtests inside the data KTRDR holds', async () => {
    const limits = { startDate: '2021-03-01', endDate: '2024-09-30' };
    const dataLimits = Object.fromEntries(['EURUSD', 'GBPUSD', 'USDJPY', 'AUDUSD', 'AAPL', 'MSFT', 'SPY'].map((s) => [s, limits]));
    const world = await rig({ dataLimits });
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      const done = await runSession(agent, world.clock, 1);
      assert.equal(done.outcome, 'success', done.failure_reason);
      for (const params of [done.training_params, done.backtest_params]) {
        assert.ok(params.startDate >= limits.startDate && params.endDate <= limits.endDate, JSON.stringify(params));
      }
      assert.ok(done.backtest_results.bars > 0);
      assert.match(done.assessment.explanation, /trades over \d+ bars/);
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test('a window the data does not cover is refused before anything starts, naming the available range', async () => {
    // The scripted model always asks for EURUSD 1h over 2018-01-01..2022-12-31; KTRDR holds it from 2020 only.
    const world = await rig({ dataLimits: { 'EURUSD 1h': { startDate: '2020-01-01', endDate: '2024-09-30' } } });
    const fake = await startFakeAnthropic();
    playModel(fake);
    const agent = await installation(world.sim, world.strategiesDir, world.clock, {
      AGENT_DESIGNER: 'claude',
      ANTHROPIC_API_KEY: 'sk-ant-test-fidelity',
      ANTHROPIC_BASE_URL: fake.url,
    });
    try {
      await agent.tick();
      const session = await agent.session(1);
      assert.equal(session.training_operation_id, null);
      assert.equal(world.sim.state.requests.filter((r) => r.path === '/trainings/start').length, 0);
      const refused = (await agent.pool.query(`SELECT error_message FROM agent_actions WHERE tool_name = 'start_training'`)).rows[0];
      assert.equal(
        refused?.error_message,
        'training not started: the window 2018-01-01..2022-12-31 is not covered: EURUSD 1h data covers only 2020-01-01..2024-09-30 (' +
          /\((\d+) bars\)/.exec(refused?.error_message ?? '')?.[1] +
          ' bars). Choose a window inside the available range.',
      );
    } finally {
      await agent.drop();
      await fake.close();
      await world.close();
    }
  });

  test("503 'No training workers available' is KTRDR busy: the session waits, uncharged, and goes on when a worker is back", async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      world.sim.faults.noWorkers = true;
      await agent.tick();
      const waiting = await agent.session(1);
      assert.equal(waiting.outcome, null, waiting.failure_reason);
      assert.equal(waiting.phase, 'designing');
      assert.equal(waiting.invocation_attempts, 0);
      assert.ok(
        agent.explained.some((line) => /ktrdr_busy during the invocation \(KTRDR busy: .*No training workers available/.test(line)),
        agent.explained.join('\n'),
      );
      assert.ok(!agent.explained.some((line) => line.includes('KTRDR became unreachable')));
      world.sim.faults.noWorkers = false;
      world.clock.advance(MINUTE);
      await agent.tick();
      assert.equal((await agent.session(1)).phase, 'training');
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test('a refused or rate-limited start (401, 429 from a proxy in front of KTRDR) is a fault of the world: the session waits in its phase, uncharged', async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      world.sim.faults.refuseStarts = 401;
      await agent.tick();
      const waiting = await agent.session(1);
      assert.equal(waiting.outcome, null, waiting.failure_reason);
      assert.equal(waiting.phase, 'designing');
      assert.equal(waiting.invocation_attempts, 0);
      assert.ok(
        agent.explained.some((line) => /ktrdr_auth during the invocation/.test(line)),
        agent.explained.join('\n'),
      );
      // The training it then starts fails partway (with a checkpoint), and the resume is refused with 429: the failed
      // training waits for a later pass instead of failing the session.
      world.sim.faults.refuseStarts = null;
      world.sim.faults.failureRate = 1;
      world.clock.advance(10 * MINUTE);
      await agent.tick();
      assert.equal((await agent.session(1)).phase, 'training');
      world.sim.faults.failureRate = 0;
      world.sim.faults.refuseStarts = 429;
      for (let i = 0; i < 12; i++) {
        world.clock.advance(10 * MINUTE);
        await agent.tick();
      }
      const held = await agent.session(1);
      assert.equal(held.outcome, null, held.failure_reason);
      assert.equal(held.phase, 'training');
      const refusedResumes = await agent.pool.query(
        `SELECT count(*)::int AS n FROM agent_triggers WHERE session_id = 1 AND trigger_reason = 'training_failed' AND context->>'faultClass' = 'ktrdr_busy'`,
      );
      assert.ok(refusedResumes.rows[0].n > 0, JSON.stringify(await agent.triggers(1)));
      world.sim.faults.refuseStarts = null;
      const done = await runSession(agent, world.clock, 1, 10 * MINUTE, 60);
      assert.ok(['success', 'failed_training_gate', 'failed_backtest_gate'].includes(done.outcome), done.failure_reason);
    } finally {
      await agent.drop();
      await world.close();
    }
  });

  test('pause stops new cycles and invocations but keeps polling: progress stays true, nothing else changes', async () => {
    const world = await rig();
    const agent = await installation(world.sim, world.strategiesDir, world.clock);
    try {
      await agent.tick();
      assert.equal((await agent.session(1)).phase, 'training');
      const store = await openStore({ kind: 'postgres', url: agent.url });
      await setPaused(store.db, true, new Date(world.clock.now()));
      world.clock.advance(10 * MINUTE);
      const polls = () => world.sim.state.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/operations/')).length;
      const before = polls();
      await agent.tick();
      assert.ok(polls() > before, 'a paused pass still polls');
      const watched = await agent.session(1);
      assert.ok(watched.operation_progress.percentage > 0, JSON.stringify(watched.operation_progress));
      // The training completes while paused: no backtest invocation, no new session.
      world.clock.advance(24 * HOUR);
      await agent.tick();
      const held = await agent.session(1);
      assert.equal(held.phase, 'training');
      assert.equal(held.backtest_operation_id, null);
      assert.equal((await agent.pool.query('SELECT count(*)::int AS n FROM agent_sessions')).rows[0].n, 1);
      await setPaused(store.db, false, new Date(world.clock.now()));
      await store.close();
      await agent.tick();
      assert.equal((await agent.session(1)).phase, 'backtesting');
    } finally {
      await agent.drop();
      await world.close();
    }
  });
});
