import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binRun, repoRoot, runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

const env = { HOME: '/nonexistent', KTRDR_AGENT_DATA_DIR: '/nonexistent/data' };

describe('a CLI with manners (built CLI)', () => {
  test('typos get a suggestion, extra arguments say what the command takes', async () => {
    const cases: [string[], RegExp][] = [
      [['stauts'], /^Error: 'stauts' is not a ktrdr-agent command\. Did you mean `ktrdr-agent status`\?\n$/],
      [['status', '--jsn'], /^Error: Unknown flag --jsn\. Did you mean --json\? See `ktrdr-agent status --help`\.\n$/],
      [['status', 'extra'], /^Error: `status` takes no arguments \(got 'extra'\)\. See `ktrdr-agent status --help`\.\n$/],
      [['budget', '5'], /^Error: `budget` takes no arguments\. Did you mean `ktrdr-agent budget set 5`\?\n$/],
      [['session', '1', '2'], /^Error: `session` takes one argument \(<id>\); got an extra 2\. See `ktrdr-agent session --help`\.\n$/],
    ];
    for (const [args, expected] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, expected, args.join(' '));
    }
    const tick = await runCli(['tick', '--verbsoe'], env);
    assert.equal(tick.code, 1);
    assert.match(tick.stderr, /"message":"Unknown flag --verbsoe\. Did you mean --verbose\?/);
  });

  test('-h and version work', async () => {
    const help = await runCli(['-h'], env);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Autonomous strategy designer/);
    const statusHelp = await runCli(['status', '-h'], env);
    assert.equal(statusHelp.code, 0, statusHelp.stderr);
    assert.match(statusHelp.stdout, /USAGE\n\s+\$ ktrdr-agent status/);
    const version = await runCli(['version'], env);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^ktrdr-agent\/\d+\.\d+\.\d+ /);
  });

  test('a reader that closes the pipe early ends the CLI quietly with 0', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--', binRun, '--help'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      // `| head -c 1`: read one chunk, then close the pipe before the rest is written.
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  test('raw Node errors become advice: no build yet, a taken port, no crontab', async () => {
    const copy = tempDir('ktrdr-agent-unbuilt-');
    try {
      mkdirSync(join(copy.path, 'bin'));
      copyFileSync(binRun, join(copy.path, 'bin', 'run.js'));
      const unbuilt = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(copy.path, 'bin', 'run.js'), 'status'], { env: { PATH: process.env.PATH ?? '' } });
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.equal(unbuilt.code, 1);
      assert.match(unbuilt.stderr, /^Error: ktrdr-agent is not built yet .* Run `npm ci && npm run build` in /);
    } finally {
      copy.remove();
    }

    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      const taken = await runCli(['sim', 'serve', '--port', String(port)], { ...env, KTRDR_STRATEGIES_DIR: '/tmp' });
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, new RegExp(`^Error: Port ${port} is already in use .*--port\\.\\n$`));
    } finally {
      holder.close();
    }
    const badWorld = await runCli(['sim', 'serve', '--port', '0', '--world', 'pair:rsi'], { ...env, KTRDR_STRATEGIES_DIR: '/tmp' });
    assert.equal(badWorld.code, 1);
    assert.match(badWorld.stderr, /^Error: --world: world 'pair:rsi': a pair is two indicator types joined by '\+', e\.g\. pair:rsi\+adx\n$/);

    // A PATH with everything the CLI needs but crontab.
    const bin = tempDir('ktrdr-agent-path-');
    try {
      writeFileSync(join(bin.path, 'node'), `#!/bin/sh\nexec ${process.execPath} "$@"\n`);
      chmodSync(join(bin.path, 'node'), 0o755);
      const home = tempDir('ktrdr-agent-home-');
      try {
        const result = await runCli(['schedule', '--cron', '--install'], { HOME: home.path, PATH: bin.path });
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^Error: There is no `crontab` command on this machine, so nothing was installed\. .*schedule --systemd --install/m);
        assert.ok(!result.stderr.includes('ENOENT'));
      } finally {
        home.remove();
      }
    } finally {
      bin.remove();
    }
  });

  test('a Node too old to run the CLI, or to build it, is told so with the version it needs', async () => {
    const older = tempDir('ktrdr-agent-old-node-');
    try {
      // Node 20 as seen by the scripts: process.versions.node is what they read.
      const preload = join(older.path, 'node20.mjs');
      writeFileSync(preload, "Object.defineProperty(process.versions, 'node', { value: '20.11.0' });\n");
      const run = (script: string, args: string[]) =>
        spawnSync(process.execPath, ['--import', preload, script, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      const cli = run(binRun, ['status']);
      assert.equal(cli.status, 1);
      assert.match(cli.stderr, /^Error: ktrdr-agent needs Node\.js 22\.3 or newer; this is v20\.11\.0\. Install a current Node/);
      const build = run(join(repoRoot, 'scripts', 'require-node.js'), []);
      assert.equal(build.status, 1);
      assert.match(build.stderr, /^ktrdr-agent needs Node\.js 22\.18 or newer to build .*; this is v20\.11\.0\./);
    } finally {
      older.remove();
    }
  });

  test('budget set shows where the limit comes from, rounds to the cent and says so, and can be cleared; config shows the effective limit', async () => {
    const database = await createTestDatabase();
    try {
      const dbEnv = { HOME: '/nonexistent', DATABASE_URL: database.url, AGENT_BUDGET_DAILY_USD: '5' };
      const set = await runCli(['budget', 'set', '10.005'], dbEnv);
      assert.equal(set.code, 0, set.stderr);
      assert.match(
        set.stdout,
        /^Budget limit updated to \$10\.01\/day \(10\.005 rounded to the cent\)\nSource: database override \(wins over AGENT_BUDGET_DAILY_USD=\$5\.00\); `ktrdr-agent budget set --clear`/,
      );
      const config = await runCli(['config'], dbEnv);
      assert.match(
        config.stdout,
        /Effective daily budget: \$10\.01\/day \(database override from `budget set`, wins over AGENT_BUDGET_DAILY_USD=\$5\.00 \(environment\)/,
      );
      const configJson = JSON.parse((await runCli(['config', '--json'], dbEnv)).stdout) as { effectiveDailyLimitUsd: { usd: number; source: string } };
      assert.deepEqual([configJson.effectiveDailyLimitUsd.usd, configJson.effectiveDailyLimitUsd.source], [10.01, 'override']);

      const cleared = await runCli(['budget', 'set', '--clear', '--json'], dbEnv);
      assert.equal(cleared.code, 0, cleared.stderr);
      assert.deepEqual(
        (({ limitUsd, source, previousLimitUsd }) => ({ limitUsd, source, previousLimitUsd }))(JSON.parse(cleared.stdout) as Record<string, unknown>),
        { limitUsd: 5, source: 'config', previousLimitUsd: 10.01 },
      );
      assert.match((await runCli(['config'], dbEnv)).stdout, /Effective daily budget: \$5\.00\/day \(AGENT_BUDGET_DAILY_USD \(environment\)\)/);
      const both = await runCli(['budget', 'set', '5', '--clear'], dbEnv);
      assert.equal(both.code, 1);
      assert.match(both.stderr, /--clear` takes no amount/);
    } finally {
      await database.drop();
    }
  });
});
