import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ktrdrHealth, mayFollow, mayStartCycles, noteFault, openLedger, passSummary } from '../../src/core/engine/pass-ledger.ts';
import type { BudgetDay } from '../../src/core/db/repositories/budget.ts';
import type { HeldFault } from '../../src/core/db/repositories/control.ts';

const day: BudgetDay = {
  date: '2026-12-07',
  limitUsd: 10,
  usedUsd: 2.5,
  reservedUsd: 1,
  invocations: 3,
  cyclesStarted: 1,
  cyclesCompleted: 0,
  updatedAt: new Date('2026-12-07T01:00:00Z'),
};
const since = new Date('2026-12-07T01:00:00Z');
const held: HeldFault = { faultClass: 'anthropic_unreachable', cause: 'connection refused', since, lastAt: since, streak: 2, keyFingerprint: null };

describe('the pass ledger', () => {
  test('a fresh ledger lets the pass start cycles and follow short work, and knows nothing of KTRDR', () => {
    const ledger = openLedger({ held: false });
    assert.equal(mayStartCycles(ledger), true);
    assert.equal(mayFollow(ledger), true);
    assert.deepEqual(ktrdrHealth(ledger), { kind: 'unknown' });
  });

  test('a fault that says KTRDR is down marks it unreachable, stops new cycles and following, and is what the pass holds', () => {
    const ledger = openLedger({ held: false });
    ledger.ktrdrReached = true;
    const fault = noteFault(ledger, { faultClass: 'ktrdr_unreachable', cause: 'ECONNREFUSED' });
    assert.deepEqual(ledger.faults, [fault]);
    assert.equal(ledger.ktrdrUnreachable, true);
    assert.equal(mayStartCycles(ledger), false);
    assert.equal(mayFollow(ledger), false);
    assert.deepEqual(ktrdrHealth(ledger), { kind: 'down', fault });
  });

  test('a fault that is not KTRDR being down stops new cycles but leaves KTRDR reachable', () => {
    const ledger = openLedger({ held: false });
    ledger.ktrdrReached = true;
    noteFault(ledger, { faultClass: 'anthropic_unreachable', cause: 'timeout' });
    assert.equal(ledger.ktrdrUnreachable, false);
    assert.equal(mayStartCycles(ledger), false);
    assert.equal(mayFollow(ledger), false);
    assert.deepEqual(ktrdrHealth(ledger), { kind: 'reached' });
  });

  test('an exceeded budget or a held fault stops new cycles, not following', () => {
    const spent = openLedger({ held: false });
    spent.budgetExceeded = true;
    assert.deepEqual([mayStartCycles(spent), mayFollow(spent)], [false, true]);
    const holding = openLedger({ held: true, skipReason: 'anthropic_auth', fault: held });
    assert.deepEqual([mayStartCycles(holding), mayFollow(holding)], [false, true]);
  });

  test('the summary reads the ledger and the day: remaining money, the hold with its retry time, the lane only once it ran', () => {
    const ledger = openLedger({ held: true, skipReason: 'fault_backoff', fault: held, retryAt: new Date('2026-12-07T01:20:00Z') });
    ledger.sessionsCreated.push(7);
    const summary = passSummary(ledger, 'ok', day);
    assert.deepEqual(summary.budget, { date: '2026-12-07', limitUsd: 10, usedUsd: 2.5, remainingUsd: 6.5, invocations: 3 });
    assert.deepEqual(summary.sessionsCreated, [7]);
    assert.deepEqual(summary.invocationsHeld, {
      reason: 'fault_backoff',
      fault: { faultClass: 'anthropic_unreachable', cause: 'connection refused' },
      since: '2026-12-07T01:00:00.000Z',
      retryAt: '2026-12-07T01:20:00.000Z',
    });
    assert.equal('validation' in summary, false);
    assert.equal(summary.capacity, null);
    const auth = passSummary(openLedger({ held: true, skipReason: 'anthropic_auth', fault: held }), 'paused', day);
    assert.equal(auth.status, 'paused');
    assert.equal(auth.invocationsHeld?.retryAt, null);
    assert.equal(passSummary(openLedger({ held: false }), 'ok', day).invocationsHeld, null);
  });
});
