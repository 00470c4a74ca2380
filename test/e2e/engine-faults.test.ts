import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { runCli, type CliResult } from '../support/cli.ts';
import { closedPort } from '../support/ports.ts';
import { startEngineRig, type EngineRig } from '../support/scripted-model.ts';

interface LogLine {
  level: string;
  event: string;
  [field: string]: unknown;
}

/** Every stderr line of a tick is one JSON object: no stack, no plain text. */
function logLines(result: CliResult): LogLine[] {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  return lines.map((line) => {
    assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
    return JSON.parse(line) as LogLine;
  });
}

function finished(result: CliResult): LogLine {
  const line = logLines(result).find((l) => l.event === 'tick_finished');
  assert.ok(line, result.stderr);
  return line;
}

async function budgetUsed(rig: EngineRig): Promise<number> {
  const row = (await rig.pool.query('SELECT COALESCE(SUM(budget_used_usd + budget_reserved_usd), 0)::float8 AS used FROM agent_budget')).rows[0];
  return row.used as number;
}

async function faultTriggers(rig: EngineRig): Promise<{ skip_reason: string; context: { faultClass: string; cause: string } }[]> {
  return (await rig.pool.query(`SELECT skip_reason, context FROM agent_triggers WHERE context ? 'faultClass' ORDER BY id`)).rows;
}

/** A server on loopback that answers every request the same way (a proxy, a captive portal, a load balancer). */
async function answeringServer(t: { after(fn: () => unknown): void }, listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function htmlPage(status: number): RequestListener {
  return (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body><h1>Bad Gateway</h1></body></html>');
  };
}

describe('engine: faults of the world are not research results (built CLI)', () => {
  test('a refused API key: one session kept in designing, no failed_design, exit 2, then a stop until the key changes', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', acceptedApiKey: 'sk-ant-test-the-right-key-0001', frozenClock: true });
    t.after(() => rig.close());
    const wrong = { ANTHROPIC_API_KEY: 'sk-ant-test-a-revoked-key-0002' };

    const first = await rig.tickAllowingFailure(wrong);
    assert.equal(first.code, 2, first.stderr);
    assert.equal(finished(first).level, 'error');
    assert.equal(finished(first).status, 'auth_failing');
    const refund = logLines(first).find((l) => l.event === 'decision' && l.action === 'refund');
    assert.equal(refund?.level, 'error');
    assert.equal(refund?.faultClass, 'anthropic_auth');
    let sessions = await rig.sessions();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.outcome, null, sessions[0]!.failure_reason ?? '');
    assert.equal(sessions[0]!.phase, 'designing');
    assert.equal(sessions[0]!.invocation_attempts, 0, 'the attempt is refunded');
    assert.equal(await budgetUsed(rig), 0, 'an answered 401 is not billed');
    const control = (await rig.pool.query('SELECT fault_class, fault_key_fingerprint FROM agent_control')).rows[0];
    assert.equal(control.fault_class, 'anthropic_auth');
    assert.match(control.fault_key_fingerprint, /^sha256:[0-9a-f]{12}$/);
    assert.ok(!JSON.stringify(control).includes(wrong.ANTHROPIC_API_KEY));
    const requestsAfterFirst = rig.fake.requests.length;

    // The same key again: no request, no new session, the same exit code.
    for (let i = 0; i < 2; i += 1) {
      const again = await rig.tickAllowingFailure(wrong);
      assert.equal(again.code, 2, again.stderr);
      assert.ok(logLines(again).some((l) => l.event === 'decision' && l.skipReason === 'anthropic_auth' && l.level === 'error'));
    }
    assert.equal(rig.fake.requests.length, requestsAfterFirst);
    assert.equal((await rig.sessions()).length, 1);

    // `status` says why, and `status --json` carries the same banner.
    const status = await runCli(['status'], { ...rig.env, ...wrong });
    assert.match(status.stdout, /^⚠️ {2}Anthropic authentication failing since .*ktrdr-agent resume/);
    const statusJson = JSON.parse((await runCli(['status', '--json'], rig.env)).stdout) as { banners: { kind: string }[] };
    assert.deepEqual(
      statusJson.banners.map((b) => b.kind),
      ['anthropic_auth'],
    );
    const doctor = await runCli(['doctor'], { ...rig.env, ...wrong });
    assert.match(doctor.stdout, /✗ invocations: Anthropic authentication failing since .*\n\s+fix: Set a valid ANTHROPIC_API_KEY/);

    // `resume` lifts the stop: the next tick tries (and is refused) again.
    assert.equal((await runCli(['resume'], rig.env)).code, 0);
    assert.equal((await rig.tickAllowingFailure(wrong)).code, 2);
    assert.ok(rig.fake.requests.length > requestsAfterFirst);

    // A new key lifts it too: the kept session is designed and moves on; the fault is cleared.
    const fixed = await rig.tick();
    assert.equal(finished(fixed).status, 'ok');
    sessions = await rig.sessions();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.phase, 'training', sessions[0]!.failure_reason ?? '');
    assert.equal((await rig.pool.query('SELECT fault_class FROM agent_control')).rows[0].fault_class, null);
    for (const output of rig.outputs) assert.ok(!`${output.stdout}${output.stderr}`.includes(wrong.ANTHROPIC_API_KEY));
  });

  test('a strategies directory that takes no file: checked before any money is spent, no session, exit 5', async (t) => {
    const rig = await startEngineRig({ designer: 'claude' });
    t.after(() => rig.close());
    // sysfs refuses new files to everyone, root included, and reports no free space.
    const result = await rig.tickAllowingFailure({ KTRDR_STRATEGIES_DIR: '/sys/kernel' });
    assert.equal(result.code, 5, result.stderr);
    assert.equal(finished(result).level, 'warn');
    assert.equal(finished(result).status, 'degraded');
    const decision = logLines(result).find((l) => l.event === 'decision' && l.faultClass === 'strategies_dir');
    assert.equal(decision?.level, 'warn');
    assert.match(String(decision?.cause), /strategies directory \/sys\/kernel/);
    assert.deepEqual(await rig.sessions(), []);
    assert.equal(rig.fake.requests.length, 0);
    assert.equal(await budgetUsed(rig), 0);
    assert.deepEqual(
      (await faultTriggers(rig)).map((r) => [r.skip_reason, r.context.faultClass]),
      [['infrastructure_fault', 'strategies_dir']],
    );
    // Fixed: the next tick designs.
    await rig.tick();
    assert.equal((await rig.sessions()).length, 1);
  });

  test('KTRDR down before a cycle: no session, a warn line with the class and cause, exit 5', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline' });
    t.after(() => rig.close());
    const result = await rig.tickAllowingFailure({ KTRDR_API_URL: `http://127.0.0.1:${await closedPort()}/api/v1`, AGENT_RETRY_MAX_ATTEMPTS: '1' });
    assert.equal(result.code, 5, result.stderr);
    const decision = logLines(result).find((l) => l.event === 'decision');
    assert.equal(decision?.level, 'warn');
    assert.equal(decision?.faultClass, 'ktrdr_unreachable');
    assert.equal(finished(result).status, 'degraded');
    assert.deepEqual(await rig.sessions(), []);
    assert.deepEqual(
      (await faultTriggers(rig)).map((r) => r.context.faultClass),
      ['ktrdr_unreachable'],
    );
    const banners = async () =>
      (JSON.parse((await runCli(['status', '--json'], rig.env)).stdout) as { banners: { kind: string; since: string | null }[] }).banners;
    const unreachable = (await banners()).find((banner) => banner.kind === 'ktrdr_unreachable');
    assert.ok(unreachable?.since, 'the banner says since when');
    // One rendering check: the banner leads the text.
    const status = await runCli(['status'], rig.env);
    assert.match(status.stdout, /^⚠️ {2}KTRDR unreachable since \d{4}-\d\d-\d\d [\d:]+ UTC \(just now\): KTRDR: .*Start KTRDR/);
    // Reached again: the banner goes.
    await rig.tick();
    assert.equal(
      (await banners()).some((banner) => banner.kind === 'ktrdr_unreachable'),
      false,
    );
  });

  test('a healthy tick exits 0 at info; the database gone exits 5 with one JSON error line', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    const healthy = await rig.tick();
    assert.equal(finished(healthy).level, 'info');
    assert.equal(finished(healthy).status, 'ok');
    assert.ok(logLines(healthy).some((l) => l.event === 'decision' && l.action === 'invoke' && typeof l.session === 'number'));

    const noDatabase = await rig.tickAllowingFailure({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/nothing` });
    assert.equal(noDatabase.code, 5, noDatabase.stderr);
    const [line, ...rest] = logLines(noDatabase);
    assert.deepEqual(rest, []);
    assert.equal(line!.event, 'tick_failed');
    assert.equal(line!.level, 'error');
    assert.equal(line!.faultClass, 'database');
    assert.ok(!noDatabase.stderr.includes('    at '), 'no stack');

    const badFlag = await runCli(['tick', '--verbsoe'], rig.env);
    assert.equal(badFlag.code, 1);
    assert.equal(logLines(badFlag)[0]!.event, 'tick_failed');
  });

  test("the database failing a session's own write (outside any span) reports that session in `interrupted`", async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    assert.equal(session!.phase, 'training');
    // The next pass records the running operation's progress with an UPDATE made directly in advance(); the
    // database refuses it the way a server shutting down does.
    await rig.pool.query(`CREATE FUNCTION refuse_session_writes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01'; END $$`);
    await rig.pool.query('CREATE TRIGGER refuse_session_writes BEFORE UPDATE ON agent_sessions FOR EACH ROW EXECUTE FUNCTION refuse_session_writes()');
    const result = await rig.tickAllowingFailure();
    assert.equal(result.code, 5, result.stderr);
    const failed = logLines(result).find((l) => l.event === 'tick_failed');
    assert.equal(failed?.faultClass, 'database', result.stderr);
    assert.deepEqual(failed?.interrupted, { stage: 'pass', step: 'advance_session', sessionId: session!.id });
  });

  for (const [label, anthropicUrl, faultClass] of [
    ['refused connections', async () => `http://127.0.0.1:${await closedPort()}`, 'anthropic_unreachable'],
    ['an HTML 502 page', async (t: { after(fn: () => unknown): void }) => answeringServer(t, htmlPage(502)), 'anthropic_unreachable'],
    ['an HTML page with 200', async (t: { after(fn: () => unknown): void }) => answeringServer(t, htmlPage(200)), 'anthropic_unbilled'],
  ] as const) {
    test(`Anthropic answering with ${label}: the session is kept, $0 is booked, exit 5 with a warn line`, async (t) => {
      const rig = await startEngineRig({ designer: 'claude', frozenClock: true });
      t.after(() => rig.close());
      const broken = { ANTHROPIC_BASE_URL: await anthropicUrl(t), AGENT_RETRY_MAX_ATTEMPTS: '2' };
      for (let i = 0; i < 3; i += 1) {
        const result = await rig.tickAllowingFailure(broken);
        assert.equal(result.code, 5, result.stderr);
        assert.equal(finished(result).level, 'warn');
        assert.equal(finished(result).status, 'degraded');
        const faultLine = logLines(result).find((l) => l.event === 'decision' && l.faultClass !== undefined);
        assert.equal(faultLine?.level, 'warn', result.stderr);
        assert.equal(faultLine?.faultClass, faultClass);
      }
      const sessions = await rig.sessions();
      assert.equal(sessions.length, 1, 'a fault creates no second session');
      assert.equal(sessions[0]!.outcome, null, sessions[0]!.failure_reason ?? '');
      assert.equal(sessions[0]!.phase, 'designing');
      assert.equal(await budgetUsed(rig), 0, 'nothing was billed, nothing is booked');
      const reservations = (
        await rig.pool.query(
          `SELECT count(*) FILTER (WHERE estimated OR status = 'reserved')::int AS kept, COALESCE(SUM(settled_usd), 0)::float8 AS settled FROM agent_budget_reservations`,
        )
      ).rows[0];
      assert.deepEqual(reservations, { kept: 0, settled: 0 }, 'every reservation settled at $0, none kept as an estimate');
      assert.equal(rig.fake.requests.length, 0);
      assert.ok((await faultTriggers(rig)).every((r) => r.context.faultClass === faultClass));

      // Anthropic back (and the backoff lifted by `resume`): the same session is designed and moves on.
      assert.equal((await runCli(['resume'], rig.env)).code, 0);
      await rig.tick();
      const after = await rig.sessions();
      assert.equal(after.length, 1);
      assert.equal(after[0]!.phase, 'training', after[0]!.failure_reason ?? '');
    });
  }
});
