import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

describe('controls that cannot surprise (built CLI)', () => {
  test('budget set without an amount refuses and keeps the override; a limit at or below the buffer needs --force', async () => {
    const database = await createTestDatabase();
    try {
      const env = { HOME: '/nonexistent', DATABASE_URL: database.url, AGENT_BUDGET_DAILY_USD: '5' };
      assert.equal((await runCli(['budget', 'set', '3'], env)).code, 0);
      for (const args of [
        ['budget', 'set'],
        ['budget', 'set', '--json'],
      ]) {
        const bare = await runCli(args, env);
        assert.equal(bare.code, 1, bare.stdout);
        assert.match(bare.stdout + bare.stderr, /Give an amount, or --clear/);
      }
      const limit = async () => {
        const { usd, source } = (JSON.parse((await runCli(['config', '--json'], env)).stdout) as { effectiveDailyLimitUsd: { usd: number; source: string } })
          .effectiveDailyLimitUsd;
        return { usd, source };
      };
      assert.deepEqual(await limit(), { usd: 3, source: 'override' });

      // The buffer is never spent: a limit at or below it could never pay for a call.
      for (const amount of ['0.05', '0.10']) {
        const low = await runCli(['budget', 'set', amount], env);
        assert.equal(low.code, 1, low.stdout);
        assert.match(low.stderr, new RegExp(`a limit of \\$${amount} is at or below the \\$0\\.10 buffer \\(AGENT_BUDGET_BUFFER_USD\\).*--force`));
      }
      assert.deepEqual(await limit(), { usd: 3, source: 'override' });
      const forced = await runCli(['budget', 'set', '0.05', '--force'], env);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stderr, /^Warning: a limit of \$0\.05 is at or below the \$0\.10 buffer/);
      assert.deepEqual(await limit(), { usd: 0.05, source: 'override' });
      assert.equal((await runCli(['budget', 'set', '0.11'], env)).code, 0);
    } finally {
      await database.drop();
    }
  });

  test('experiments show without an id points to --help', async () => {
    const result = await runCli(['experiments', 'show'], { HOME: '/nonexistent', KTRDR_AGENT_DATA_DIR: '/nonexistent/data' });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^Error: `experiments show` needs <id>: e\.g\. `ktrdr-agent experiments show 12`\. See `ktrdr-agent experiments show --help`\.\n$/,
    );
  });

  test('db migrate --status lists applied and pending first, and applies nothing; doctor does not fail on what the next tick migrates', async () => {
    const database = await createTestDatabase();
    const home = tempDir('ktrdr-agent-migrate-');
    try {
      // An empty database: every migration is pending.
      const env = { HOME: home.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
      const status = await runCli(['db', 'migrate', '--status'], env);
      assert.equal(status.code, 0, status.stderr);
      const lines = status.stdout.trim().split('\n');
      assert.match(lines[0]!, /^Database: /);
      assert.match(lines[1]!, /^Applied: 0 \(none\)$/);
      assert.match(lines[2]!, /^Pending: [1-9]\d* \(/);
      assert.equal(lines[3], 'Nothing applied (--status). `ktrdr-agent db migrate` applies them, and so does the next tick.');
      assert.doesNotMatch(status.stdout, /already up to date/);

      const doctor = await runCli(['doctor', '--json'], env);
      const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
      const databaseCheck = checks.find((c) => c.name === 'database')!;
      assert.equal(databaseCheck.ok, true, databaseCheck.detail);
      assert.match(databaseCheck.detail, /0 migration\(s\) applied, [1-9]\d* pending \(the next tick applies them/);
    } finally {
      home.remove();
      await database.drop();
    }
  });

  test("doctor's invalid configuration reads as one sentence: no stray ':;'", async () => {
    const result = await runCli(['doctor'], { HOME: '/nonexistent', AGENT_MAX_TURNS: 'lots' });
    assert.equal(result.code, 2);
    assert.doesNotMatch(result.stdout, /:;/);
    assert.match(result.stdout, /^✗ configuration: Invalid configuration \(1 setting\): AGENT_MAX_TURNS="lots" \(from the environment\): expected an integer/m);
  });
});
