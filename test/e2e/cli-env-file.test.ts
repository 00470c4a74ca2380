import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

describe('env files given to the built CLI', () => {
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
      const { writeFileSync } = await import('node:fs');
      writeFileSync(envFile, 'AGENT_DESIGNER=baseline\nKTRDR_API_URL=http://127.0.0.1:9/api/v1\nAGENT_BUGDET_DAILY_USD=3\n');
      const result = await runCli(['tick', '--env-file', envFile], { HOME: dir.path, KTRDR_AGENT_DATA_DIR: dir.path });
      assert.equal(result.code, 0, result.stderr);
      const warning = result.stderr.split('\n').find((line) => line.includes('config_warning'));
      assert.ok(warning, result.stderr);
      assert.match((JSON.parse(warning) as { warning: string }).warning, /agent\.env:3: unknown setting AGENT_BUGDET_DAILY_USD, ignored \(did you mean AGENT_BUDGET_DAILY_USD\?\)/);
    } finally {
      dir.remove();
    }
  });
});
