import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildStrategy, candidatePairs } from '../../src/core/agent/baseline-designer.ts';
import { findNearCopy, isNearCopy } from '../../src/core/research/near-copy.ts';

type Strategy = Record<string, any>;

function design(name = 'near_a'): Strategy {
  const pair = candidatePairs().find(
    (candidate) =>
      candidate
        .map((fact) => fact.type)
        .sort()
        .join('+') === 'adx+rsi',
  )!;
  return buildStrategy(name, pair, 'EURUSD', '1h', 1) as Strategy;
}

describe('near-copies', () => {
  test('a renamed design with every number within the tolerance is a near-copy; one number beyond it is not', () => {
    const base = design();
    const nudged = structuredClone(design('near_b'));
    nudged.training.labels.zigzag_threshold *= 1.08;
    nudged.training.learning_rate *= 0.95;
    assert.equal(isNearCopy(nudged, base, 0.1), true);
    assert.equal(isNearCopy(nudged, base, 0.05), false);
    const moved = structuredClone(nudged);
    moved.training.labels.zigzag_threshold = base.training.labels.zigzag_threshold * 1.3;
    assert.equal(isNearCopy(moved, base, 0.1), false);
  });

  test('another network size, label source or indicator set is never a near-copy, however close the numbers', () => {
    const base = design();
    const network = structuredClone(base);
    network.model.architecture.hidden_layers = [64, 32];
    const labels = structuredClone(base);
    labels.training.labels.source = 'triple_barrier';
    assert.equal(isNearCopy(network, base, 0.5), false);
    assert.equal(isNearCopy(labels, base, 0.5), false);
    assert.equal(
      findNearCopy(
        base,
        [
          { id: 7, strategy: null },
          { id: 8, strategy: network },
          { id: 9, strategy: design('near_c') },
        ],
        0.1,
      )?.id,
      9,
    );
  });
});
