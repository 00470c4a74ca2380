import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { indicatorPairs } from '../../src/core/db/repositories/experiment-tallies.ts';
import { strategyFeatures, strategyFingerprint } from '../../src/core/research/fingerprint.ts';
import { validStrategy } from '../support/scripted-model.ts';

describe('strategy fingerprint', () => {
  test('name, description, hypothesis, ids and order do not change it', () => {
    const a = validStrategy('first');
    const b = structuredClone(validStrategy('second')) as Record<string, any>;
    b.description = 'something else entirely';
    b.hypothesis = 'another story';
    // Rename the indicator ids and fuzzy sets, and list everything in another order.
    b.indicators = { adx_fast: b.indicators.adx_14, momentum: b.indicators.rsi_14 };
    const sets = b.fuzzy_sets as Record<string, { indicator: string }>;
    b.fuzzy_sets = Object.fromEntries(
      Object.entries(sets)
        .reverse()
        .map(([name, set]) => [`x_${name}`, { ...set, indicator: set.indicator.replace('adx_14', 'adx_fast').replace('rsi_14', 'momentum') }]),
    );
    b.nn_inputs = [...(b.nn_inputs as { fuzzy_set: string }[])].reverse().map((i) => ({ ...i, fuzzy_set: `x_${i.fuzzy_set}` }));
    assert.equal(strategyFingerprint(a), strategyFingerprint(b));
  });

  test('what it computes changes it: a parameter, a zone, the network, the labels', () => {
    const base = strategyFingerprint(validStrategy('s'));
    const variants: ((c: Record<string, any>) => void)[] = [
      (c) => (c.indicators.rsi_14.period = 21),
      (c) => (c.fuzzy_sets.rsi_level.oversold.parameters = [0, 20, 35]),
      (c) => (c.model.architecture.hidden_layers = [16, 8]),
      (c) => (c.training.labels.zigzag_threshold = 0.02),
    ];
    for (const change of variants) {
      const config = structuredClone(validStrategy('s')) as Record<string, any>;
      change(config);
      assert.notEqual(strategyFingerprint(config), base);
    }
  });

  test('features: sorted indicator types, label source and threshold, architecture, symbol and timeframe', () => {
    const features = strategyFeatures(validStrategy('s'));
    assert.deepEqual(features.indicatorTypes, ['adx', 'rsi']);
    assert.equal(features.indicatorKey, 'adx+rsi');
    assert.equal(features.symbol, 'EURUSD');
    assert.equal(features.timeframe, '1h');
    assert.equal(features.labelSource, 'zigzag');
    assert.equal(typeof features.architecture, 'string');
  });

  test("coverage counts every pair of a design's indicator types, each once, in code-point order", () => {
    assert.deepEqual(indicatorPairs('adx+aroon+rsi'), ['adx+aroon', 'adx+rsi', 'aroon+rsi']);
    assert.deepEqual(indicatorPairs('rsi+adx+rsi'), ['adx+rsi']);
    assert.deepEqual(indicatorPairs('rsi'), []);
    assert.deepEqual(indicatorPairs('Zlema+adx'), ['Zlema+adx']);
  });
});
