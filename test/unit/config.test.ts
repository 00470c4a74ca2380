import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, describeConfig, loadConfig } from '../../src/core/config/load.ts';
import { settingDefinitions, settingNames } from '../../src/core/config/schema.ts';
import { tempDir } from '../support/databases.ts';

const home = tempDir('ktrdr-agent-home-');
const base = { HOME: home.path };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env: { ...base, ...env } });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    return error.problems.map((p) => p.name);
  }
}

describe('configuration', () => {
  test('defaults match the documented values', () => {
    const config = loadConfig({ env: base });
    const s = config.settings;
    assert.equal(s.KTRDR_API_URL, 'http://127.0.0.1:8000/api/v1');
    assert.equal(s.AGENT_MODEL, 'claude-opus-5-5');
    assert.equal(s.AGENT_MAX_CONCURRENT_SESSIONS, 'auto');
    assert.equal(s.AGENT_MAX_SESSIONS_CAP, 8);
    assert.equal(s.AGENT_PASS_FOLLOW_SECONDS, 150);
    assert.equal(s.AGENT_RECENT_STRATEGIES_COUNT, 5);
    assert.equal(s.AGENT_BUDGET_DAILY_USD, 5);
    assert.equal(s.AGENT_BUDGET_BUFFER_USD, 0.1);
    assert.equal(s.AGENT_BUDGET_ENFORCEMENT, true);
    // KTRDR's own training gate defaults (ktrdr/agents/gates.py at 2c5c7173), applied to the metrics it gates on.
    assert.equal(s.GATE_TRAINING_MIN_ACCURACY, 0.1);
    assert.equal(s.GATE_TRAINING_MAX_LOSS, 0.8);
    assert.equal(s.GATE_TRAINING_MIN_LOSS_REDUCTION, -0.5);
    assert.equal(s.GATE_TRAINING_MIN_DIRECTIONAL_ACCURACY, 0.51);
    assert.equal(s.AGENT_STALL_QUEUED_MINUTES, 20);
    assert.equal(s.AGENT_STALL_RESUMING_MINUTES, 10);
    assert.equal(s.AGENT_STALL_ZERO_PROGRESS_MINUTES, 10);
    assert.equal(s.GATE_BACKTEST_MIN_WIN_RATE, 0.1);
    assert.equal(s.GATE_BACKTEST_MAX_DRAWDOWN, 0.4);
    assert.equal(s.GATE_BACKTEST_MIN_SHARPE, -0.5);
    assert.equal(s.AGENT_RETRY_MAX_ATTEMPTS, 3);
    assert.equal(s.AGENT_RETRY_BACKOFF_BASE, 2);
    assert.equal(s.AGENT_MAX_TURNS, 12);
    assert.equal(s.AGENT_MAX_TOKENS, 16000);
    assert.equal(config.dataDir, join(home.path, '.local/share/ktrdr-agent'));
    assert.equal(config.strategiesDir, join(home.path, '.local/share/ktrdr-agent/strategies'));
  });

  const invalid: [string, string][] = [
    ['DATABASE_URL', 'mysql://x'],
    ['KTRDR_API_URL', 'not a url'],
    ['KTRDR_TIMEOUT_SECONDS', '0'],
    ['KTRDR_MAX_RESPONSE_MIB', '0'],
    ['ANTHROPIC_BASE_URL', 'ftp://x'],
    ['AGENT_DESIGNER', 'gpt'],
    ['AGENT_MODEL', 'claude-unknown-9'],
    ['AGENT_MODEL_PRICES', '{nope'],
    ['AGENT_MODEL_DESIGN', 'claude-unknown-9'],
    ['AGENT_MODEL_BACKTEST', 'claude-unknown-9'],
    ['AGENT_MODEL_ASSESS', 'claude-unknown-9'],
    ['AGENT_EFFORT_DESIGN', 'extreme'],
    ['AGENT_EFFORT_BACKTEST', 'none'],
    ['AGENT_EFFORT_ASSESS', '3'],
    ['AGENT_INFERENCE_GEO', 'eu'],
    ['AGENT_BATCH_PHASES', 'backtest,training'],
    ['AGENT_MAX_CONCURRENT_SESSIONS', '0'],
    ['AGENT_MAX_CONCURRENT_SESSIONS', 'automatic'],
    ['AGENT_MAX_CONCURRENT_SESSIONS', '2.5'],
    ['AGENT_MAX_SESSIONS_CAP', '0'],
    ['AGENT_PASS_FOLLOW_SECONDS', '-1'],
    ['AGENT_PASS_FOLLOW_SECONDS', '300'],
    ['AGENT_RECENT_STRATEGIES_COUNT', '-1'],
    ['AGENT_MEMORY_TOKEN_BUDGET', '50'],
    ['AGENT_NEAR_DUPLICATE_TOLERANCE', '1.5'],
    ['AGENT_MAX_TURNS', '1.5'],
    ['AGENT_MAX_TOKENS', '10'],
    ['AGENT_INVOCATION_TIMEOUT_SECONDS', 'soon'],
    ['AGENT_PROMPT_CACHING', 'maybe'],
    ['AGENT_BUDGET_DAILY_USD', '-5'],
    ['AGENT_BUDGET_BUFFER_USD', 'x'],
    ['AGENT_BUDGET_ENFORCEMENT', 'sometimes'],
    ['GATE_TRAINING_MIN_ACCURACY', '45'],
    ['GATE_TRAINING_MAX_LOSS', '-1'],
    ['GATE_TRAINING_MIN_LOSS_REDUCTION', '2'],
    ['GATE_TRAINING_MIN_DIRECTIONAL_ACCURACY', '1.5'],
    ['AGENT_STALL_QUEUED_MINUTES', '0'],
    ['AGENT_STALL_RESUMING_MINUTES', 'soon'],
    ['AGENT_STALL_ZERO_PROGRESS_MINUTES', '-3'],
    ['GATE_BACKTEST_MIN_WIN_RATE', '1.5'],
    ['GATE_BACKTEST_MAX_DRAWDOWN', 'lots'],
    ['GATE_BACKTEST_MIN_SHARPE', '1000'],
    ['GATE_BACKTEST_MIN_DSR', '1.5'],
    ['AGENT_RETRY_MAX_ATTEMPTS', '0'],
    ['AGENT_RETRY_BACKOFF_BASE', '-2'],
    ['AGENT_FAULT_BACKOFF_MINUTES', '90'],
    ['AGENT_RESUME_MAX_ATTEMPTS', '11'],
    ['AGENT_STALL_TIMEOUT_MINUTES', '0'],
    ['AGENT_LEASE_SECONDS', '1'],
    ['AGENT_POLL_CONCURRENCY', '0'],
    ['AGENT_LOCKBOX_MONTHS', '0'],
    ['AGENT_PROMOTION_MIN_DSR', '1.2'],
    ['AGENT_PROMOTION_ROBUSTNESS_WINDOWS', '11'],
    ['AGENT_PROMOTION_MIN_LOCKBOX_PSR', 'high'],
    ['AGENT_VALIDATION_CONCURRENCY', '0'],
    ['AGENT_LOCK_WAIT_SECONDS', '-1'],
    ['AGENT_RETENTION_DAYS', '1.5'],
    ['AGENT_LOG_MAX_MIB', '-1'],
    ['AGENT_LOG_KEEP', '0'],
    ['PUSHGATEWAY_URL', 'localhost:9091'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://x'],
  ];
  for (const [name, value] of invalid) {
    test(`${name}=${value} is refused with exit 2, naming the variable`, () => {
      assert.deepEqual(problemsOf({ [name]: value }), [name]);
    });
  }

  test("AGENT_MAX_CONCURRENT_SESSIONS takes 'auto' as well as an integer, and 0 turns following off", () => {
    assert.equal(loadConfig({ env: { ...base, AGENT_MAX_CONCURRENT_SESSIONS: 'auto' } }).settings.AGENT_MAX_CONCURRENT_SESSIONS, 'auto');
    assert.equal(loadConfig({ env: { ...base, AGENT_MAX_CONCURRENT_SESSIONS: '4' } }).settings.AGENT_MAX_CONCURRENT_SESSIONS, 4);
    assert.equal(loadConfig({ env: { ...base, AGENT_PASS_FOLLOW_SECONDS: '0' } }).settings.AGENT_PASS_FOLLOW_SECONDS, 0);
  });

  test('every setting is covered by the validation table or accepts any string', () => {
    const covered = new Set(invalid.map(([name]) => name));
    for (const name of settingNames) {
      if (covered.has(name)) continue;
      assert.ok(['ANTHROPIC_API_KEY', 'KTRDR_STRATEGIES_DIR', 'KTRDR_AGENT_DATA_DIR'].includes(name), `${name} has no invalid-value test`);
    }
    assert.equal(settingNames.length, Object.keys(settingDefinitions).length);
  });

  test('the free-text settings take any path; an empty one is read as unset', () => {
    const config = loadConfig({ env: { ...base, KTRDR_AGENT_DATA_DIR: '', KTRDR_STRATEGIES_DIR: '', ANTHROPIC_API_KEY: '' } });
    assert.equal(config.settings.KTRDR_AGENT_DATA_DIR, undefined);
    assert.equal(config.settings.ANTHROPIC_API_KEY, undefined);
    assert.equal(config.dataDir, join(home.path, '.local/share/ktrdr-agent'));
    assert.equal(config.strategiesDir, join(home.path, '.local/share/ktrdr-agent/strategies'));
    const given = loadConfig({ env: { ...base, KTRDR_AGENT_DATA_DIR: join(home.path, 'data dir'), KTRDR_STRATEGIES_DIR: join(home.path, 'ß') } });
    assert.equal(given.dataDir, join(home.path, 'data dir'));
    assert.equal(given.strategiesDir, join(home.path, 'ß'));
  });

  test('one message lists every bad variable with what was given and what is expected', () => {
    const error = (() => {
      try {
        loadConfig({ env: { ...base, AGENT_MAX_TURNS: 'abc', GATE_BACKTEST_MIN_WIN_RATE: '4' } });
      } catch (thrown) {
        return thrown;
      }
      return assert.fail('expected the configuration to be refused');
    })();
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /AGENT_MAX_TURNS="abc" \(from the environment\): expected an integer from 1 to 100/);
    assert.match(error.message, /GATE_BACKTEST_MIN_WIN_RATE="4" \(from the environment\): expected a fraction/);
  });

  test('a buffer larger than the budget is refused', () => {
    assert.deepEqual(problemsOf({ AGENT_BUDGET_DAILY_USD: '1', AGENT_BUDGET_BUFFER_USD: '2' }), ['AGENT_BUDGET_BUFFER_USD']);
  });

  test('a model priced through AGENT_MODEL_PRICES is accepted', () => {
    assert.deepEqual(problemsOf({ AGENT_MODEL: 'my-model', AGENT_MODEL_PRICES: '{"my-model":{"input":1,"output":5}}' }), []);
  });

  test('env files: --env-file, then KTRDR_AGENT_ENV_FILE, then the user config dir; the environment wins', () => {
    const dir = tempDir();
    try {
      const flagFile = join(dir.path, 'flag.env');
      const envFile = join(dir.path, 'env.env');
      writeFileSync(flagFile, 'AGENT_MAX_TURNS=7\nAGENT_MODEL=claude-sonnet-5\n');
      writeFileSync(envFile, 'AGENT_MAX_TURNS=9\nAGENT_MAX_TOKENS=5000\nAGENT_RECENT_STRATEGIES_COUNT=3\n');
      const config = loadConfig({ env: { ...base, KTRDR_AGENT_ENV_FILE: envFile, AGENT_RECENT_STRATEGIES_COUNT: '2' }, envFile: flagFile });
      assert.equal(config.settings.AGENT_MAX_TURNS, 7);
      assert.equal(config.settings.AGENT_MAX_TOKENS, 5000);
      assert.equal(config.settings.AGENT_RECENT_STRATEGIES_COUNT, 2);
      assert.deepEqual(config.sources.AGENT_MAX_TURNS, { kind: 'file', path: flagFile, line: 1 });
      assert.deepEqual(config.sources.AGENT_RECENT_STRATEGIES_COUNT, { kind: 'environment' });
      assert.deepEqual(config.sources.AGENT_BUDGET_DAILY_USD, { kind: 'default' });
    } finally {
      dir.remove();
    }
  });

  test('the user config dir env file is read when present', () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir.path, 'ktrdr-agent'), { recursive: true });
      writeFileSync(join(dir.path, 'ktrdr-agent', 'agent.env'), 'AGENT_DESIGNER=baseline\n');
      const config = loadConfig({ env: { ...base, XDG_CONFIG_HOME: dir.path } });
      assert.equal(config.settings.AGENT_DESIGNER, 'baseline');
    } finally {
      dir.remove();
    }
  });

  test('a missing --env-file is an error that says so', () => {
    assert.throws(() => loadConfig({ env: base, envFile: '/nonexistent/agent.env' }), /Env file not found: \/nonexistent\/agent.env/);
  });

  test('secrets are masked in the effective settings', () => {
    const key = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz';
    const shown = describeConfig(loadConfig({ env: { ...base, ANTHROPIC_API_KEY: key } }));
    const entry = shown.find((s) => s.name === 'ANTHROPIC_API_KEY');
    assert.ok(entry?.value);
    assert.ok(!entry.value.includes(key.slice(8, -2)));
    assert.ok(!JSON.stringify(shown).includes(key));
  });

  test('a bad secret value is never echoed', () => {
    assert.throws(
      () => loadConfig({ env: { ...base, ANTHROPIC_API_KEY: 'sk-ant-secret-value-123456', AGENT_MAX_TURNS: 'x' } }),
      (error: unknown) => error instanceof ConfigError && /AGENT_MAX_TURNS/.test(error.message) && !error.message.includes('sk-ant-secret-value-123456'),
    );
  });
});

describe('credentials in URLs', () => {
  test('config never shows a password from a connection URL, valid or not', () => {
    const shown = describeConfig(
      loadConfig({ env: { HOME: home.path, DATABASE_URL: 'postgres://agent:hunter2secret@db:5432/agent', PUSHGATEWAY_URL: 'http://pg:s3cretpw@gw:9091' } }),
    );
    const text = JSON.stringify(shown);
    assert.ok(!text.includes('hunter2secret'));
    assert.ok(!text.includes('s3cretpw'));
    assert.match(text, /postgres:\/\/agent:\*\*\*\*@db:5432\/agent/);
    assert.throws(
      () => loadConfig({ env: { HOME: home.path, DATABASE_URL: 'mysql://agent:pw-in-error@db/x' } }),
      (error: unknown) => error instanceof ConfigError && /DATABASE_URL/.test(error.message) && !error.message.includes('pw-in-error'),
    );
  });
});
