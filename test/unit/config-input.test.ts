import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseDailyLimit } from '../../src/core/cli/services/budget-set.ts';
import { redactSecrets } from '../../src/core/kernel/secrets.ts';
import { ConfigError, loadConfig } from '../../src/core/config/load.ts';
import { MAX_ENV_FILE_BYTES } from '../../src/core/config/env-file.ts';
import { AgentError } from '../../src/core/kernel/errors.ts';
import { tempDir } from '../support/databases.ts';

const home = tempDir('ktrdr-agent-home-');
const base = { HOME: home.path };

function withEnvFile<T>(content: string | Buffer, work: (path: string) => T): T {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'agent.env');
    writeFileSync(path, content);
    return work(path);
  } finally {
    dir.remove();
  }
}

function loadError(options: Parameters<typeof loadConfig>[0]): AgentError {
  try {
    loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof AgentError, String(error));
    return error;
  }
  assert.fail('expected the configuration to be refused');
}

describe('env files are read safely and reported precisely', () => {
  test('a UTF-8 byte-order mark and CRLF line ends are accepted', () => {
    const config = withEnvFile('\uFEFFAGENT_MAX_TURNS=7\r\nAGENT_MODEL="claude-sonnet-5"\r\n# comment\r\n', (envFile) => loadConfig({ env: base, envFile }));
    assert.equal(config.settings.AGENT_MAX_TURNS, 7);
    assert.equal(config.settings.AGENT_MODEL, 'claude-sonnet-5');
  });

  test('quotes, export, inline comments and multi-line values follow the dotenv grammar', () => {
    const config = withEnvFile(
      'export AGENT_MAX_TURNS=8 # turns\nAGENT_MODEL=\'claude-sonnet-5\'\nAGENT_MODEL_PRICES="{\\"m\\":\n{\\"input\\":1,\\"output\\":5}}"\n',
      (envFile) => loadConfig({ env: base, envFile }),
    );
    assert.equal(config.settings.AGENT_MAX_TURNS, 8);
    assert.equal(config.settings.AGENT_MODEL, 'claude-sonnet-5');
    assert.equal(config.settings.AGENT_MODEL_PRICES, '{"m":\n{"input":1,"output":5}}');
  });

  test('malformed lines are refused, each named with its file and line', () => {
    withEnvFile('AGENT_MAX_TURNS=7\nthis line is wrong\n1BAD=x\nAGENT_MODEL="open\n', (envFile) => {
      const error = loadError({ env: base, envFile });
      assert.equal(error.exitCode, 2);
      assert.match(error.message, new RegExp(`${envFile}:2: "this line is wrong" is not KEY=value`));
      assert.match(error.message, new RegExp(`${envFile}:3: "1BAD" is not a variable name`));
      assert.match(error.message, new RegExp(`${envFile}:4: the value of AGENT_MODEL opens a " quote that is never closed`));
    });
  });

  test('an unknown key is warned about with the setting it probably means, and ignored', () => {
    const config = withEnvFile('AGENT_MAX_TURNS=7\nAGENT_BUGDET_DAILY_USD=3\nSOMETHING_ELSE=1\nOTEL_SERVICE_NAME=x\n', (envFile) =>
      loadConfig({ env: base, envFile }),
    );
    assert.equal(config.settings.AGENT_BUDGET_DAILY_USD, 5);
    assert.equal(config.warnings.length, 2);
    assert.match(config.warnings[0]!, /agent\.env:2: unknown setting AGENT_BUGDET_DAILY_USD, ignored \(did you mean AGENT_BUDGET_DAILY_USD\?\)/);
    assert.match(config.warnings[1]!, /agent\.env:3: unknown setting SOMETHING_ELSE, ignored$/);
  });

  test('a bad value names the file and line it came from', () => {
    withEnvFile('# settings\nAGENT_MAX_TURNS=7\n\nAGENT_MAX_TOKENS=lots\n', (envFile) => {
      const error = loadError({ env: base, envFile });
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`AGENT_MAX_TOKENS="lots" \\(from ${envFile}:4\\): expected an integer`));
    });
  });

  test('only regular files are read: a directory and a device are refused with a clear error', () => {
    for (const path of [home.path, '/dev/zero', '/dev/null']) {
      const error = loadError({ env: base, envFile: path });
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /not a regular file/);
    }
  });

  test('a file over the size bound is refused without reading it whole', () => {
    withEnvFile(Buffer.alloc(MAX_ENV_FILE_BYTES + 1, 0x23), (envFile) => {
      const error = loadError({ env: base, envFile });
      assert.match(error.message, new RegExp(`at most ${MAX_ENV_FILE_BYTES} bytes`));
    });
  });

  test('a file that is not UTF-8 is refused', () => {
    withEnvFile(Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x0a]), (envFile) => {
      assert.match(loadError({ env: base, envFile }).message, /not UTF-8/);
    });
  });
});

describe('one decimal number syntax everywhere', () => {
  for (const given of ['0x10', '1e1', '0b1', 'Infinity', '16abc', '']) {
    test(`AGENT_BUDGET_DAILY_USD=${JSON.stringify(given)} is refused (environment and env file), like budget set`, () => {
      if (given !== '') assert.ok(loadError({ env: { ...base, AGENT_BUDGET_DAILY_USD: given } }) instanceof ConfigError);
      assert.throws(() => parseDailyLimit(given), /Invalid budget/);
    });
  }

  test('0x10 in an env file is refused too', () => {
    withEnvFile('AGENT_BUDGET_DAILY_USD=0x10\n', (envFile) => {
      assert.match(loadError({ env: base, envFile }).message, /AGENT_BUDGET_DAILY_USD="0x10" \(from .*agent\.env:1\)/);
    });
  });

  test('plain decimals are read the same by the settings and by budget set', () => {
    for (const [given, value] of [
      ['16', 16],
      ['2.5', 2.5],
      ['.5', 0.5],
      [' 3 ', 3],
    ] as const) {
      assert.equal(loadConfig({ env: { ...base, AGENT_BUDGET_DAILY_USD: given } }).settings.AGENT_BUDGET_DAILY_USD, value);
      assert.equal(parseDailyLimit(given).limitUsd, value);
    }
    assert.equal(loadConfig({ env: { ...base, GATE_BACKTEST_MIN_SHARPE: '-1.5' } }).settings.GATE_BACKTEST_MIN_SHARPE, -1.5);
  });
});

describe('all-zero model prices', () => {
  const zero = '{"claude-opus-5-5":{"input":0,"output":0,"cacheWrite":0,"cacheRead":0}}';
  test('are refused while the budget is enforced: they would switch it off', () => {
    const error = loadError({ env: { ...base, AGENT_MODEL_PRICES: zero } });
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(
      error.problems.map((p) => p.name),
      ['AGENT_MODEL_PRICES'],
    );
    assert.match(error.message, /AGENT_BUDGET_ENFORCEMENT=false/);
  });

  test('are accepted when enforcement is explicitly off', () => {
    assert.equal(loadConfig({ env: { ...base, AGENT_MODEL_PRICES: zero, AGENT_BUDGET_ENFORCEMENT: 'false' } }).settings.AGENT_BUDGET_ENFORCEMENT, false);
  });
});

describe('the secret registry', () => {
  test('a key that only an env file holds, and URL passwords, are registered when the configuration loads', () => {
    const key = 'sk-ant-fileonly-0123456789abcdef';
    withEnvFile(
      `ANTHROPIC_API_KEY=${key}\nPUSHGATEWAY_URL=http://push:pushpassword99@127.0.0.1:9091\nOTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20tok-0123456789\n`,
      (envFile) => {
        loadConfig({ env: base, envFile });
      },
    );
    assert.equal(redactSecrets(`a ${key} b`), 'a **** b');
    assert.equal(redactSecrets('x pushpassword99 y'), 'x **** y');
    assert.doesNotMatch(redactSecrets('Bearer%20tok-0123456789'), /tok-0123456789/);
  });
});
