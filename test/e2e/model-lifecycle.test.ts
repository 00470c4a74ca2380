import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

describe('model lifecycle through the built CLI', () => {
  test('a retired AGENT_MODEL is exit 2 naming its replacement; a deprecated one is a warning from config', async () => {
    const home = tempDir('ktrdr-agent-lifecycle-');
    try {
      const env = { HOME: home.path, KTRDR_AGENT_DATA_DIR: home.path };
      const retired = await runCli(['config'], { ...env, AGENT_MODEL: 'claude-sonnet-4-5-20250929' });
      assert.equal(retired.code, 2, retired.stderr);
      assert.match(retired.stderr, /AGENT_MODEL="claude-sonnet-4-5-20250929".*retired on 2026-11-30.*"claude-sonnet-5-5"/);

      const deprecated = await runCli(['config'], { ...env, AGENT_MODEL: 'claude-opus-4-5' });
      assert.equal(deprecated.code, 0, deprecated.stderr);
      // oclif wraps warnings at the terminal width and prefixes each line with ›.
      const warning = deprecated.stderr.replace(/›/g, ' ').replace(/\s+/g, ' ');
      assert.match(warning, /Warning: AGENT_MODEL: model "claude-opus-4-5" is deprecated and retires on 2027-01-22.*"claude-opus-5-5"/);
      const asJson = await runCli(['config', '--json'], { ...env, AGENT_MODEL: 'claude-opus-4-5' });
      assert.equal(asJson.code, 0, asJson.stderr);
      const result = JSON.parse(asJson.stdout) as { warnings: string[] };
      assert.equal(result.warnings.length, 1);
      assert.match(result.warnings[0]!, /"claude-opus-5-5"/);

      // The tick log says it too, on every pass, as a structured warning.
      const tick = await runCli(['tick'], {
        ...env,
        AGENT_MODEL: 'claude-opus-4-5',
        ANTHROPIC_API_KEY: 'sk-ant-api03-lifecycle',
        KTRDR_API_URL: 'http://127.0.0.1:9/api/v1',
      });
      // KTRDR is unreachable here, so the pass is degraded (exit 5); the deprecation warning is logged regardless.
      assert.equal(tick.code, 5, tick.stderr);
      const events = `${tick.stdout}\n${tick.stderr}`
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level?: string; event?: string; warning?: string });
      const deprecation = events.find((event) => event.event === 'model_deprecated');
      assert.equal(deprecation?.level, 'warn');
      assert.match(deprecation?.warning ?? '', /claude-opus-4-5" is deprecated and retires on 2027-01-22/);

      // doctor lists it among its checks (KTRDR is down here, so doctor itself exits 1).
      const doctor = await runCli(['doctor'], {
        ...env,
        AGENT_MODEL: 'claude-opus-4-5',
        ANTHROPIC_API_KEY: 'sk-ant-api03-lifecycle',
        KTRDR_API_URL: 'http://127.0.0.1:9/api/v1',
      });
      assert.match(doctor.stdout, /model lifecycle: warning: AGENT_MODEL: model "claude-opus-4-5" is deprecated/);
    } finally {
      home.remove();
    }
  });
});
