import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Session } from '../../src/core/db/repositories/sessions.ts';
import { refillsFirst, stopsTrainingWork, type SlotsReading } from '../../src/core/engine/capacity.ts';
import { finishesSoon, followShortWork, notePace, PACE_MIN_POINTS, trainingEndEstimate, type FollowedObservation } from '../../src/core/engine/follow.ts';

const passStart = new Date('2026-12-08T01:00:00Z');
const at = (seconds: number) => new Date(passStart.getTime() + seconds * 1000);

function session(id: number, phase: Session['phase'], changes: Partial<Session> = {}): Session {
  return {
    id,
    phase,
    trainingOperationId: phase === 'training' || phase === 'backtesting' ? `op_training_${id}` : null,
    backtestOperationId: phase === 'backtesting' ? `op_backtest_${id}` : null,
    leaseExpiresAt: null,
    operationProgress: null,
    phaseStartedAt: at(-600),
    ...changes,
  } as Session;
}

describe('which faults stop a pass starting cycles and following', () => {
  test('KTRDR busy answering a backtest start leaves the training work alone; anything else stops it', () => {
    assert.equal(stopsTrainingWork({ faultClass: 'ktrdr_busy', cause: 'no backtesting worker' }, 'backtest'), false);
    assert.equal(stopsTrainingWork({ faultClass: 'ktrdr_busy', cause: 'no training worker' }, 'any'), true);
    assert.equal(stopsTrainingWork({ faultClass: 'ktrdr_unreachable', cause: 'down' }, 'backtest'), true);
    assert.equal(stopsTrainingWork({ faultClass: 'anthropic_rate_limited', cause: '429' }, 'backtest'), true);
  });
});

describe('refilling idle workers before the sessions move on', () => {
  const reading = (changes: { mode?: 'auto' | 'fixed'; fellBack?: boolean; idle?: number; newCycles?: number }): SlotsReading => ({
    slots: {
      mode: changes.mode ?? 'auto',
      maxActive: 3,
      newCycles: changes.newCycles ?? 1,
      limitedBy: 'workers',
      affordableCycles: null,
      fellBack: changes.fellBack ?? false,
    },
    active: 2,
    trainingWorkers: { total: 2, busy: 2 - (changes.idle ?? 1), idle: changes.idle ?? 1 },
    workersError: null,
    costPerCycleUsd: null,
  });

  test('only auto, with an idle training worker listed and room for a cycle', () => {
    assert.equal(refillsFirst(reading({})), true);
    assert.equal(refillsFirst(reading({ mode: 'fixed' })), false);
    assert.equal(refillsFirst(reading({ fellBack: true })), false);
    assert.equal(refillsFirst(reading({ idle: 0 })), false);
    assert.equal(refillsFirst(reading({ newCycles: 0 })), false);
  });
});

describe("a training's pace", () => {
  test('two readings of this pass far enough apart give the rate; closer ones fall back to the pace since the phase began', () => {
    const started = session(1, 'training', { phaseStartedAt: at(-100) });
    const pace = notePace(notePace(undefined, 20, at(0).getTime()), 20 + PACE_MIN_POINTS, at(10).getTime());
    // 10 points in 10 s: 70 points to go take 70 s more.
    assert.equal(trainingEndEstimate(started, pace), at(80).getTime());
    // 1 point in 2 s says nothing: 21% after 102 s since the phase began leaves about 384 s.
    const close = notePace(notePace(undefined, 20, at(0).getTime()), 21, at(2).getTime());
    assert.equal(Math.round((trainingEndEstimate(started, close)! - at(2).getTime()) / 1000), 384);
    assert.equal(trainingEndEstimate(session(2, 'training'), undefined), null);
  });

  test('the rate is measured from the first reading with progress (time queued is not training)', () => {
    const pace = notePace(notePace(undefined, 0, at(0).getTime()), 5, at(20).getTime());
    assert.deepEqual(pace.first, { percentage: 5, at: at(20).getTime() });
  });

  test('a training this pass started is followed until its pace is known, then only if it ends within the window', () => {
    const fresh = session(1, 'training', { phaseStartedAt: at(5) });
    assert.equal(finishesSoon(fresh, at(10), 60_000, { probeSince: passStart }), true);
    // Started while following (a refill): not probed, so a pass chains at most one training's end to the next cycle.
    assert.equal(finishesSoon(fresh, at(10), 60_000, { probeSince: passStart, probeUntil: at(1) }), false);
    // Started before this pass, nothing known: not followed.
    assert.equal(finishesSoon(session(2, 'training', { phaseStartedAt: at(-5) }), at(10), 60_000, { probeSince: passStart }), false);
    const slow = notePace(notePace(undefined, 2, at(10).getTime()), 2 + PACE_MIN_POINTS, at(60).getTime());
    assert.equal(finishesSoon(fresh, at(60), 60_000, { pace: slow, probeSince: passStart }), false);
    const quick = notePace(notePace(undefined, 50, at(10).getTime()), 90, at(20).getTime());
    assert.equal(finishesSoon(fresh, at(20), 60_000, { pace: quick, probeSince: passStart }), true);
  });
});

describe('followShortWork', () => {
  interface Polled {
    session: Session;
    observation: FollowedObservation;
  }

  test('a training that ends refills its worker before the ended session steps on, and a step that ends a session refills again', async () => {
    let clock = passStart.getTime();
    const events: string[] = [];
    let sessions = [session(1, 'training', { phaseStartedAt: at(0) })];
    const outcome = await followShortWork<Polled>({
      passStartedAt: passStart,
      deadline: at(150).getTime(),
      now: () => new Date(clock),
      sleep: async (ms) => void (clock += ms),
      activeSessions: async () => sessions,
      // Running at 0% for the first poll, then done.
      poll: async (polled) => {
        events.push(`poll ${polled.id}`);
        const done = clock >= at(2).getTime();
        return { session: polled, observation: { kind: 'status', status: done ? 'completed' : 'running', percentage: done ? 100 : 0 } };
      },
      proveLock: async () => void events.push('lock'),
      takeNextStep: async (polled) => {
        events.push(`step ${polled.session.id}`);
        sessions = [];
      },
      refill: async () => void events.push('refill'),
      settled: new Set(),
    });
    assert.deepEqual(events, ['lock', 'poll 1', 'lock', 'poll 1', 'refill', 'step 1', 'refill']);
    assert.deepEqual(outcome, { rounds: 2, finished: 1 });
  });

  test('no poll starts after the deadline, and nothing is taken from a poll that found the operation unreadable', async () => {
    let clock = passStart.getTime();
    const steps: number[] = [];
    let polls = 0;
    const outcome = await followShortWork<Polled>({
      passStartedAt: passStart,
      deadline: at(10).getTime(),
      now: () => new Date(clock),
      sleep: async (ms) => void (clock += ms),
      activeSessions: async () => [session(1, 'backtesting'), session(2, 'backtesting')],
      poll: async (polled) => {
        polls += 1;
        return { session: polled, observation: polled.id === 2 ? { kind: 'unreachable' } : { kind: 'status', status: 'running' } };
      },
      proveLock: async () => {},
      takeNextStep: async (polled) => void steps.push(polled.session.id),
      settled: new Set(),
    });
    assert.deepEqual(steps, []);
    assert.ok(clock <= at(10).getTime());
    // Session 2 was settled at its first poll; session 1 polled once a round until the deadline.
    assert.equal(polls, outcome.rounds + 1);
  });
});
