import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

describe('env files given to the built CLI', () => {
  test('doctor registers the secrets of an env file: an API error that echoes the key shows it masked', async () => {
    const dir = tempDir();
    const key = 'anthropic-key-only-in-a-file-0123456789';
    // An Anthropic stand-in whose 401 quotes the key it was sent, as a careless proxy might.
    const server = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${String(req.headers['x-api-key'] ?? req.headers.authorization)}` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const envFile = join(dir.path, 'agent.env');
      writeFileSync(envFile, `ANTHROPIC_API_KEY=${key}\nANTHROPIC_BASE_URL=http://127.0.0.1:${(server.address() as AddressInfo).port}\nKTRDR_API_URL=http://u:ktrdr-password-42@127.0.0.1:9/api/v1\n`);
      const env = { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path };
      for (const args of [['doctor', '--online', '--env-file', envFile], ['doctor', '--online', '--json', '--env-file', envFile]]) {
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

  test('a FIFO as --env-file is refused at once instead of hanging the tick', async () => {
    const dir = tempDir();
    try {
      const fifo = join(dir.path, 'agent.env');
      execFileSync('mkfifo', [fifo]);
      const env = { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path };
      for (const args of [['tick', '--env-file', fifo], ['config', '--env-file', fifo]]) {
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
      const result = await runCli(['tick', '--env-file', envFile], { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path });
      // KTRDR is unreachable on purpose: the pass runs and is degraded (exit 5); the warning is logged first.
      assert.equal(result.code, 5, result.stderr);
      const warning = result.stderr.split('\n').find((line) => line.includes('config_warning'));
      assert.ok(warning, result.stderr);
      assert.match((JSON.parse(warning) as { warning: string }).warning, /agent\.env:3: unknown setting AGENT_BUGDET_DAILY_USD, ignored \(did you mean AGENT_BUDGET_DAILY_USD\?\)/);
    } finally {
      dir.remove();
    }
  });
});
