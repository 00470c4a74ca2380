import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MAX_STRATEGY_DEPTH } from '../../src/core/strategy/known-keys.ts';
import { validateStrategy } from '../../src/core/strategy/validate.ts';
import { parseStrategyYaml } from '../../src/core/strategy/yaml.ts';
import { validStrategy } from '../support/scripted-model.ts';

/** The seven of ../shared/ktrdr/strategies/, identical to KTRDR's own at 2c5c7173 (test/fixtures/ktrdr-strategies/README.md). */
const examplesDirectory = new URL('../fixtures/ktrdr-strategies/', import.meta.url);
const sharedExamples = new Set([
  'regression_example_v3.yaml',
  'v3_minimal.yaml',
  'v3_multi_indicator.yaml',
  'v3_multi_output_indicator.yaml',
  'v3_multi_symbol.yaml',
  'v3_multi_timeframe.yaml',
  'v3_single_indicator.yaml',
]);

function errorPaths(config: unknown): string[] {
  return validateStrategy(config)
    .findings.filter((f) => f.severity === 'error')
    .map((f) => f.path);
}

const ktrdrRepositoryStrategies = new URL('../fixtures/ktrdr-strategies/', import.meta.url);

describe('unknown keys: a warning where KTRDR ignores them, an error only where they are dangerous', () => {
  test("KTRDR's own example strategies pass", () => {
    for (const file of readdirSync(examplesDirectory).filter((f) => sharedExamples.has(f))) {
      const parsed = parseStrategyYaml(readFileSync(new URL(file, examplesDirectory)));
      assert.ok(parsed.ok, file);
      const unknown = validateStrategy(parsed.value).findings.filter((f) => /is not a key KTRDR|KTRDR does not read/.test(f.message));
      assert.deepEqual(unknown, [], file);
    }
  });

  test("every strategy of KTRDR's repository (2c5c7173) is valid: LSTM sequence_length, triple-barrier labels, num_classes", () => {
    const files = readdirSync(ktrdrRepositoryStrategies).filter((f) => f.endsWith('.yaml'));
    assert.equal(files.length, 23);
    for (const file of files) {
      const parsed = parseStrategyYaml(readFileSync(new URL(file, ktrdrRepositoryStrategies)));
      assert.ok(parsed.ok, file);
      // KTRDR validates by file name and its own strategies do not all repeat it in `name:`: as `strategy validate` does.
      const result = validateStrategy(parsed.value, { expectedName: file.replace(/\.yaml$/, ''), nameMismatch: 'warning' });
      assert.deepEqual(
        result.findings.filter((f) => f.severity === 'error'),
        [],
        file,
      );
    }
    const lstm = parseStrategyYaml(readFileSync(new URL('experiment_h003_lstm.yaml', ktrdrRepositoryStrategies)));
    assert.ok(lstm.ok);
    // Read by KTRDR (ktrdr/neural/models/lstm.py `config["architecture"]["sequence_length"]`): no finding at all.
    assert.deepEqual(
      validateStrategy(lstm.value).findings.filter((f) => f.path === 'model.architecture.sequence_length'),
      [],
    );
  });

  test('keys nothing reads are warnings naming where they are; path-like values under them are refused', () => {
    const config = validStrategy('keys_probe') as Record<string, any>;
    config.model = { ...config.model, path: '../../etc/passwd' };
    config.training_data = { ...config.training_data, data_path: '/etc' };
    config.training = { ...config.training, validation_split: 0.3, labels: { ...config.training?.labels, lookahead_bars: 3 } };
    config.decisions = { ...config.decisions, num_classes: 3 };
    const result = validateStrategy(config);
    assert.deepEqual(errorPaths(config).sort(), ['model.path', 'training_data.data_path']);
    assert.equal(result.valid, false);
    assert.match(result.findings.find((f) => f.path === 'model.path')!.message, /path-like value "..\/..\/etc\/passwd"/);
    const warnings = result.findings.filter((f) => f.severity === 'warning' && /KTRDR does not read this key; it has no effect/.test(f.message));
    assert.deepEqual(warnings.map((f) => f.path).sort(), ['decisions.num_classes', 'training.labels.lookahead_bars', 'training.validation_split']);
    delete config.model.path;
    delete config.training_data.data_path;
    config.training_data.data_note = 'plain text';
    const relaxed = validateStrategy(config);
    assert.equal(relaxed.valid, true, JSON.stringify(relaxed.findings));
    assert.match(relaxed.findings.find((f) => f.path === 'training_data.data_note')!.message, /KTRDR ignores it, so it has no effect/);
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
    config.model = { ...config.model, unknown_nest: { __proto__: null, inner: JSON.parse('{"__proto__": 1}') } };
    const findings = validateStrategy(config).findings.filter((f) => /nests deeper than/.test(f.message));
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.path.split('.').length, MAX_STRATEGY_DEPTH);
    // Inside a key nothing reads, a forbidden key is still found.
    assert.ok(errorPaths(config).includes('model.unknown_nest.inner.__proto__'), JSON.stringify(errorPaths(config)));
  });
});
