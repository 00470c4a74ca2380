import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

describe('demo', () => {
  test('from a fresh data dir to finished cycles, sandboxed from the user env file', async () => {
    const home = tempDir('ktrdr-agent-demo-');
    try {
      // A production setting in the user's env file must not reach the demo.
      mkdirSync(join(home.path, '.config', 'ktrdr-agent'), { recursive: true });
      writeFileSync(
        join(home.path, '.config', 'ktrdr-agent', 'agent.env'),
        'DATABASE_URL=postgres://prod:prodsecret@127.0.0.1:9/prod\nPUSHGATEWAY_URL=http://127.0.0.1:9\n',
      );
      const result = await runCli(['demo', '--cycles', '2'], { HOME: home.path }, { timeoutMs: 180_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /simulator .*\(not KTRDR\)/);
      assert.match(result.stdout, /2 cycle\(s\) finished|[3-9] cycle\(s\) finished/);
      assert.match(result.stdout, /=== Recent Cycles ===/);
      assert.match(result.stdout, /Session #\d+ - baseline_/);
      assert.ok(!`${result.stdout}${result.stderr}`.includes('prodsecret'));
      const demoDir = join(home.path, '.local', 'share', 'ktrdr-agent', 'demo');
      assert.ok(existsSync(join(demoDir, 'pgdata')));
      // It says what it does from the first second, shows a success with its assessment and a gate failure, and
      // ends with what to do next.
      assert.match(result.stdout, /^Starting the KTRDR simulator/);
      assert.match(result.stdout, /#\d+ success \(the assess invocation ended the session\)/);
      assert.match(result.stdout, /#\d+ failed_(training|backtest)_gate \((training|backtest) gate: /);
      assert.match(result.stdout, /cycle\(s\) finished: [1-9]\d* successful, [1-9]\d* stopped by a quality gate/);
      // Commands that work as printed: the CLI by the path it was started with (not on PATH here), --demo, the report.
      assert.match(result.stdout, /Next steps\n.*\n\s+\$ \S+\/bin\/run\.js status --demo\n[\s\S]*\$ \S+ report --demo --out \S+report\.html\n[\s\S]*doctor/);

      // --keep: a cycle the previous simulator was running is cancelled with the reason, never a false failed_training.
      // Whether the first demo stopped with an operation under way depends on where its last pass ended (a pass
      // follows short work to its end), so the state it left decides what the second run must say.
      const left = JSON.parse((await runCli(['status', '--json', '--demo'], { HOME: home.path })).stdout) as { active: { id: number; operation: unknown }[] };
      const underWay = left.active.filter((cycle) => cycle.operation !== null);
      const kept = await runCli(['demo', '--keep', '--max-ticks', '1'], { HOME: home.path }, { timeoutMs: 120_000 });
      assert.equal(kept.code, 0, kept.stderr);
      // Under `auto` several cycles may have been under way: the line names each of them.
      const keptLine = /Kept data: cycle\(s\) (#\d+(?:, #\d+)*) had operations on the previous simulator, which are gone with it: cancelled \(not failed\)\./;
      const named = (keptLine.exec(kept.stdout)?.[1] ?? '').split(', ').filter(Boolean).sort();
      if (underWay.length > 0) assert.deepEqual(named, underWay.map((cycle) => `#${cycle.id}`).sort());
      else assert.doesNotMatch(kept.stdout, keptLine);
      assert.match(kept.stdout, /Stopped short after 1 tick\(s\) \(--max-ticks 1\)/);
      const history = JSON.parse(
        (await runCli(['history', '--json', '--limit', '50'], { HOME: home.path, KTRDR_AGENT_DATA_DIR: demoDir, DATABASE_URL: '' })).stdout,
      ) as {
        sessions: { outcome: string | null; failureReason: string | null }[];
      };
      assert.ok(history.sessions.length > 0);
      assert.ok(!history.sessions.some((e) => e.outcome === 'failed_training' && /404/.test(e.failureReason ?? '')), JSON.stringify(history.sessions));
      assert.equal(
        history.sessions.some((e) => e.outcome === 'cancelled' && /demo --keep/.test(e.failureReason ?? '')),
        underWay.length > 0,
      );
    } finally {
      home.remove();
    }
  });
});

describe('doctor', () => {
  const home = tempDir('ktrdr-agent-doctor-');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: Simulator;
  const strategiesDir = join(home.path, 'strategies');
  before(async () => {
    mkdirSync(strategiesDir);
    database = await createTestDatabase();
    simulator = await createSimulator({ strategiesDir, seed: 1 });
  });
  after(async () => {
    await simulator.close();
    await database.drop();
    home.remove();
  });

  test('everything in order: exit 0, a checklist, and the database left as it was (pending migrations reported, not applied, not a failure)', async () => {
    const env = { HOME: home.path, DATABASE_URL: database.url, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'baseline' };
    // Pending migrations are reported, not failed: the next tick applies them itself.
    const first = await runCli(['doctor'], env);
    assert.equal(first.code, 0, first.stdout);
    assert.match(first.stdout, /✓ database: .*pending \(the next tick applies them; `ktrdr-agent db migrate` does it now\)/);
    assert.equal((await runCli(['db', 'migrate'], env)).code, 0);
    const result = await runCli(['doctor', '--json'], env);
    assert.equal(result.code, 0, result.stdout);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    assert.equal(report.ok, true);
    assert.match(report.checks.find((c) => c.name === 'strategies directory')!.detail, /KTRDR reads the same directory/);
    assert.ok(!existsSync(join(strategiesDir, 'ktrdr_agent_doctor_probe.yaml')));
  });

  test('KTRDR unreachable and a password in the Pushgateway URL: exit 1, the fix printed, no password', async () => {
    const env = {
      HOME: home.path,
      DATABASE_URL: database.url,
      // A password too short for the secret registry must not show either.
      KTRDR_API_URL: 'http://agent:pw12@127.0.0.1:9/api/v1',
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: 'baseline',
      PUSHGATEWAY_URL: 'http://pusher:pushsecret@127.0.0.1:9',
    };
    const result = await runCli(['doctor'], env);
    assert.equal(result.code, 1);
    // Advice that fits the class of the failure: nothing listens there (network), not "check the key".
    assert.match(
      result.stdout,
      /✗ KTRDR: .*\n\s+fix: network: nothing answers at http:\/\/agent:\*+@127\.0\.0\.1:9\/api\/v1; start KTRDR, or fix the host and port in KTRDR_API_URL/,
    );
    assert.match(result.stdout, /✗ Pushgateway: .*\n\s+fix: network: .*optional/);
    // Optional parts that are not configured are marked as such, not ticked.
    assert.match(result.stdout, /^– OTLP endpoint: not configured \(optional\)$/m);
    assert.match(result.stdout, /^– Anthropic API key: not needed: baseline designer \(optional\)$/m);
    assert.ok(!result.stdout.includes('pushsecret'));
    assert.ok(!result.stdout.includes('pw12'), result.stdout);
  });

  test('a failing KTRDR is asked once (a diagnosis does not sit through retries), with advice for its class', async () => {
    let requests = 0;
    const failing = createServer((request, response) => {
      requests += 1;
      response.writeHead(503, { 'content-type': 'application/json' }).end('{"detail":"maintenance"}');
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/api/v1`;
      const env = {
        HOME: home.path,
        DATABASE_URL: database.url,
        KTRDR_API_URL: url,
        KTRDR_STRATEGIES_DIR: strategiesDir,
        AGENT_DESIGNER: 'baseline',
        AGENT_RETRY_MAX_ATTEMPTS: '5',
      };
      const result = await runCli(['doctor'], env);
      assert.equal(result.code, 1);
      assert.match(result.stdout, /✗ KTRDR: .*\n\s+fix: KTRDR is up but failing \(5xx\); look at its logs/);
      assert.equal(requests, 1);
    } finally {
      failing.close();
    }
  });

  test('a KTRDR that accepts the connection and never answers is given one bounded try, with advice for a timeout', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = createNetServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/v1`;
      const env = {
        HOME: home.path,
        DATABASE_URL: database.url,
        KTRDR_API_URL: url,
        KTRDR_STRATEGIES_DIR: strategiesDir,
        AGENT_DESIGNER: 'baseline',
        AGENT_RETRY_MAX_ATTEMPTS: '5',
        KTRDR_TIMEOUT_SECONDS: '60',
      };
      const result = await runCli(['doctor'], env);
      assert.equal(result.code, 1);
      assert.match(result.stdout, /✗ KTRDR: .*\n\s+fix: network: .* did not answer within 2 s; check that the host is up/);
      assert.equal(sockets.length, 1, 'asked once, not retried');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  for (const [status, advice] of [
    [401, /fix: key: Anthropic refused ANTHROPIC_API_KEY/],
    [404, /fix: model: AGENT_MODEL is not available to this key/],
    [429, /fix: rate limit: the key is over its rate or spend limit/],
    [529, /fix: Anthropic is failing \(5xx\)/],
  ] as const) {
    test(`doctor --online: an Anthropic ${status} gets the advice of its class`, async () => {
      const anthropic = createServer((request, response) => {
        request.resume();
        response
          .writeHead(status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `status ${status}` } }));
      });
      await new Promise<void>((resolve) => anthropic.listen(0, '127.0.0.1', resolve));
      try {
        const env = {
          HOME: home.path,
          DATABASE_URL: database.url,
          KTRDR_API_URL: simulator.url,
          KTRDR_STRATEGIES_DIR: strategiesDir,
          AGENT_DESIGNER: 'claude',
          ANTHROPIC_API_KEY: 'sk-ant-api03-doctor-advice',
          ANTHROPIC_BASE_URL: `http://127.0.0.1:${(anthropic.address() as AddressInfo).port}`,
        };
        const result = await runCli(['doctor', '--online'], env);
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stdout, new RegExp(`✗ Anthropic API key: .*\\n\\s+${advice.source}`));
        assert.ok(!result.stdout.includes('sk-ant-api03-doctor-advice'));
      } finally {
        anthropic.close();
      }
    });
  }

  test('an embedded database not created yet is reported, not created (a diagnosis changes nothing), with KTRDR down', async () => {
    const dataDir = join(home.path, 'never-ticked');
    const env = {
      HOME: home.path,
      DATABASE_URL: '',
      KTRDR_AGENT_DATA_DIR: dataDir,
      KTRDR_API_URL: 'http://127.0.0.1:9/api/v1',
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: 'baseline',
    };
    const result = await runCli(['doctor'], env);
    assert.equal(result.code, 1, result.stdout);
    assert.match(
      result.stdout,
      /^✓ database: PGlite at .*never-ticked\/pgdata; not created yet: the first `ktrdr-agent tick` \(or `ktrdr-agent db migrate`\) creates it$/m,
    );
    assert.match(result.stdout, /^✗ KTRDR: /m);
    assert.ok(!existsSync(join(dataDir, 'pgdata')), 'doctor created the embedded database');
  });

  test('invalid configuration: exit 2, naming the variable', async () => {
    const result = await runCli(['doctor'], { HOME: home.path, AGENT_MAX_TURNS: 'lots' });
    assert.equal(result.code, 2);
    assert.match(result.stdout, /AGENT_MAX_TURNS/);
  });
});

describe('env files and unknown commands', () => {
  test("a missing --agent-env is the CLI's own error, exit 2 (Node does not own the flag)", async () => {
    const result = await runCli(['config', '--agent-env', '/nonexistent/agent.env'], { HOME: '/nonexistent' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Env file not found: \/nonexistent\/agent.env/);
  });

  test('an unknown command is a usage error: exit 1', async () => {
    const result = await runCli(['stauts'], { HOME: '/nonexistent' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /'stauts' is not a ktrdr-agent command/);
  });
});
