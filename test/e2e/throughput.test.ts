import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { startEngineRig, type EngineRig } from '../support/scripted-model.ts';
import type { StatusView } from '../../src/core/cli/views/schemas.ts';

async function statusOf(rig: EngineRig): Promise<StatusView> {
  const result = await runCli(['status', '--json'], rig.env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as StatusView;
}

async function phases(rig: EngineRig): Promise<string[]> {
  return (await rig.sessions()).map((session) => session.phase);
}

/** The JSON lines a tick wrote on stderr for one event. */
function events(stderr: string, event: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event === event);
}

describe('AGENT_MAX_CONCURRENT_SESSIONS=auto: new cycles while KTRDR lists idle training workers', () => {
  test('the number of cycles follows a worker list that changes between passes, within AGENT_MAX_SESSIONS_CAP', async () => {
    // Frozen: every training stays on its worker, so the worker list alone decides what each pass may start.
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true, env: { AGENT_MAX_CONCURRENT_SESSIONS: 'auto', AGENT_MAX_SESSIONS_CAP: '5' } });
    try {
      rig.sim.workers = { training: 2, backtesting: 1 };
      await rig.tick();
      assert.deepEqual(await phases(rig), ['training', 'training']);
      let utilization = (await statusOf(rig)).utilization!;
      assert.deepEqual(utilization.trainingWorkers, { total: 2, busy: 2, idle: 0 });
      assert.equal(utilization.mode, 'auto');
      assert.equal(utilization.limitedBy, 'workers');
      assert.equal(utilization.newCyclesStarted, 2);

      rig.sim.workers = { training: 4, backtesting: 1 };
      await rig.tick();
      assert.equal((await phases(rig)).length, 4);

      rig.sim.workers = { training: 8, backtesting: 1 };
      await rig.tick();
      assert.equal((await phases(rig)).length, 5, 'the cap holds with idle workers left');
      utilization = (await statusOf(rig)).utilization!;
      assert.equal(utilization.limitedBy, 'cap');
      assert.deepEqual(utilization.trainingWorkers, { total: 8, busy: 5, idle: 3 });

      // Workers gone from KTRDR's registry: nothing new starts, and nothing running is touched.
      rig.sim.workers = { training: 1, backtesting: 1 };
      await rig.tick();
      assert.deepEqual(await phases(rig), ['training', 'training', 'training', 'training', 'training']);
      const status = await statusOf(rig);
      assert.equal(status.utilization!.limitedBy, 'workers');
      assert.equal(status.utilization!.newCyclesStarted, 0);
      const text = await runCli(['status'], rig.env);
      assert.match(text.stdout, /Training workers: 1 busy, 0 idle of 1 \(100\.0% busy\)/);
      assert.match(text.stdout, /New cycles: limited by no idle training worker/);
    } finally {
      await rig.close();
    }
  });

  test('a worker list that is missing (404) or malformed falls back to one session, with a warning; read again, auto resumes', async () => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true, env: { AGENT_MAX_CONCURRENT_SESSIONS: 'auto' } });
    try {
      rig.sim.workers = { training: 3, backtesting: 1 };
      rig.sim.faults.workersMissing = true;
      let tick = await rig.tick();
      assert.equal((await phases(rig)).length, 1);
      const [warning] = events(tick.stderr, 'workers_unreadable');
      assert.match(String(warning?.warning), /could not read KTRDR's training workers \(GET \/workers: .*404/);
      assert.equal(warning?.level, 'warn');
      let utilization = (await statusOf(rig)).utilization!;
      assert.deepEqual([utilization.mode, utilization.trainingWorkers, utilization.limitedBy, utilization.maxActive], ['auto', null, 'setting', 1]);
      assert.match(utilization.workersError ?? '', /404/);

      rig.sim.faults.workersMissing = false;
      rig.sim.faults.workersMalformed = true;
      tick = await rig.tick();
      assert.equal((await phases(rig)).length, 1);
      assert.equal(events(tick.stderr, 'workers_unreadable').length, 1);
      assert.match((await statusOf(rig)).utilization!.workersError ?? '', /.+/);

      rig.sim.faults.workersMalformed = false;
      tick = await rig.tick();
      assert.equal(events(tick.stderr, 'workers_unreadable').length, 0);
      assert.equal((await phases(rig)).length, 3, 'one session on a worker and two new ones on the idle workers');
      utilization = (await statusOf(rig)).utilization!;
      assert.deepEqual(utilization.trainingWorkers, { total: 3, busy: 3, idle: 0 });
    } finally {
      await rig.close();
    }
  });

  test('the budget limits auto: no more new cycles than the rest of the day pays for at the recent cost per cycle', async () => {
    const rig = await startEngineRig({
      designer: 'claude',
      frozenClock: true,
      env: { AGENT_MAX_CONCURRENT_SESSIONS: 'auto', AGENT_BUDGET_DAILY_USD: '2.5', AGENT_BUDGET_BUFFER_USD: '0.1' },
    });
    try {
      rig.sim.workers = { training: 4, backtesting: 1 };
      const migrated = await runCli(['db', 'migrate'], rig.env);
      assert.equal(migrated.code, 0, migrated.stderr);
      // Five finished cycles at $1.00 each: $2.40 above the buffer pays for two more.
      for (let i = 0; i < 5; i++) {
        await rig.pool.query(
          `INSERT INTO agent_sessions (phase, designer, outcome, cost_usd, phase_started_at, completed_at) VALUES ('idle', 'claude', 'success', 1.0, now(), now())`,
        );
      }
      await rig.tick();
      const active = (await rig.sessions()).filter((session) => session.outcome === null);
      assert.equal(active.length, 2, 'four idle workers, but the budget pays for two cycles');
      const utilization = (await statusOf(rig)).utilization!;
      assert.equal(utilization.limitedBy, 'budget');
      assert.equal(utilization.costPerCycleUsd, 1);
      assert.equal(utilization.trainingWorkers!.idle, 2);
      const text = await runCli(['status'], rig.env);
      assert.match(text.stdout, /New cycles: limited by the budget \(pays for \d+ more cycle\(s\) at \$1\.0000 per cycle\)/);
    } finally {
      await rig.close();
    }
  });
});
