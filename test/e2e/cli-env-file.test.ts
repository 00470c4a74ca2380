import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binRun, repoRoot, runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

describe('env files given to the built CLI', () => {
  test('doctor registers the secrets of an env file: an API error that echoes the key shows it masked', async () => {
    const dir = tempDir();
    const key = 'anthropic-key-only-in-a-file-0123456789';
    // An Anthropic stand-in whose 401 quotes the key it was sent, as a careless proxy might.
    const server = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'error',
          error: { type: 'authentication_error', message: `invalid x-api-key ${String(req.headers['x-api-key'] ?? req.headers.authorization)}` },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const envFile = join(dir.path, 'agent.env');
      writeFileSync(
        envFile,
        `ANTHROPIC_API_KEY=${key}\nANTHROPIC_BASE_URL=http://127.0.0.1:${(server.address() as AddressInfo).port}\nKTRDR_API_URL=http://u:ktrdr-password-42@127.0.0.1:9/api/v1\n`,
      );
      const env = { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path };
      for (const args of [
        ['doctor', '--online', '--agent-env', envFile],
        ['doctor', '--online', '--json', '--agent-env', envFile],
      ]) {
        const result = await runCli(args, env);
        const output = result.stdout + result.stderr;
        assert.match(output, /invalid x-api-key (Bearer )?\*\*\*\*/, output);
        assert.doesNotMatch(output, new RegExp(key));
        assert.doesNotMatch(output, /ktrdr-password-42/);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
      dir.remove();
    }
  });

  test('a FIFO as --agent-env is refused at once instead of hanging the tick', async () => {
    const dir = tempDir();
    try {
      const fifo = join(dir.path, 'agent.env');
      execFileSync('mkfifo', [fifo]);
      const env = { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path };
      for (const args of [
        ['tick', '--agent-env', fifo],
        ['config', '--agent-env', fifo],
      ]) {
        const result = await runCli(args, env, { timeoutMs: 20_000 });
        assert.equal(result.signal, null, `${args[0]} hung on the FIFO`);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /not a regular file/);
      }
    } finally {
      dir.remove();
    }
  });

  test('a tick reports an unknown env-file key as a JSON warning naming its line and the likely setting', async () => {
    const dir = tempDir();
    try {
      const envFile = join(dir.path, 'agent.env');
      writeFileSync(envFile, 'AGENT_DESIGNER=baseline\nKTRDR_API_URL=http://127.0.0.1:9/api/v1\nAGENT_BUGDET_DAILY_USD=3\n');
      const result = await runCli(['tick', '--agent-env', envFile], { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path });
      // KTRDR is unreachable on purpose: the pass runs and is degraded (exit 5); the warning is logged first.
      assert.equal(result.code, 5, result.stderr);
      const warning = result.stderr.split('\n').find((line) => line.includes('config_warning'));
      assert.ok(warning, result.stderr);
      assert.match(
        (JSON.parse(warning) as { warning: string }).warning,
        /agent\.env:3: unknown setting AGENT_BUGDET_DAILY_USD, ignored \(did you mean AGENT_BUDGET_DAILY_USD\?\)/,
      );
    } finally {
      dir.remove();
    }
  });

  test('--env-file, its old name, still works with a deprecation note (a JSON line for tick); both at once is a usage error', async () => {
    const dir = tempDir();
    try {
      const envFile = join(dir.path, 'agent.env');
      writeFileSync(envFile, 'AGENT_MAX_TURNS=7\nKTRDR_API_URL=http://127.0.0.1:9/api/v1\nAGENT_DESIGNER=baseline\n');
      const env = { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path };
      const config = await runCli(['config', '--json', '--env-file', envFile], env);
      assert.equal(config.code, 0, config.stderr);
      assert.equal(
        (JSON.parse(config.stdout) as { settings: { name: string; value: unknown }[] }).settings.find((s) => s.name === 'AGENT_MAX_TURNS')?.value,
        '7',
      );
      assert.match(config.stderr, /^Warning: --env-file is deprecated \(Node\.js owns that name\); use --agent-env /m);
      const tick = await runCli(['tick', '--env-file', envFile], env);
      const warning = tick.stderr
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { event: string; warning?: string })[0];
      assert.equal(warning?.event, 'config_warning');
      assert.match(warning?.warning ?? '', /--env-file is deprecated/);
      const both = await runCli(['config', '--agent-env', envFile, '--env-file', envFile], env);
      assert.equal(both.code, 1);
      assert.match(both.stderr, /Give the env file once/);
    } finally {
      dir.remove();
    }
  });

  test('node bin/run.js ... --env-file (no `--`): Node read the file itself, so the CLI refuses, exit 2, naming --agent-env', () => {
    const dir = tempDir();
    try {
      const envFile = join(dir.path, 'agent.env');
      writeFileSync(envFile, 'AGENT_DESIGNER=baseline\n');
      for (const args of [
        ['config', '--env-file', envFile],
        ['tick', `--env-file=${envFile}`],
      ]) {
        const result = spawnSync(process.execPath, [binRun, ...args], {
          cwd: repoRoot,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path },
        });
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stderr, /Node\.js itself read the --env-file given to ktrdr-agent.*Use --agent-env FILE/);
      }
      // With --agent-env, `node bin/run.js` is fine.
      const fine = spawnSync(process.execPath, [binRun, 'config', '--json', '--agent-env', envFile], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path },
      });
      assert.equal(fine.status, 0, fine.stderr);
    } finally {
      dir.remove();
    }
  });
});
