import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { createSimulator } from '../../src/core/sim/index.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

const sharedStrategies = fileURLToPath(new URL('../../../shared/ktrdr/strategies/', import.meta.url));

describe('strategy validate', () => {
  const dir = tempDir();
  const env = { HOME: dir.path };
  after(() => dir.remove());

  test('every strategy KTRDR ships is valid: exit 0', async () => {
    const files = readdirSync(sharedStrategies)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(sharedStrategies, f));
    assert.ok(files.length >= 5);
    const result = await runCli(['strategy', 'validate', ...files], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal((result.stdout.match(/^valid /gm) ?? []).length, files.length);
  });

  test('an invalid file: exit 1, one line per problem addressed by path', async () => {
    const file = join(dir.path, 'broken.yaml');
    writeFileSync(
      file,
      [
        'name: broken',
        'training_data: {symbols: {mode: single, symbol: EURUSD}, timeframes: {mode: single, timeframe: "1h"}}',
        'indicators: {rsi_14: {type: rsi, period: 14}}',
        'fuzzy_sets: {rsi_momentum: {indicator: rsi_99, low: [0, 20, 40]}}',
        'nn_inputs: [{fuzzy_set: rsi_momentum, timeframes: all}]',
        '',
      ].join('\n'),
    );
    const result = await runCli(['strategy', 'validate', file], env);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /INVALID .*broken\.yaml/);
    assert.match(result.stdout, /error fuzzy_sets\.rsi_momentum\.indicator: .*rsi_99/);
  });

  test('--json: one document with every file and finding', async () => {
    const file = join(dir.path, 'v2.yaml');
    writeFileSync(file, 'name: v2\nindicators:\n  - name: rsi\n    period: 14\n');
    const good = join(sharedStrategies, 'v3_minimal.yaml');
    const result = await runCli(['strategy', 'validate', good, file, '--json'], env);
    assert.equal(result.code, 1);
    const parsed = JSON.parse(result.stdout) as {
      valid: boolean;
      files: { file: string; valid: boolean; findings: { severity: string; path: string; message: string }[] }[];
    };
    assert.equal(parsed.valid, false);
    assert.deepEqual(
      parsed.files.map((f) => f.valid),
      [true, false],
    );
    assert.ok(parsed.files[1]!.findings.some((f) => f.severity === 'error' && /v2/i.test(f.message)));
  });

  test('a YAML alias bomb is refused with a clear error, not expanded', async () => {
    const file = join(dir.path, 'bomb.yaml');
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await runCli(['strategy', 'validate', file], env);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /error \(yaml\): .*alias/i);
  });

  test('--online: KTRDR validates the files in its strategies directory and says so for the others', async () => {
    const strategiesDir = join(dir.path, 'ktrdr-strategies');
    mkdirSync(strategiesDir);
    copyFileSync(join(sharedStrategies, 'v3_minimal.yaml'), join(strategiesDir, 'v3_minimal.yaml'));
    const simulator = await createSimulator({ strategiesDir, seed: 1 });
    try {
      const onlineEnv = { ...env, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir };
      const inside = await runCli(['strategy', 'validate', join(strategiesDir, 'v3_minimal.yaml'), '--online', '--json'], onlineEnv);
      assert.equal(inside.code, 0, inside.stdout + inside.stderr);
      const insideReport = JSON.parse(inside.stdout) as { files: { findings: { path: string }[] }[] };
      assert.ok(!insideReport.files[0]!.findings.some((f) => f.path === '(ktrdr)'));
      const outside = await runCli(['strategy', 'validate', join(sharedStrategies, 'v3_minimal.yaml'), '--online'], onlineEnv);
      assert.equal(outside.code, 0);
      assert.match(outside.stdout, /warning \(ktrdr\): not in KTRDR's strategies directory/);
    } finally {
      await simulator.close();
    }
  });
});
