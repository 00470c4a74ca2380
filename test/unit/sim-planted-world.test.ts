import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildStrategy, candidatePairs } from '../../src/core/agent/baseline-designer.ts';
import { evaluateBacktestGate, evaluateTrainingGate } from '../../src/core/engine/gates.ts';
import { SeededRandom } from '../../src/core/kernel/random.ts';
import { inPlantedClass, parseWorld, plantableIndicators, plantDesign, resolveWorld, sharpeNoise, trueSharpeOf } from '../../src/core/sim/planted-world.ts';
import { analyzeDesign, simulateBacktest, simulateTraining } from '../../src/core/sim/quality.ts';

const defaultGates = {
  trainingMinAccuracy: 0.1,
  trainingMaxLoss: 0.8,
  trainingMinLossReduction: -0.5,
  trainingMinDirectionalAccuracy: 0.51,
  backtestMinWinRate: 0.1,
  backtestMaxDrawdown: 0.4,
  backtestMinSharpe: -0.5,
};

function design(types: [string, string], threshold = 0.02): Record<string, unknown> {
  const pair = candidatePairs().find(
    (candidate) =>
      candidate
        .map((fact) => fact.type)
        .sort()
        .join('+') === [...types].sort().join('+'),
  );
  assert.ok(pair, `no candidate pair ${types.join('+')}`);
  const config = buildStrategy('planted_test', pair, 'EURUSD', '1h', 0) as { training: { labels: { zigzag_threshold: number } } };
  config.training.labels.zigzag_threshold = threshold;
  return config as unknown as Record<string, unknown>;
}

/** Backtests of one design, each on its own seeded draw: their Sharpe ratios and how many passed both gates. */
function backtests(
  world: ReturnType<typeof resolveWorld>,
  config: Record<string, unknown>,
  runs: number,
  window = { startDate: '2023-01-01', endDate: '2024-01-01' },
) {
  const sharpes: number[] = [];
  let passedBoth = 0;
  for (let i = 0; i < runs; i++) {
    const planted = plantDesign(world, analyzeDesign(config), config);
    const training = simulateTraining(planted, new SeededRandom(1000 + i));
    const request = { symbol: 'EURUSD', timeframe: '1h', ...window, initialCapital: 100_000, commission: 0.001, slippage: 0.0005 };
    const backtest = simulateBacktest(training, planted, request, new SeededRandom(5000 + i));
    sharpes.push(backtest.sharpe);
    const trainingGate = evaluateTrainingGate(
      {
        accuracy: training.testAccuracy,
        finalLoss: training.finalTrainLoss,
        lossReduction: 1 - training.finalTrainLoss / training.initialLoss,
        testLoss: training.testLoss,
      },
      defaultGates,
    );
    const backtestGate = evaluateBacktestGate({ winRate: backtest.winRate, maxDrawdown: backtest.maxDrawdownPct, sharpe: backtest.sharpe }, defaultGates);
    if (trainingGate.passed && backtestGate.passed) passedBoth += 1;
  }
  const mean = sharpes.reduce((a, b) => a + b, 0) / runs;
  const deviation = Math.sqrt(sharpes.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (runs - 1));
  return { mean, deviation, passedBoth };
}

describe('planted worlds', () => {
  test('fix the class from the seed when it is left out, the same way every time, among the plantable indicators', () => {
    const types = plantableIndicators();
    const first = resolveWorld({ kind: 'pair' }, 4);
    assert.deepEqual(resolveWorld({ kind: 'pair' }, 4), first);
    assert.equal(first.kind, 'pair');
    if (first.kind === 'pair') {
      assert.notEqual(first.indicators[0], first.indicators[1]);
      for (const type of first.indicators) assert.ok(types.includes(type), type);
    }
    const drawn = new Set(Array.from({ length: 12 }, (_, seed) => JSON.stringify(resolveWorld({ kind: 'indicator' }, seed))));
    assert.ok(drawn.size > 1, 'another seed draws another indicator');
    const label = resolveWorld({ kind: 'label' }, 2);
    assert.ok(label.kind === 'label' && label.source === 'zigzag' && label.threshold !== null);
  });

  test('refuse an unknown indicator, a pair of one indicator and an impossible Sharpe, naming the value', () => {
    assert.throws(() => resolveWorld({ kind: 'indicator', indicator: 'atr' }, 1), /unknown indicator 'atr'.*use one of .*rsi/);
    assert.throws(() => resolveWorld({ kind: 'pair', indicators: ['rsi', 'RSI'] }, 1), /two different indicators, got rsi twice/);
    assert.throws(() => resolveWorld({ kind: 'indicator', sharpe: 40 }, 1), /between -5 and 5, got 40/);
  });

  test('place a design in the class by its indicator, its pair or its labels', () => {
    const indicator = resolveWorld({ kind: 'indicator', indicator: 'mfi' }, 1);
    assert.equal(inPlantedClass(indicator, design(['mfi', 'rsi'])), true);
    assert.equal(inPlantedClass(indicator, design(['adx', 'rsi'])), false);
    const pair = resolveWorld({ kind: 'pair', indicators: ['rsi', 'adx'] }, 1);
    assert.equal(inPlantedClass(pair, design(['adx', 'rsi'])), true);
    assert.equal(inPlantedClass(pair, design(['rsi', 'mfi'])), false);
    const label = resolveWorld({ kind: 'label', threshold: 0.025 }, 1);
    assert.equal(inPlantedClass(label, design(['adx', 'rsi'], 0.025)), true);
    assert.equal(inPlantedClass(label, design(['adx', 'rsi'], 0.02)), false);
    const none = resolveWorld({ kind: 'no_edge' }, 1);
    assert.equal(trueSharpeOf(none, design(['adx', 'rsi'])), 0);
    assert.equal(trueSharpeOf(pair, design(['adx', 'rsi'])), 0.6);
  });

  test('show the true Sharpe plus noise of KTRDR size for the window, and train both classes well enough to pass', () => {
    const world = resolveWorld({ kind: 'indicator', indicator: 'rsi', sharpe: 0.6 }, 1);
    const edge = backtests(world, design(['rsi', 'adx']), 300);
    const none = backtests(world, design(['mfi', 'adx']), 300);
    // A year of hourly forex bars is about 6,257 bars: a standard error of sqrt(252 / 6257) = 0.20.
    assert.ok(Math.abs(sharpeNoise(6257) - 0.2) < 0.005);
    assert.ok(Math.abs(edge.mean - 0.6) < 0.05, `mean Sharpe with the edge ${edge.mean}`);
    assert.ok(Math.abs(none.mean) < 0.05, `mean Sharpe without ${none.mean}`);
    for (const figures of [edge, none]) assert.ok(Math.abs(figures.deviation - 0.2) < 0.03, `noise ${figures.deviation}`);
    assert.ok(edge.passedBoth > 280, `designs with the edge passed both gates ${edge.passedBoth} times of 300`);
    assert.ok(none.passedBoth > 150 && none.passedBoth < edge.passedBoth, `designs without it passed ${none.passedBoth} times`);
    // Four years instead of one: half the noise.
    const longer = backtests(world, design(['mfi', 'adx']), 300, { startDate: '2020-01-01', endDate: '2024-01-01' });
    assert.ok(Math.abs(longer.deviation - 0.1) < 0.02, `noise over four years ${longer.deviation}`);
  });

  test('are read from the command line in every documented form, and a bad one names the forms', () => {
    assert.deepEqual(parseWorld('no-edge'), { kind: 'no_edge' });
    assert.deepEqual(parseWorld('indicator'), { kind: 'indicator' });
    assert.deepEqual(parseWorld('indicator:mfi@0.8'), { kind: 'indicator', indicator: 'mfi', sharpe: 0.8 });
    assert.deepEqual(parseWorld('pair:rsi+adx'), { kind: 'pair', indicators: ['rsi', 'adx'] });
    assert.deepEqual(parseWorld('label:zigzag=0.02'), { kind: 'label', source: 'zigzag', threshold: 0.02 });
    assert.throws(() => parseWorld('everything'), /unknown world 'everything': use no-edge, indicator/);
    assert.throws(() => parseWorld('pair:rsi'), /two indicator types joined by '\+'/);
  });
});
