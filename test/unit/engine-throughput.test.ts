import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { affordableCycles, AUTO_FALLBACK_SESSIONS, researchSlots, type ResearchSlotsInput } from '../../src/core/engine/research-slots.ts';
import { capacityReport, workersWarning, type SlotsReading } from '../../src/core/engine/capacity.ts';
import { finishesSoon, stillUnderWay, TRAINING_NEARLY_DONE_PERCENT } from '../../src/core/engine/follow.ts';

const noBudgetBound: ResearchSlotsInput['budget'] = { binds: false, spendableUsd: 0, costPerCycleUsd: null, owedByActiveUsd: 0 };

function input(changes: Partial<ResearchSlotsInput> = {}): ResearchSlotsInput {
  return { setting: 'auto', cap: 8, active: 0, awaitingTrainingWorker: 0, workers: { total: 4, busy: 0, idle: 4 }, budget: noBudgetBound, ...changes };
}

describe('researchSlots: how many research sessions may be active', () => {
  test('an integer setting is the cap, as before auto existed', () => {
    const slots = researchSlots(input({ setting: 3, active: 1 }));
    assert.deepEqual([slots.mode, slots.maxActive, slots.newCycles, slots.limitedBy, slots.fellBack], ['fixed', 3, 2, 'setting', false]);
  });

  test('auto: one new cycle per idle training worker not already claimed by a session still designing', () => {
    const slots = researchSlots(input({ active: 3, awaitingTrainingWorker: 1, workers: { total: 4, busy: 2, idle: 2 } }));
    assert.deepEqual([slots.maxActive, slots.newCycles, slots.limitedBy], [4, 1, 'workers']);
  });

  test('auto: sessions backtesting or assessing hold no training worker, so more sessions than workers can run', () => {
    const slots = researchSlots(input({ active: 5, workers: { total: 2, busy: 1, idle: 1 } }));
    assert.deepEqual([slots.maxActive, slots.newCycles], [6, 1]);
  });

  test('auto: no idle worker, no new cycle; no worker registered at all, none either', () => {
    assert.equal(researchSlots(input({ active: 2, workers: { total: 2, busy: 2, idle: 0 } })).newCycles, 0);
    assert.equal(researchSlots(input({ workers: { total: 0, busy: 0, idle: 0 } })).newCycles, 0);
  });

  test('auto: AGENT_MAX_SESSIONS_CAP bounds it whatever the workers', () => {
    const slots = researchSlots(input({ cap: 2, workers: { total: 16, busy: 0, idle: 16 } }));
    assert.deepEqual([slots.maxActive, slots.limitedBy], [2, 'cap']);
  });

  test('auto: the budget bounds it at the recent cost per cycle, after what the active sessions still owe', () => {
    const budget = { binds: true, spendableUsd: 1.0, costPerCycleUsd: 0.3, owedByActiveUsd: 0.2 };
    assert.equal(affordableCycles(budget), 2);
    const slots = researchSlots(input({ active: 1, budget }));
    assert.deepEqual([slots.maxActive, slots.newCycles, slots.limitedBy, slots.affordableCycles], [3, 2, 'budget', 2]);
    assert.equal(researchSlots(input({ active: 1, budget: { ...budget, spendableUsd: 0.4 } })).newCycles, 0);
  });

  test('the budget sets no bound without a cost history, for a designer that spends nothing, or with enforcement off', () => {
    assert.equal(affordableCycles({ binds: true, spendableUsd: 1, costPerCycleUsd: null, owedByActiveUsd: 0 }), null);
    assert.equal(affordableCycles({ binds: false, spendableUsd: 0, costPerCycleUsd: 0.5, owedByActiveUsd: 0 }), null);
    assert.equal(researchSlots(input()).limitedBy, 'workers');
  });

  test('auto without a worker list falls back to one session at a time', () => {
    const slots = researchSlots(input({ workers: null }));
    assert.deepEqual([slots.mode, slots.maxActive, slots.fellBack, slots.limitedBy], ['auto', AUTO_FALLBACK_SESSIONS, true, 'setting']);
  });
});

describe('the capacity report', () => {
  const reading = (changes: Partial<SlotsReading> = {}): SlotsReading => ({
    slots: researchSlots(input({ workers: changes.trainingWorkers === undefined ? { total: 2, busy: 0, idle: 2 } : changes.trainingWorkers })),
    active: 0,
    trainingWorkers: { total: 2, busy: 0, idle: 2 },
    workersError: null,
    costPerCycleUsd: null,
    ...changes,
  });
  const outcome = { started: 0, paused: false, budgetExceeded: false, ktrdrUnreachable: false, held: false };

  test('what stopped the pass with room left names the limit; otherwise the slots do', () => {
    assert.equal(capacityReport(reading(), { ...outcome, paused: true }).limitedBy, 'paused');
    assert.equal(capacityReport(reading(), { ...outcome, budgetExceeded: true }).limitedBy, 'budget');
    assert.equal(capacityReport(reading(), { ...outcome, ktrdrUnreachable: true }).limitedBy, 'ktrdr_unreachable');
    assert.equal(capacityReport(reading(), { ...outcome, held: true }).limitedBy, 'fault_hold');
    assert.equal(capacityReport(reading(), { ...outcome, started: 2 }).limitedBy, 'workers');
  });

  test('a worker list that could not be read warns only when auto fell back on it', () => {
    const failed = reading({ trainingWorkers: null, workersError: 'KTRDR answered 404' });
    assert.match(workersWarning(failed) ?? '', /AGENT_MAX_CONCURRENT_SESSIONS=auto could not read .*404.*allows 1 active session/);
    assert.equal(workersWarning(reading()), null);
  });
});

describe('following short work', () => {
  const now = new Date('2026-12-07T01:00:00Z');
  const session = (phase: 'training' | 'backtesting' | 'assessing', percentage: number | null, status = 'running') => ({
    phase,
    leaseExpiresAt: null,
    phaseStartedAt: new Date(now.getTime() - 300_000),
    operationProgress: percentage === null ? null : { percentage, currentStep: null, status, seenAt: now.toISOString() },
  });

  test('a backtest is followed from its start; a training only from 95%', () => {
    assert.equal(finishesSoon(session('backtesting', null), now), true);
    assert.equal(finishesSoon(session('training', TRAINING_NEARLY_DONE_PERCENT), now), true);
    assert.equal(finishesSoon(session('training', 94), now), false);
    assert.equal(finishesSoon(session('training', null), now), false);
    assert.equal(finishesSoon(session('assessing', null), now), false);
  });

  test('a training whose pace ends it within the window left is followed too', () => {
    // 80% in 300 s: about 75 s to go.
    assert.equal(finishesSoon(session('training', 80), now, 60_000), false);
    assert.equal(finishesSoon(session('training', 80), now, 90_000), true);
    assert.equal(finishesSoon(session('training', 0), now, 600_000), false);
  });

  test('work already at an end, or a session whose invocation holds its lease, is not followed', () => {
    assert.equal(finishesSoon(session('backtesting', 100, 'completed'), now), false);
    assert.equal(finishesSoon({ ...session('backtesting', 10), leaseExpiresAt: new Date(now.getTime() + 60_000) }, now), false);
  });

  test('only a pending, running or resuming status keeps the pass polling', () => {
    assert.equal(stillUnderWay({ kind: 'status', status: 'running' }), true);
    assert.equal(stillUnderWay({ kind: 'status', status: 'completed' }), false);
    assert.equal(stillUnderWay({ kind: 'unreachable' }), false);
  });
});
