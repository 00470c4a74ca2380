import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TICK_LOCK_KEY } from '../../src/core/db/tick-lock.ts';
import { runCli } from '../support/cli.ts';
import { startEngineRig, type EngineRig } from '../support/scripted-model.ts';

/** The backend pid holding the tick's advisory lock, once a tick has taken it. */
async function lockHolderPid(rig: EngineRig): Promise<number> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    const { rows } = await rig.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [TICK_LOCK_KEY],
    );
    if (rows[0]) return rows[0].pid;
    await delay(20);
  }
  throw new Error('no tick took the tick lock within 30 s');
}

/** Waits until the pass has started a backtest at KTRDR and polled it at least `polls` times since. */
async function followingBacktest(rig: EngineRig, polls = 1): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    const requests = rig.sim.state.requests;
    const started = requests.findIndex((r) => r.method === 'POST' && r.path === '/backtests/start');
    if (started >= 0 && requests.slice(started).filter((r) => r.method === 'GET' && r.path.startsWith('/operations/op_backtesting')).length >= polls) return;
    await delay(20);
  }
  throw new Error('the pass did not start and poll a backtest within 30 s');
}

async function triggerCount(rig: EngineRig): Promise<number> {
  return Number((await rig.pool.query<{ n: string }>('SELECT count(*) AS n FROM agent_triggers')).rows[0]!.n);
}

/** A session whose training has finished at KTRDR (frozen clock moved past it): the next pass starts its backtest. */
async function rigWithFinishedTraining(): Promise<EngineRig> {
  const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
  await rig.tick();
  const [session] = await rig.sessions();
  assert.equal(session?.phase, 'training');
  rig.clock.advance(60_000);
  return rig;
}

describe('AGENT_PASS_FOLLOW_SECONDS: a pass follows short work to its end', () => {
  test('a backtest that finishes while followed is assessed in the same pass', async () => {
    const rig = await rigWithFinishedTraining();
    try {
      const tick = rig.tickAllowingFailure({ AGENT_PASS_FOLLOW_SECONDS: '60' });
      // The backtest runs while the pass watches it; then KTRDR's clock moves and it completes.
      await followingBacktest(rig, 2);
      rig.clock.advance(60_000);
      const result = await tick;
      assert.equal(result.code, 0, result.stderr);
      const [session] = await rig.sessions();
      assert.equal(session?.outcome, 'success', 'training gate, backtest, backtest gate and assessment all in one pass');
      const actions = (await rig.pool.query<{ reason: string }>('SELECT trigger_reason AS reason FROM agent_triggers ORDER BY id')).rows.map(
        (row) => row.reason,
      );
      assert.ok(actions.includes('training_completed') && actions.includes('backtest_completed'), actions.join(', '));
      // Following wrote no row of its own while it waited: only the decisions it took.
      assert.equal(actions.filter((reason) => reason === 'operation_still_running').length, 0, actions.join(', '));
    } finally {
      await rig.close();
    }
  });

  test('a backtest that does not finish in time is left running, and the next pass carries on', async () => {
    const rig = await rigWithFinishedTraining();
    try {
      const result = await rig.tick({ AGENT_PASS_FOLLOW_SECONDS: '1' });
      assert.match(result.stderr, /tick_finished/);
      let [session] = await rig.sessions();
      assert.equal(session?.phase, 'backtesting');
      assert.equal(session?.outcome, null);
      rig.clock.advance(60_000);
      await rig.tick({ AGENT_PASS_FOLLOW_SECONDS: '1' });
      [session] = await rig.sessions();
      assert.equal(session?.outcome, 'success');
    } finally {
      await rig.close();
    }
  });

  test('a pause while following stops it: the finished backtest waits for a pass after resume', async () => {
    const rig = await rigWithFinishedTraining();
    try {
      const tick = rig.tickAllowingFailure({ AGENT_PASS_FOLLOW_SECONDS: '60' });
      await followingBacktest(rig, 1);
      const paused = await runCli(['pause'], rig.env);
      assert.equal(paused.code, 0, paused.stderr);
      rig.clock.advance(60_000);
      const result = await tick;
      assert.equal(result.code, 0, result.stderr);
      const [session] = await rig.sessions();
      assert.equal(session?.phase, 'backtesting', 'no assessment was invoked after the pause');
      assert.equal(session?.outcome, null);
    } finally {
      await rig.close();
    }
  });

  test('the tick lock lost while following: the pass stops at its next poll, exit 6, and writes nothing more', async () => {
    const rig = await rigWithFinishedTraining();
    try {
      const tick = runCli(['tick'], { ...rig.env, AGENT_PASS_FOLLOW_SECONDS: '60' });
      const pid = await lockHolderPid(rig);
      await followingBacktest(rig, 1);
      const before = await triggerCount(rig);
      await rig.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      // Were the pass to go on, this would complete the backtest and it would assess it.
      rig.clock.advance(60_000);
      const result = await tick;
      assert.equal(result.code, 6, result.stderr);
      const line = result.stderr.split('\n').find((l) => l.includes('"tick_aborted"'));
      assert.ok(line, result.stderr);
      assert.equal((JSON.parse(line) as { code: string }).code, 'tick_lock_lost');
      assert.equal(await triggerCount(rig), before);
      const [session] = await rig.sessions();
      assert.equal(session?.phase, 'backtesting');
      await rig.tick();
      assert.equal((await rig.sessions())[0]?.outcome, 'success', 'the next tick carries on');
    } finally {
      await rig.close();
    }
  });
});
