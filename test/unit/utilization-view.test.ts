import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeLimit, utilizationLines, utilizationSchema, utilizationSummary, type Utilization } from '../../src/core/cli/views/utilization.ts';

const NOW = new Date('2026-12-07T01:00:00.000Z');

function utilization(changes: Partial<Utilization> = {}): Utilization {
  return utilizationSchema.parse({
    asOf: new Date(NOW.getTime() - 120_000).toISOString(),
    tickId: 'tick_20261207005800_abcd1234',
    mode: 'auto',
    trainingWorkers: { total: 4, busy: 3, idle: 1 },
    busyFraction: 0.75,
    workersError: null,
    activeSessions: 5,
    maxActive: 6,
    newCyclesStarted: 1,
    limitedBy: 'workers',
    costPerCycleUsd: 0.036,
    affordableCycles: 40,
    ...changes,
  });
}

describe('KTRDR utilization in status', () => {
  test('workers busy and idle, sessions, and what limits new cycles', () => {
    const lines = utilizationLines(utilization(), 5, NOW, false);
    assert.deepEqual(lines, [
      '=== KTRDR Utilization ===',
      'Training workers: 3 busy, 1 idle of 4 (75.0% busy), as of 2 minutes ago',
      'Sessions: 5 active (auto, at most 6 now)',
      'New cycles: limited by idle training workers (one new cycle per idle worker)',
    ]);
  });

  test("each limit in the operator's words", () => {
    assert.equal(describeLimit(utilization({ limitedBy: 'budget' })), 'the budget (pays for 40 more cycle(s) at $0.0360 per cycle)');
    assert.equal(describeLimit(utilization({ limitedBy: 'cap', maxActive: 8 })), 'AGENT_MAX_SESSIONS_CAP (8)');
    assert.equal(describeLimit(utilization({ limitedBy: 'setting', mode: 'fixed', maxActive: 1 })), 'AGENT_MAX_CONCURRENT_SESSIONS (1)');
    assert.match(describeLimit(utilization({ limitedBy: 'setting', trainingWorkers: null })), /could not be read/);
    assert.equal(describeLimit(utilization({ limitedBy: 'paused' })), 'paused (ktrdr-agent resume)');
    assert.equal(describeLimit(utilization({ limitedBy: 'workers', trainingWorkers: { total: 2, busy: 2, idle: 0 } })), 'no idle training worker');
  });

  test('before any tick read KTRDR, and when the list could not be read', () => {
    assert.deepEqual(utilizationLines(null, 0, NOW, false).slice(1), ["Not known yet: the next tick reads KTRDR's workers."]);
    assert.equal(utilizationSummary(null, 0), 'KTRDR workers: not known yet');
    const failed = utilization({ trainingWorkers: null, busyFraction: null, workersError: 'KTRDR answered 404', limitedBy: 'setting', maxActive: 1 });
    assert.equal(utilizationSummary(failed, 1), 'training workers unknown · 1 session(s) · new cycles limited by fallback (worker list unreadable)');
  });
});
