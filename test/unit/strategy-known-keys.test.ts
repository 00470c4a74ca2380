import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MAX_STRATEGY_DEPTH } from '../../src/core/strategy/known-keys.ts';
import { validateStrategy } from '../../src/core/strategy/validate.ts';
import { parseStrategyYaml } from '../../src/core/strategy/yaml.ts';
import { validStrategy } from '../support/scripted-model.ts';

const examplesDirectory = new URL('../../../shared/ktrdr/strategies/', import.meta.url);

function errorPaths(config: unknown): string[] {
  return validateStrategy(config).findings.filter((f) => f.severity === 'error').map((f) => f.path);
}

describe('a strategy holds only the keys KTRDR v3 defines', () => {
  test("KTRDR's own example strategies pass", () => {
    for (const file of readdirSync(examplesDirectory).filter((f) => f.endsWith('.yaml'))) {
      const parsed = parseStrategyYaml(readFileSync(new URL(file, examplesDirectory)));
      assert.ok(parsed.ok, file);
      const unknown = validateStrategy(parsed.value).findings.filter((f) => /is not a key KTRDR/.test(f.message));
      assert.deepEqual(unknown, [], file);
    }
  });

  test('keys KTRDR does not define are refused, each with its path', () => {
    const config = validStrategy('keys_probe') as Record<string, any>;
    config.model = { ...config.model, path: '../../etc/passwd' };
    config.training_data = { ...config.training_data, data_path: '/etc' };
    config.training = { ...config.training, labels: { ...config.training?.labels, lookahead_bars: 3 } };
    const findings = validateStrategy(config).findings.filter((f) => /is not a key KTRDR/.test(f.message));
    assert.deepEqual(findings.map((f) => f.path).sort(), ['model.path', 'training.labels.lookahead_bars', 'training_data.data_path']);
    assert.match(findings.find((f) => f.path === 'model.path')!.message, /known: type, num_classes/);
  });

  test('__proto__ is refused, from YAML and from a JSON tool input alike', () => {
    const fromJson = JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(validStrategy('proto_probe')).slice(1)}`);
    assert.ok(errorPaths(fromJson).includes('__proto__'), JSON.stringify(errorPaths(fromJson)));
    const yaml = `__proto__: {polluted: true}\nname: proto_probe\n`;
    const parsed = parseStrategyYaml(yaml);
    if (parsed.ok) assert.ok(errorPaths(parsed.value).includes('__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('nesting is bounded: a 400-deep value inside an open section is refused without overflowing the stack', () => {
    const config = validStrategy('deep_probe') as Record<string, any>;
    let deep: Record<string, unknown> = { end: 1 };
    for (let i = 0; i < 400; i += 1) deep = { level: deep };
    config.indicators.rsi_14 = { ...config.indicators.rsi_14, params: deep };
    const findings = validateStrategy(config).findings.filter((f) => /nests deeper than/.test(f.message));
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.path.split('.').length, MAX_STRATEGY_DEPTH);
  });
});
