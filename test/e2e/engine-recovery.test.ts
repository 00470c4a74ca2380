import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { binRun, repoRoot, runCli } from '../support/cli.ts';
import { isFirstTurnOf, startEngineRig, type EngineRig } from '../support/scripted-model.ts';
import { closedPort } from '../support/ports.ts';

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await delay(100);
  }
}

async function triggers(rig: EngineRig, sessionId: number | null): Promise<{ trigger_reason: string; skip_reason: string | null; agent_invoked: boolean }[]> {
  const query =
    sessionId === null
      ? 'SELECT trigger_reason, skip_reason, agent_invoked FROM agent_triggers ORDER BY id'
      : 'SELECT trigger_reason, skip_reason, agent_invoked FROM agent_triggers WHERE session_id = $1 ORDER BY id';
  return (await rig.pool.query(query, sessionId === null ? [] : [sessionId])).rows;
}

describe('engine: recovery through the built CLI', () => {
  test('KTRDR unreachable for several ticks: nothing changes, each pass says why, then the cycle goes on', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    assert.equal(session?.phase, 'training', session?.failure_reason ?? '');
    const before = await rig.session(session.id);

    // KTRDR goes away: the agent's URL now points at a port nobody listens on.
    const down = { KTRDR_API_URL: `http://127.0.0.1:${await closedPort()}/api/v1`, AGENT_RETRY_MAX_ATTEMPTS: '2' };
    rig.clock.advance(60_000);
    const triggersBefore = (await triggers(rig, session.id)).length;
    for (let i = 0; i < 3; i += 1) {
      // A tick that ran while a dependency failed it exits 5 (degraded), so cron and systemd see it at once.
      const result = await rig.tickAllowingFailure(down);
      assert.equal(result.code, 5, result.stderr);
      assert.match(result.stderr, /"level":"warn","event":"tick_finished".*"status":"degraded"/);
      await delay(200);
    }
    const during = await rig.session(session.id);
    assert.equal(during.phase, 'training');
    assert.equal(during.outcome, null);
    assert.equal(during.failure_reason, null);
    assert.deepEqual(during.phase_history, before.phase_history);
    assert.equal(during.training_operation_id, before.training_operation_id);
    const downTriggers = (await triggers(rig, session.id)).slice(triggersBefore);
    assert.equal(downTriggers.length, 3);
    for (const row of downTriggers)
      assert.deepEqual(row, { trigger_reason: 'operation_still_running', skip_reason: 'ktrdr_unreachable', agent_invoked: false });
    assert.equal((await rig.sessions()).length, 1, 'no new session while one is active');

    // Back: the training that finished meanwhile is picked up and the cycle completes.
    await rig.tickUntil(async () => (await rig.session(session.id)).outcome !== null, { maxTicks: 10, advanceMs: 60_000 });
    const after = await rig.session(session.id);
    assert.equal(after.outcome, 'success', after.failure_reason ?? '');
    assert.deepEqual(
      after.phase_history.map((p) => p.phase),
      ['designing', 'training', 'backtesting', 'assessing', 'idle'],
    );
  });

  test('KTRDR restarted on the same port: while it is closed nothing changes, once it listens again it answers', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    assert.equal(session?.phase, 'training');
    const { port } = rig.sim;
    await rig.sim.close();
    for (let i = 0; i < 2; i += 1) assert.equal((await rig.tickAllowingFailure({ AGENT_RETRY_MAX_ATTEMPTS: '2' })).code, 5);
    const during = await rig.session(session.id);
    assert.equal(during.phase, 'training');
    assert.equal(during.outcome, null);
    assert.deepEqual(
      (await triggers(rig, session.id)).slice(-2).map((r) => r.skip_reason),
      ['ktrdr_unreachable', 'ktrdr_unreachable'],
    );

    // A restarted simulator has lost its operations, as a restarted backend would: the agent hears 404 and ends the session.
    const { createSimulator } = await import('../../src/core/sim/index.ts');
    const restarted = await createSimulator({ strategiesDir: rig.strategiesDir, timeScale: 20_000, port });
    t.after(() => restarted.close());
    await rig.tick();
    const after = await rig.session(session.id);
    assert.equal(after.outcome, 'failed_training');
    assert.match(after.failure_reason ?? '', /unknown to KTRDR \(404\)/);
    assert.ok(restarted.state.requests.length > 0);
  });

  test('budget exhausted: trigger exits 3 and no request reaches the Anthropic API', async (t) => {
    const rig = await startEngineRig({
      designer: 'claude',
      env: { AGENT_BUDGET_DAILY_USD: '0.01', AGENT_BUDGET_BUFFER_USD: '0.01' },
    });
    t.after(() => rig.close());
    const result = await runCli(['trigger'], rig.env);
    rig.outputs.push(result);
    assert.equal(result.code, 3, result.stderr);
    assert.match(`${result.stdout}\n${result.stderr}`, /budget/i);
    assert.equal(rig.fake.requests.length, 0);
    assert.deepEqual(await rig.sessions(), []);
    assert.deepEqual(await triggers(rig, null), [{ trigger_reason: 'start_new_cycle', skip_reason: 'budget_exceeded', agent_invoked: false }]);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(rig.apiKey));
  });

  test('budget exhausted under --json: exit 3 and exactly one JSON document that says why', async (t) => {
    const rig = await startEngineRig({
      designer: 'claude',
      env: { AGENT_BUDGET_DAILY_USD: '0.01', AGENT_BUDGET_BUFFER_USD: '0.01' },
    });
    t.after(() => rig.close());
    const result = await runCli(['trigger', '--json'], rig.env);
    rig.outputs.push(result);
    assert.equal(result.code, 3, result.stderr);
    const document = JSON.parse(result.stdout) as { budgetExceeded: boolean; error: { code: string; exitCode: number } };
    assert.equal(document.budgetExceeded, true);
    assert.deepEqual([document.error.code, document.error.exitCode], ['budget_exceeded', 3]);
    assert.equal(rig.fake.requests.length, 0);
  });

  test('kill -9 during an invocation: after the lease expires the next tick retries it once and the session goes on', async (t) => {
    const rig = await startEngineRig({
      designer: 'claude',
      model: { designDelayMs: 3_000, designDelayTimes: 2 },
      env: { AGENT_LEASE_SECONDS: '10' },
    });
    t.after(() => rig.close());

    const child = spawn(process.execPath, [binRun, 'tick'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...rig.env },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await waitFor('the design request in flight', async () => rig.fake.requests.some((r) => isFirstTurnOf(r, 'save_strategy_config')));
    const [leased] = await rig.sessions();
    assert.equal(leased?.phase, 'designing');
    assert.ok(leased.lease_expires_at && leased.lease_expires_at.getTime() > Date.now());
    assert.equal(leased.invocation_attempts, 1);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    // The lease is still live: the next tick leaves the invocation alone.
    await rig.tick();
    assert.equal((await rig.session(leased.id)).phase, 'designing');
    assert.equal((await triggers(rig, leased.id)).at(-1)?.skip_reason, 'invocation_in_progress');
    assert.equal(rig.fake.requests.filter((r) => isFirstTurnOf(r, 'save_strategy_config')).length, 1);

    // The lease runs out: moved into the past rather than waited for (the agent reads lease times from the row).
    await rig.pool.query(`UPDATE agent_sessions SET lease_expires_at = NOW() - INTERVAL '1 second' WHERE id = $1`, [leased.id]);
    // The retry's first answer is slow as well, so the second attempt can be seen while it runs.
    const retry = rig.tick();
    await waitFor('the retried design request', async () => rig.fake.requests.filter((r) => isFirstTurnOf(r, 'save_strategy_config')).length === 2);
    const retrying = await rig.session(leased.id);
    assert.equal(retrying.invocation_attempts, 2);
    assert.equal(retrying.phase, 'designing');
    await retry;
    assert.equal((await rig.session(leased.id)).phase, 'training');

    await rig.tickUntil(async () => (await rig.session(leased.id)).outcome !== null, { maxTicks: 10 });
    const finished = await rig.session(leased.id);
    assert.equal(finished.outcome, 'success', finished.failure_reason ?? '');
    const designInvocations = (await triggers(rig, leased.id)).filter((r) => r.agent_invoked && r.trigger_reason === 'start_new_cycle');
    assert.equal(designInvocations.length, 2);
    assert.equal(
      rig.fake.requests.filter(
        (r) => isFirstTurnOf(r, 'save_strategy_config') && r.body?.messages[0] && JSON.stringify(r.body.messages[0]).includes(`session #${leased.id}`),
      ).length,
      2,
    );
  });

  test('20 ticks at the same moment on one database: one session, one design invocation', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', frozenClock: true });
    t.after(() => rig.close());
    const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['tick'], rig.env)));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const sessions = await rig.sessions();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.phase, 'training', sessions[0]!.failure_reason ?? '');
    assert.equal(rig.fake.requests.filter((r) => isFirstTurnOf(r, 'save_strategy_config')).length, 1);
    const budget = (await rig.pool.query('SELECT cycles_started FROM agent_budget')).rows;
    assert.deepEqual(budget, [{ cycles_started: 1 }]);
    const invoked = (await triggers(rig, null)).filter((r) => r.agent_invoked);
    assert.equal(invoked.length, 1);
  });

  test('four concurrent sessions (baseline) progress independently to their outcomes', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', env: { AGENT_MAX_CONCURRENT_SESSIONS: '4' } });
    t.after(() => rig.close());
    await rig.tick();
    const started = await rig.sessions();
    assert.equal(started.length, 4);
    for (const s of started) assert.equal(s.phase, 'training', s.failure_reason ?? '');
    const ids = started.map((s) => s.id);
    await rig.tickUntil(async () => (await rig.sessions()).filter((s) => ids.includes(s.id)).every((s) => s.outcome !== null), { maxTicks: 15 });
    const finished = (await rig.sessions()).filter((s) => ids.includes(s.id));
    for (const s of finished) {
      assert.equal(s.outcome, 'success', `session ${s.id}: ${s.failure_reason}`);
      assert.deepEqual(
        s.phase_history.map((p) => p.phase),
        ['designing', 'training', 'backtesting', 'assessing', 'idle'],
      );
    }
    assert.equal(new Set(finished.map((s) => s.strategy_name)).size, 4);
    assert.equal(new Set(finished.map((s) => s.training_operation_id)).size, 4);
    assert.equal(new Set(finished.map((s) => s.backtest_operation_id)).size, 4);
    const metrics = (await rig.pool.query('SELECT session_id FROM agent_metrics WHERE session_id = ANY($1) ORDER BY session_id', [ids])).rows;
    assert.deepEqual(
      metrics.map((m: { session_id: number }) => m.session_id),
      ids,
    );
  });
});
