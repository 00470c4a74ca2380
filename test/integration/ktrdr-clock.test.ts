/**
 * KTRDR's clock is measured, not trusted: a KTRDR stand-in (the simulator) whose clock runs 5 minutes behind the
 * agent's, and one that sends no Date header at all. Each pass runs in-process (`runTick`) on real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/core/config/load.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { openStore } from '../../src/core/db/connect.ts';
import { loadStatusView } from '../../src/core/cli/views/status-view.ts';
import { renderStatusText } from '../../src/core/cli/views/status-text.ts';
import { runDoctor } from '../../src/core/cli/services/doctor.ts';
import { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { confirmStartOwnership } from '../../src/core/agent/tools/start-ownership.ts';
import { isInfrastructureFault } from '../../src/core/kernel/faults.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

const MINUTE = 60_000;

/**
 * The simulator and the agent on one clock: the real one, or with `held` one that starts at the real time and moves
 * only when the test moves it (KTRDR's skew is `clockOffsetMs` on top of it either way).
 */
async function world(clockOffsetMs: number, options: { held?: boolean } = {}) {
  const strategies = tempDir('ktrdr-agent-clock-');
  let heldAt = Date.now();
  const now = options.held ? () => heldAt : Date.now;
  const sim = await createSimulator({ strategiesDir: strategies.path, seed: 3, timeScale: 600, now, faults: { clockOffsetMs } });
  const database = await createTestDatabase('ktrdr_agent_clock', { migrated: true });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  pool.on('error', () => {});
  const env = {
    DATABASE_URL: database.url,
    KTRDR_API_URL: sim.url,
    KTRDR_STRATEGIES_DIR: strategies.path,
    AGENT_DESIGNER: 'baseline',
    AGENT_RETRY_BACKOFF_BASE: '0',
    AGENT_RETRY_MAX_ATTEMPTS: '1',
    // One step a tick, as the checks below read the session between ticks: following would see the compressed
    // training to its end in the tick that started it.
    AGENT_PASS_FOLLOW_SECONDS: '0',
    GATE_BACKTEST_MIN_WIN_RATE: '0',
    GATE_BACKTEST_MAX_DRAWDOWN: '1',
    GATE_BACKTEST_MIN_SHARPE: '-100',
    GATE_TRAINING_MIN_ACCURACY: '0',
    GATE_TRAINING_MAX_LOSS: '100',
  };
  return {
    sim,
    pool,
    env,
    config: () => loadConfig({ env, ignoreEnvFiles: true }),
    // A pass following short work waits on the same clock: with it held, a wait moves it instead of taking real time.
    tick: () =>
      runTick({
        config: loadConfig({ env, ignoreEnvFiles: true }),
        log: () => {},
        lockWaitMs: 5_000,
        now: () => new Date(now()),
        ...(options.held ? { sleep: async (ms: number) => void (heldAt += ms) } : {}),
      }),
    advance: (ms: number) => (heldAt += ms),
    now,
    session: async (id: number) => (await pool.query('SELECT * FROM agent_sessions WHERE id = $1', [id])).rows[0],
    async close() {
      await pool.end();
      await database.drop();
      await sim.close();
      strategies.remove();
    },
  };
}

function cancels(sim: Simulator): number {
  return sim.state.requests.filter((r) => r.method === 'DELETE' || r.path.endsWith('/cancel')).length;
}

describe("KTRDR's clock is measured from its Date header", () => {
  test('a KTRDR 5 minutes behind: the training started is adopted (no failed_design), nothing cancelled, skew shown by status and doctor', async () => {
    const w = await world(-5 * MINUTE, { held: true });
    try {
      await w.tick();
      const started = await w.session(1);
      assert.equal(started.phase, 'training', started.failure_reason ?? '');
      assert.equal(started.outcome, null);
      const actions = (await w.pool.query(`SELECT success, error_message FROM agent_actions WHERE tool_name = 'start_training'`)).rows;
      assert.deepEqual(
        actions.map((a) => a.success),
        [true],
        JSON.stringify(actions),
      );
      assert.equal(cancels(w.sim), 0);

      const control = (await w.pool.query('SELECT ktrdr_clock_offset_ms FROM agent_control')).rows[0];
      assert.ok(Math.abs(control.ktrdr_clock_offset_ms + 5 * MINUTE) < 2_000, `measured ${control.ktrdr_clock_offset_ms} ms`);

      // Poll on until the session ends: every poll checks ownership again, with the measured offset.
      for (let i = 0; i < 30 && (await w.session(1)).outcome === null; i++) {
        await w.tick();
        w.advance(1_000);
      }
      const done = await w.session(1);
      assert.ok(w.sim.state.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/operations/')).length > 1, 'polled more than once');
      assert.notEqual(done.outcome, 'failed_design', done.failure_reason ?? '');
      assert.equal(done.outcome, 'success', done.failure_reason ?? '');

      const store = await openStore({ kind: 'postgres', url: w.env.DATABASE_URL });
      const view = await loadStatusView(store.db, { now: new Date(w.now()), configuredLimitUsd: 5, stallAfterSeconds: 3600, faultBackoffMinutes: 5 });
      await store.close();
      const banner = view.banners.find((b) => b.kind === 'ktrdr_clock_skew');
      assert.ok(banner, JSON.stringify(view.banners));
      assert.match(renderStatusText(view, { color: false }), /KTRDR's clock is (4 min 5\d s|5 min [0-9] s) behind ours/);

      const previous = { ...process.env };
      Object.assign(process.env, w.env);
      try {
        const report = await runDoctor({ online: false });
        const check = report.checks.find((c) => c.name === 'KTRDR clock');
        assert.equal(check?.ok, false, JSON.stringify(report.checks));
        assert.match(check!.detail, /behind ours/);
      } finally {
        for (const key of Object.keys(w.env)) if (!(key in previous)) delete process.env[key];
        Object.assign(process.env, previous);
      }
    } finally {
      await w.close();
    }
  });

  test('a start whose creation time alone disagrees, with no Date header to measure by: cancelled, and a ktrdr_clock fault, not a refusal', async () => {
    const w = await world(-30 * MINUTE);
    try {
      // A transport that drops the Date header: KTRDR's clock cannot be measured.
      const client = new KtrdrClient({
        baseUrl: w.sim.url,
        fetch: async (url, init) => {
          const response = await fetch(url, { method: init.method, headers: init.headers, ...(init.body ? { body: init.body } : {}) });
          const text = await response.text();
          return {
            status: response.status,
            ok: response.ok,
            text: async () => text,
            headers: { get: (name) => (name.toLowerCase() === 'date' ? null : response.headers.get(name)) },
          };
        },
      });
      writeProbeStrategy(w.env.KTRDR_STRATEGIES_DIR);
      const start = await client.startTraining({
        strategyName: 'clock_probe',
        symbols: ['EURUSD'],
        timeframes: ['1h'],
        startDate: '2020-01-01',
        endDate: '2021-01-01',
      });
      assert.equal(client.clockOffsetMs(), null);
      const claim = {
        kind: 'training' as const,
        strategyName: 'clock_probe',
        symbols: ['EURUSD'],
        timeframes: ['1h'],
        startDate: '2020-01-01',
        endDate: '2021-01-01',
        notBeforeMs: Date.now() - 1_000,
      };
      await assert.rejects(confirmStartOwnership(client, start.operationId, claim), (error: unknown) => {
        assert.ok(isInfrastructureFault(error));
        assert.equal(error.fault.faultClass, 'ktrdr_clock');
        assert.match(error.fault.cause, /it was cancelled so that its compute is not orphaned/);
        assert.match(error.fault.cause, /no Date header/);
        return true;
      });
      assert.equal(w.sim.state.operations.get(start.operationId)?.runs.at(-1)?.cancelled !== undefined, true, 'the operation was cancelled on KTRDR');

      // The same operation read by a client that measures the clock is this session's.
      const measuring = new KtrdrClient({ baseUrl: w.sim.url });
      assert.equal(await confirmStartOwnership(measuring, start.operationId, claim), null);
      assert.ok(Math.abs(measuring.clockOffsetMs()! + 30 * MINUTE) < 2_000);
    } finally {
      await w.close();
    }
  });
});

/** KTRDR's own minimal v3 strategy under the probe's name, so that the simulator can train it. */
function writeProbeStrategy(dir: string): void {
  const text = readFileSync(new URL('../fixtures/ktrdr-strategies/v3_minimal.yaml', import.meta.url), 'utf8').replace(/^name:.*$/m, 'name: clock_probe');
  writeFileSync(join(dir, 'clock_probe.yaml'), text);
}
