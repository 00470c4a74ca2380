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

/** Waits until KTRDR has been asked about an operation since `since` requests: the pass is polling. */
async function pollStarted(rig: EngineRig, since: number): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    if (rig.sim.state.requests.slice(since).some((r) => r.method === 'GET' && r.path.includes('/operations/'))) return;
    await delay(20);
  }
  throw new Error('the tick did not poll KTRDR within 30 s');
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
      rig.sim.faults.latencyMs = 3_000;
      const tick = runCli(['tick'], rig.env);
      const pid = await lockHolderPid(rig);
      await rig.pool.query('SELECT pg_terminate_backend($1)', [pid]);
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
      rig.sim.faults.latencyMs = 0;
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
      rig.sim.faults.latencyMs = 3_000;
      const polledBefore = rig.sim.state.requests.length;
      const tick = runCli(['tick'], rig.env);
      const lockPid = await lockHolderPid(rig);
      // Cut only once the pass is under way (its slow KTRDR poll has been asked): holding the lock alone is still the
      // 'open' stage, and a cut there is the other case this line reports.
      await pollStarted(rig, polledBefore);
      // The database refuses new connections and drops the pass's pooled ones; the tick lock's session lives on.
      await admin(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS false`);
      await rig.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2`, [
        database,
        lockPid,
      ]);
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
      rig.sim.faults.latencyMs = 6_000;
      const first = runCli(['tick'], rig.env);
      await lockHolderPid(rig);
      // The lock's connection has now been idle longer than the server allows an idle session.
      await delay(2_500);
      const second = await runCli(['tick'], rig.env);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /tick_skipped/);
      const result = await first;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /tick_finished/);
    } finally {
      await rig.close();
    }
  });
});
