import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideSearch, describeRegion, regionOf, type SearchObservation, type SearchRegion } from '../../src/core/research/search-policy.ts';

const PAIRS = ['adx+rsi', 'mfi+rsi', 'aroon+cmf', 'rvi+williamsr', 'adx+stochastic', 'cmf+mfi'];
const catalogue = {
  indicators: PAIRS,
  labels: ['zigzag 0.015', 'zigzag 0.02', 'zigzag 0.025'],
  network: ['16x8', '32x16'],
  timeframe: ['1h'],
  symbol: ['EURUSD', 'GBPUSD'],
};

function region(indicators: string): SearchRegion {
  return { indicators, labels: 'zigzag 0.02', network: '16x8', timeframe: '1h', symbol: 'EURUSD' };
}

let nextId = 1;
function tried(indicators: string, scores: (number | null)[]): SearchObservation[] {
  return scores.map((score) => ({ experimentId: nextId++, region: region(indicators), passed: score !== null, score }));
}

/** The directive of each of `cycles` cycles on a fixed history (the seed changes with the cycle, as in the pass). */
function directives(history: SearchObservation[], cycles: number, extra: Partial<Parameters<typeof decideSearch>[0]> = {}) {
  return Array.from({ length: cycles }, (_, cycle) => decideSearch({ history, catalogue, seed: `test:${cycle}`, ...extra }));
}

describe('search policy', () => {
  test('is deterministic for a history and a seed', () => {
    const history = [...tried('adx+rsi', [0.4, null]), ...tried('mfi+rsi', [0.1])];
    assert.deepEqual(decideSearch({ history, catalogue, seed: 'x:7' }), decideSearch({ history, catalogue, seed: 'x:7' }));
  });

  test('explores when nothing has been tried, in a region of the catalogue', () => {
    const directive = decideSearch({ history: [], catalogue, seed: 1 });
    assert.equal(directive.mode, 'explore');
    assert.equal(directive.parentExperimentId, null);
    assert.ok(PAIRS.includes(directive.region.indicators!));
    assert.ok(catalogue.labels.includes(directive.region.labels!));
  });

  test('a lucky region tried twice does not beat the untried ones for ever: they keep being explored, more as its luck fades', () => {
    const lucky = tried('adx+rsi', [0.5, 0.5]);
    const early = directives(lucky, 200);
    const explored = early.filter((d) => d.mode === 'explore' && d.region.indicators !== 'adx+rsi').length;
    assert.ok(explored >= 40, `untried regions explored in ${explored} of 200 cycles`);
    assert.ok(
      early.some((d) => d.mode === 'exploit' && d.region.indicators === 'adx+rsi'),
      'the lucky region is still refined sometimes',
    );
    // The same region after eight more tries that showed nothing: the untried regions win more often.
    const faded = directives([...lucky, ...tried('adx+rsi', [0, 0.05, -0.1, null, 0, 0.02, null, -0.05])], 200);
    const exploredLater = faded.filter((d) => d.mode === 'explore' && d.region.indicators !== 'adx+rsi').length;
    assert.ok(exploredLater > explored, `explored ${exploredLater} after the luck faded, against ${explored} before`);
    for (const pair of PAIRS.slice(1))
      assert.ok(
        faded.some((d) => d.region.indicators === pair),
        `${pair} is never chosen`,
      );
  });

  test('a region with many passes is exploited, through its best experiment', () => {
    const strong = tried('mfi+rsi', [0.7, 0.6, 0.8, 0.65, 0.75, 0.7, 0.9, 0.6, 0.7, 0.8]);
    const history = [...strong, ...tried('adx+rsi', [0.1, null]), ...tried('aroon+cmf', [null, null]), ...tried('rvi+williamsr', [0.05])];
    const decided = directives(history, 100);
    const exploits = decided.filter((d) => d.mode === 'exploit' && d.region.indicators === 'mfi+rsi');
    assert.ok(exploits.length >= 85, `exploited in ${exploits.length} of 100 cycles`);
    const best = strong.find((o) => o.score === 0.9)!;
    for (const directive of exploits) assert.equal(directive.parentExperimentId, best.experimentId);
    assert.match(exploits[0]!.reason, new RegExp(`refine its best, experiment #${best.experimentId}`));
    // Every region keeps a chance: over many cycles some are explored even so.
    assert.ok(
      decided.some((d) => d.mode === 'explore'),
      'never explores',
    );
  });

  test('never names an experiment another session is refining: the next best, or exploration when none is left', () => {
    const strong = tried('mfi+rsi', [0.9, 0.8, 0.85, 0.9, 0.8]);
    const [first, second] = [...strong].sort((a, b) => b.score! - a.score! || b.experimentId - a.experimentId);
    const claimed = new Set([first!.experimentId]);
    for (const directive of directives(strong, 30, { claimed })) assert.notEqual(directive.parentExperimentId, first!.experimentId);
    assert.ok(directives(strong, 30, { claimed }).some((d) => d.parentExperimentId === second!.experimentId));
    const all = new Set(strong.map((o) => o.experimentId));
    const none = directives(strong, 30, { claimed: all });
    assert.ok(none.every((d) => d.parentExperimentId === null));
    assert.ok(none.some((d) => d.region.indicators === 'mfi+rsi' && /being refined by other sessions/.test(d.reason)));
  });

  test('the random control only explores, in regions drawn uniformly', () => {
    const history = tried('mfi+rsi', [0.9, 0.8, 0.85, 0.9, 0.8]);
    const decided = directives(history, 120, { policy: 'uniform' });
    assert.ok(decided.every((d) => d.mode === 'explore' && d.policy === 'uniform'));
    const counts = new Map<string, number>();
    for (const d of decided) counts.set(d.region.indicators!, (counts.get(d.region.indicators!) ?? 0) + 1);
    assert.equal(counts.size, PAIRS.length);
    assert.ok((counts.get('mfi+rsi') ?? 0) < 40, 'the strong region is not favoured');
  });

  test('records the posterior it read and places a design by its features', () => {
    const directive = decideSearch({ history: tried('adx+rsi', [0.3]), catalogue, seed: 3 });
    assert.ok(directive.posterior.length > 0 && directive.posterior.length <= 8);
    const adx = directive.posterior.find((p) => p.value === 'adx+rsi');
    assert.ok(adx && adx.tried === 1 && adx.passed === 1 && Math.abs(adx.mean - 0.15) < 1e-9);
    assert.deepEqual(directive.observed, { experiments: 1, passed: 1 });
    const placed = regionOf({ indicatorKey: 'adx+rsi', labelSource: 'zigzag', labelThreshold: 0.02, architecture: '32x16', timeframe: '1h', symbol: 'EURUSD' });
    assert.equal(describeRegion(placed), 'indicators adx+rsi, labels zigzag 0.02, network 32x16, 1h, EURUSD');
  });
});
