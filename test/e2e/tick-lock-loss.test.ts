import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TICK_LOCK_KEY } from '../../src/core/db/tick-lock.ts';
import pg from 'pg';
import { runCli } from '../support/cli.ts';
import { ADMIN_URL } from '../support/databases.ts';
import { startEngineRig, type EngineRig } from '../support/scripted-model.ts';

/** The backend pid holding the tick's advisory lock, once a tick has taken it. */
async function lockHolderPid(rig: EngineRig): Promise<number> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    const { rows } = await rig.pool.query<{ pid: number }>(
      // Advisory locks are per database: other test files' ticks hold the same key in theirs.
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [TICK_LOCK_KEY],
    );
    if (rows[0]) return rows[0].pid;
    await delay(20);
  }
  throw new Error('no tick took the tick lock within 30 s');
}

/** A statement run from the server's maintenance database (a database cannot change its own connection rules). */
async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Waits until the pass has asked KTRDR something since `since` requests. With the simulator held, the pass is then
 * inside that call, its tick recorded (the tick row is written before the pass's first KTRDR call), and it stays
 * there until the test releases it.
 */
async function passWaitingOnKtrdr(rig: EngineRig, since: number): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    if (rig.sim.state.requests.length > since) return;
    await delay(20);
  }
  throw new Error('the tick did not ask KTRDR anything within 30 s');
}

async function triggerCount(rig: EngineRig): Promise<number> {
  return Number((await rig.pool.query<{ n: string }>('SELECT count(*) AS n FROM agent_triggers')).rows[0]!.n);
}

/** A session whose training runs at KTRDR (frozen clock: it never finishes), so the next pass only polls it. */
async function rigWithTraining(): Promise<EngineRig> {
  const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
  await rig.tick();
  const [session] = await rig.sessions();
  assert.equal(session?.phase, 'training');
  return rig;
}

describe('on PostgreSQL a pass runs only while it holds the tick lock', () => {
  test('the lock connection terminated mid-pass (pg_terminate_backend): the pass stops before its next write, exit 6 and a JSON line', async () => {
    const rig = await rigWithTraining();
    try {
      const before = await triggerCount(rig);
      const asked = rig.sim.state.requests.length;
      const release = rig.sim.hold();
      const tick = runCli(['tick'], rig.env);
      // Cut once the pass is under way: a cut before its tick row is written stops the tick before it has one.
      await passWaitingOnKtrdr(rig, asked);
      const pid = await lockHolderPid(rig);
      // With a timeout, pg_terminate_backend returns once the backend has gone (its FATAL message sent to the tick).
      await rig.pool.query('SELECT pg_terminate_backend($1, 10000)', [pid]);
      release();
      const result = await tick;
      assert.equal(result.code, 6, result.stderr);
      const line = result.stderr.split('\n').find((l) => l.includes('"tick_aborted"'));
      assert.ok(line, result.stderr);
      const logged = JSON.parse(line) as { level: string; code: string; exitCode: number };
      assert.equal(logged.level, 'error');
      assert.equal(logged.code, 'tick_lock_lost');
      assert.equal(logged.exitCode, 6);
      // Nothing was written after the lock was lost: no trigger row, and the tick itself is marked as an error.
      assert.equal(await triggerCount(rig), before);
      const ticks = await rig.pool.query<{ status: string }>(`SELECT status FROM agent_ticks ORDER BY started_at DESC LIMIT 1`);
      assert.equal(ticks.rows[0]?.status, 'error');
      // The next tick carries on normally.
      await rig.tick();
      assert.equal(await triggerCount(rig), before + 1);
    } finally {
      await rig.close();
    }
  });

  test('a database outage mid-pass ends the tick with exit 5 (degraded) and a JSON line naming what it interrupted', async () => {
    const rig = await rigWithTraining();
    const database = new URL(rig.env.DATABASE_URL!).pathname.slice(1);
    try {
      const asked = rig.sim.state.requests.length;
      const release = rig.sim.hold();
      const tick = runCli(['tick'], rig.env);
      const lockPid = await lockHolderPid(rig);
      // Cut only once the pass is under way (waiting on KTRDR): holding the lock alone is still the 'open' stage, and
      // a cut there is the other case this line reports.
      await passWaitingOnKtrdr(rig, asked);
      // The database refuses new connections and drops the pass's pooled ones; the tick lock's session lives on.
      await admin(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS false`);
      await rig.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2`, [
        database,
        lockPid,
      ]);
      release();
      const result = await tick;
      // A database gone mid-pass is a fault of the world: degraded (exit 5), with what it interrupted.
      assert.equal(result.code, 5, result.stderr);
      const line = result.stderr.split('\n').find((l) => l.includes('"tick_failed"'));
      assert.ok(line, result.stderr);
      const logged = JSON.parse(line) as { code: string; exitCode: number; interrupted?: { stage: string } };
      assert.equal(logged.code, 'database_unreachable');
      assert.equal(logged.exitCode, 5);
      assert.equal(logged.interrupted?.stage, 'pass');
      assert.doesNotMatch(result.stderr, /Unhandled 'error' event|\n\s+at /);
    } finally {
      await admin(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS true`).catch(() => {});
      await rig.close();
    }
  });

  test('idle_session_timeout on the server does not take the lock away: a second tick during a slow poll is skipped', async () => {
    const rig = await rigWithTraining();
    try {
      const database = new URL(rig.env.DATABASE_URL!).pathname.slice(1);
      await rig.pool.query(`ALTER DATABASE ${database} SET idle_session_timeout = '1500ms'`);
      const asked = rig.sim.state.requests.length;
      const release = rig.sim.hold();
      const first = runCli(['tick'], rig.env);
      await lockHolderPid(rig);
      await passWaitingOnKtrdr(rig, asked);
      // A connection that goes idle now is closed by the server once the timeout has passed; by then the lock's
      // connection, idle since before it, has been idle longer than the server allows an idle session.
      const probe = new pg.Client({ connectionString: rig.env.DATABASE_URL });
      probe.on('error', () => {});
      const closedByServer = new Promise((resolve) => probe.once('end', resolve));
      await probe.connect();
      await probe.query('SELECT 1');
      await closedByServer;
      const second = await runCli(['tick'], rig.env);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /tick_skipped/);
      release();
      const result = await first;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /tick_finished/);
    } finally {
      await rig.close();
    }
  });
});
