import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { TICK_LOCK_KEY } from '../../src/core/db/tick-lock.ts';
import { migrations } from '../../migrations/index.ts';
import { repoRoot, runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

describe('the built CLI as a child process', () => {
  const home = tempDir('ktrdr-agent-home-');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase();
    env = { HOME: home.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
  });
  after(async () => {
    await database.drop();
    home.remove();
  });

  test('--help lists the commands and the exit codes', async () => {
    const result = await runCli(['--help'], env);
    assert.equal(result.code, 0);
    for (const command of ['tick', 'trigger', 'config', 'pause', 'resume', 'db']) assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
    const tickHelp = await runCli(['tick', '--help'], env);
    assert.match(tickHelp.stdout, /EXIT CODES/);
    // Each command lists the codes it can return: tick never exits 3 (a spent budget is not a failed tick), it exits 5.
    assert.match(tickHelp.stdout, /5\s+degraded: the pass ran but a dependency\s+failed it/);
    assert.doesNotMatch(tickHelp.stdout, /^\s+3\s/m);
    assert.match(tickHelp.stdout, /A spent\s+budget\s+is\s+not\s+a\s+failure/);
    const triggerHelp = await runCli(['trigger', '--help'], env);
    assert.match(triggerHelp.stdout, /3\s+budget exceeded/);
    for (const help of [tickHelp, triggerHelp]) assert.match(help.stdout, /6\s+the\s+tick\s+lock\s+was\s+lost\s+mid-pass/);
    const sessionHelp = await runCli(['session', '--help'], env);
    assert.match(sessionHelp.stdout, /4\s+no session has that id/);
    assert.doesNotMatch(sessionHelp.stdout, /^\s+5\s/m);
  });

  test('--version prints the package version', async () => {
    const result = await runCli(['--version'], env);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^ktrdr-agent\/\d+\.\d+\.\d+ /);
  });

  test('config --json shows every setting with its source, secrets masked', async () => {
    const key = 'sk-ant-api03-topsecretvalue-0123456789';
    const result = await runCli(['config', '--json'], { ...env, ANTHROPIC_API_KEY: key });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { settings: { name: string; value: string | null; source: string }[] };
    const byName = new Map(parsed.settings.map((s) => [s.name, s]));
    assert.equal(byName.get('DATABASE_URL')?.source, 'environment');
    assert.equal(byName.get('AGENT_MAX_TURNS')?.source, 'default');
    assert.ok(!result.stdout.includes(key));
    assert.ok(!result.stderr.includes(key));
  });

  test('db migrate applies, then reports nothing pending', async () => {
    const first = await runCli(['db', 'migrate', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const second = JSON.parse((await runCli(['db', 'migrate', '--json'], env)).stdout) as { appliedNow: string[]; pending: string[] };
    assert.deepEqual(second.appliedNow, []);
    assert.deepEqual(second.pending, []);
  });

  test('a bad setting exits 2 and names the variable', async () => {
    const result = await runCli(['tick'], { ...env, GATE_BACKTEST_MIN_WIN_RATE: 'high' });
    assert.equal(result.code, 2);
    // The tick path logs JSON only, its errors too.
    const line = JSON.parse(result.stderr) as { level: string; event: string; message: string };
    assert.equal(line.event, 'tick_failed');
    assert.match(line.message, /GATE_BACKTEST_MIN_WIN_RATE="high"/);
    assert.equal(result.stdout, '');
  });

  test('an unreachable database: a tick exits 5 (degraded) with a clear message and no password', async () => {
    const result = await runCli(['tick'], { ...env, DATABASE_URL: 'postgres://agent:hunter2secret@127.0.0.1:9/x' });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /Cannot open the database/);
    assert.ok(!result.stderr.includes('hunter2secret'));
  });

  test('pause is persisted and a tick honours it', async () => {
    assert.equal((await runCli(['pause'], env)).code, 0);
    const tick = await runCli(['tick'], env);
    assert.equal(tick.code, 0, tick.stderr);
    assert.equal(tick.stdout, '');
    assert.match(tick.stderr, /"status":"paused"/);
    assert.equal((await runCli(['resume'], env)).code, 0);
  });
});

describe('one tick at a time', () => {
  test('on PostgreSQL a tick that finds the lock held exits 0 quickly and says why', async () => {
    const database = await createTestDatabase();
    const home = tempDir('ktrdr-agent-home-');
    const holder = new pg.Client({ connectionString: database.url });
    try {
      const env = { HOME: home.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
      assert.equal((await runCli(['db', 'migrate'], env)).code, 0);
      await holder.connect();
      await holder.query('SELECT pg_advisory_lock($1)', [TICK_LOCK_KEY]);
      const result = await runCli(['tick'], env);
      assert.equal(result.code, 0);
      assert.match(result.stderr, /tick_skipped.*tick lock/);
      const rows = await holder.query('SELECT count(*)::int AS n FROM agent_ticks');
      assert.equal(rows.rows[0].n, 0);
    } finally {
      await holder.end();
      await database.drop();
      home.remove();
    }
  });

  test('two processes racing for the lock: exactly one wins', async () => {
    const database = await createTestDatabase();
    try {
      // Each racer reports, then holds whatever it got until the parent has heard from all four: no timing involved.
      const script = `
        import { tryAcquireTickLock } from './src/core/db/tick-lock.ts';
        const lock = await tryAcquireTickLock({ kind: 'postgres', url: process.argv[1] });
        process.stdout.write(lock ? 'won' : 'lost');
        process.stdin.resume();
        await new Promise((r) => process.stdin.once('end', r));
        await lock?.release();`;
      const children: import('node:child_process').ChildProcess[] = [];
      const race = () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, database.url], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
          children.push(child);
          child.stdout!.once('data', (c) => resolve(String(c)));
          child.on('error', reject);
        });
      const results = await Promise.all([race(), race(), race(), race()]);
      await Promise.all(
        children.map(
          (child) =>
            new Promise((resolve) => {
              child.on('close', resolve);
              child.stdin!.end();
            }),
        ),
      );
      assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
      assert.equal(results.filter((r) => r === 'lost').length, 3);
    } finally {
      await database.drop();
    }
  });

  test('two processes on one PGlite data dir: the second waits, then both finish cleanly', async () => {
    const dir = tempDir();
    try {
      const env = {
        HOME: dir.path,
        KTRDR_AGENT_DATA_DIR: dir.path,
        KTRDR_API_URL: 'http://127.0.0.1:9/api/v1',
        AGENT_DESIGNER: 'baseline',
        AGENT_LOCK_WAIT_SECONDS: '60',
      };
      const [a, b] = await Promise.all([runCli(['db', 'migrate', '--json'], env), runCli(['db', 'migrate', '--json'], env)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const applied = [a, b].map((r) => (JSON.parse(r.stdout) as { appliedNow: string[] }).appliedNow.length);
      assert.deepEqual(applied.sort(), [0, Object.keys(migrations).length]);
      const status = JSON.parse((await runCli(['db', 'migrate', '--status', '--json'], env)).stdout) as { pending: string[] };
      assert.deepEqual(status.pending, []);
    } finally {
      dir.remove();
    }
  });

  test('a PGlite data dir held by another process: the second exits with a clear message after its wait', async () => {
    const dir = tempDir();
    let holder: import('node:child_process').ChildProcess | undefined;
    try {
      const env = {
        HOME: dir.path,
        KTRDR_AGENT_DATA_DIR: dir.path,
        KTRDR_API_URL: 'http://127.0.0.1:9/api/v1',
        AGENT_DESIGNER: 'baseline',
        AGENT_LOCK_WAIT_SECONDS: '1',
      };
      assert.equal((await runCli(['db', 'migrate'], env)).code, 0);
      holder = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { openStore } from './src/core/db/connect.ts'; const s = await openStore({ kind: 'pglite', dataDir: process.argv[1] + '/pgdata' }); process.stdout.write('open'); await new Promise(() => {});`,
          dir.path,
        ],
        { cwd: repoRoot },
      );
      await new Promise<void>((resolve) => holder!.stdout!.once('data', () => resolve()));
      const status = await runCli(['db', 'migrate', '--status'], env);
      assert.equal(status.code, 1);
      assert.match(status.stderr, /in use by another ktrdr-agent process/);
      const tick = await runCli(['tick'], env);
      assert.equal(tick.code, 0);
      assert.match(tick.stderr, /tick_skipped/);
    } finally {
      holder?.kill('SIGKILL');
      dir.remove();
    }
  });
});
