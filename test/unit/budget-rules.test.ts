import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canInvoke, type CanInvokeInput } from '../../src/core/budget/can-invoke.ts';
import { limitInForce, remainingUsd, spendableUsd, spentTodayUsd } from '../../src/core/budget/daily-limit.ts';
import type { BudgetDay, BudgetLedger, Reservation, ReservationRequest } from '../../src/core/budget/ledger.ts';
import { bookedMicroUsd, bookedUsd, formatUsd, shownUsd } from '../../src/core/budget/money.ts';
import { ledgerBudget } from '../../src/core/agent/database-budget.ts';

describe('the limit in force', () => {
  const now = new Date('2026-12-07T12:00:00.000Z');

  test('without an override it is the setting, for the UTC day of now', () => {
    assert.deepEqual(limitInForce({ settingUsd: 5, overrideUsd: null, now }), { date: '2026-12-07', limitUsd: 5, source: 'setting' });
    assert.deepEqual(limitInForce({ settingUsd: 5, overrideUsd: undefined, now }), { date: '2026-12-07', limitUsd: 5, source: 'setting' });
  });

  test('an override wins over the setting, even a lower one and even zero', () => {
    assert.deepEqual(limitInForce({ settingUsd: 5, overrideUsd: 12.5, now }), { date: '2026-12-07', limitUsd: 12.5, source: 'override' });
    assert.deepEqual(limitInForce({ settingUsd: 5, overrideUsd: 2, now }), { date: '2026-12-07', limitUsd: 2, source: 'override' });
    assert.deepEqual(limitInForce({ settingUsd: 5, overrideUsd: 0, now }), { date: '2026-12-07', limitUsd: 0, source: 'override' });
  });

  test('the day turns at midnight UTC, not at local midnight; the override carries over', () => {
    const lastMillisecond = new Date('2026-12-07T23:59:59.999Z');
    const firstMillisecond = new Date('2026-12-08T00:00:00.000Z');
    assert.equal(limitInForce({ settingUsd: 5, overrideUsd: 8, now: lastMillisecond }).date, '2026-12-07');
    assert.deepEqual(limitInForce({ settingUsd: 5, overrideUsd: 8, now: firstMillisecond }), { date: '2026-12-08', limitUsd: 8, source: 'override' });
    // 01:00 in UTC+2 is still the previous UTC day.
    assert.equal(limitInForce({ settingUsd: 5, overrideUsd: null, now: new Date('2026-12-08T01:00:00.000+02:00') }).date, '2026-12-07');
  });

  test('what is left and what is spent are counted in micro-dollars, without float noise', () => {
    // 0.3 - 0.1 - 0.1 is 0.09999999999999998 in binary floats.
    assert.equal(remainingUsd({ limitUsd: 0.3, usedUsd: 0.1, reservedUsd: 0.1 }), 0.1);
    assert.equal(remainingUsd({ limitUsd: 10, usedUsd: 9.99, reservedUsd: 0.01 }), 0);
    assert.equal(remainingUsd({ limitUsd: 1, usedUsd: 0.75, reservedUsd: 0.5 }), 0);
    assert.equal(spentTodayUsd({ usedUsd: 0.1, reservedUsd: 0.2 }), 0.3);
  });

  test('what new cycles may spend is what is left above the buffer, in micro-dollars, never below zero', () => {
    // What is left, 0.3, less a buffer of 0.1 is 0.19999999999999998 in binary floats.
    assert.equal(spendableUsd({ limitUsd: 0.5, usedUsd: 0.1, reservedUsd: 0.1 }, 0.1), 0.2);
    assert.equal(spendableUsd({ limitUsd: 0.3, usedUsd: 0.1, reservedUsd: 0.1 }, 0.1), 0);
    assert.equal(spendableUsd({ limitUsd: 1, usedUsd: 0.75, reservedUsd: 0.5 }, 0.1), 0);
  });
});

describe('canInvoke', () => {
  // Limit $1, $0.50 used, $0.25 buffer: $0.25 is spendable.
  const atLimit: CanInvokeInput = {
    metered: true,
    enforce: true,
    remainingUsd: remainingUsd({ limitUsd: 1, usedUsd: 0.5, reservedUsd: 0 }),
    bufferUsd: 0.25,
    cheapestCallUsd: 0.25,
  };

  test('a call whose worst case uses exactly what is spendable may start', () => {
    assert.deepEqual(canInvoke(atLimit), { ok: true, reason: 'affordable' });
  });

  test('one micro-dollar short, it may not', () => {
    assert.deepEqual(canInvoke({ ...atLimit, cheapestCallUsd: 0.250001 }), {
      ok: false,
      reason: 'below_cheapest_call',
      spendableUsd: 0.25,
      cheapestCallUsd: 0.250001,
    });
    assert.equal(canInvoke({ ...atLimit, remainingUsd: 0.499999 }).ok, false);
  });

  test('a cheapest call with a fraction of a micro-dollar is reserved, so compared, rounded up', () => {
    assert.equal(canInvoke({ ...atLimit, cheapestCallUsd: 0.2499999 }).ok, true);
    assert.equal(canInvoke({ ...atLimit, cheapestCallUsd: 0.2500001 }).ok, false);
  });

  test('exactly enough, even when the remainder came out of float arithmetic', () => {
    const remaining = remainingUsd({ limitUsd: 0.3, usedUsd: 0.1, reservedUsd: 0.1 });
    assert.equal(canInvoke({ ...atLimit, remainingUsd: remaining, bufferUsd: 0, cheapestCallUsd: 0.1 }).ok, true);
  });

  test('at or below the buffer nothing is spendable', () => {
    assert.deepEqual(canInvoke({ ...atLimit, remainingUsd: 0.25 }), { ok: false, reason: 'buffer_reached', spendableUsd: 0, cheapestCallUsd: 0.25 });
    assert.equal(canInvoke({ ...atLimit, remainingUsd: 0, cheapestCallUsd: 0 }).reason, 'buffer_reached');
  });

  test('a designer that calls no model, or a budget not enforced, always may', () => {
    assert.deepEqual(canInvoke({ ...atLimit, metered: false, remainingUsd: 0 }), { ok: true, reason: 'not_metered' });
    assert.deepEqual(canInvoke({ ...atLimit, enforce: false, remainingUsd: 0 }), { ok: true, reason: 'not_enforced' });
  });
});

describe('rounding: booked amounts round up, shown amounts to the nearest', () => {
  test('booked: up to the whole micro-dollar, never below what was spent', () => {
    assert.equal(bookedUsd(0.0363), 0.0363);
    assert.equal(bookedUsd(0.0000001), 0.000001);
    assert.equal(bookedUsd(1.0000011), 1.000002);
    assert.equal(bookedMicroUsd(0.0363), 36_300);
    assert.equal(bookedUsd(0), 0);
  });

  test('booked: float noise below the pico-dollar does not book a micro-dollar more', () => {
    assert.equal(bookedUsd(0.1 + 0.2), 0.3);
    assert.equal(bookedMicroUsd(0.1 + 0.2), 300_000);
  });

  test('shown: to the micro-dollar in --json, half away from zero', () => {
    assert.equal(shownUsd(0.1 + 0.2), 0.3);
    assert.equal(shownUsd(1.0000015), 1.000002);
    assert.equal(shownUsd(1.0000014), 1.000001);
    assert.equal(shownUsd(0.0000004), 0);
  });

  test('shown: to the cent in text, counted on the micro-dollar, not on a binary float', () => {
    // (1.005).toFixed(2) is "1.00" and (2.675).toFixed(2) is "2.67": both are halves, shown up.
    assert.equal(formatUsd(1.005), '$1.01');
    assert.equal(formatUsd(2.675), '$2.68');
    assert.equal(formatUsd(1.004999), '$1.00');
    assert.equal(formatUsd(-1.005), '$-1.01');
    assert.equal(formatUsd(0.0363, 4), '$0.0363');
    assert.equal(formatUsd(0.03635, 4), '$0.0364');
    assert.equal(formatUsd(12), '$12.00');
    assert.equal(formatUsd(null), '—');
  });

  test('the same amount is booked up and shown to the nearest', () => {
    const spent = 0.0123454;
    assert.equal(bookedUsd(spent), 0.012346);
    assert.equal(shownUsd(spent), 0.012345);
    assert.equal(formatUsd(spent), '$0.01');
  });
});

describe('the invocation budget on the ledger port', () => {
  function memoryLedger(override: number | null) {
    const days = new Map<string, BudgetDay>();
    const reservations: ReservationRequest[] = [];
    const ledger: BudgetLedger = {
      limitOverrideUsd: async () => override,
      findDay: async (date) => days.get(date) ?? null,
      openDay: async (date, limitUsd) => {
        const day = { date, limitUsd, usedUsd: 0, reservedUsd: 0, invocations: 0, cyclesStarted: 0, cyclesCompleted: 0, updatedAt: new Date(0) };
        days.set(date, { ...(days.get(date) ?? day), limitUsd });
        return days.get(date)!;
      },
      reserve: async (request): Promise<Reservation | null> => {
        reservations.push(request);
        return { id: String(reservations.length), date: request.date, amountUsd: bookedUsd(request.amountUsd) };
      },
      settle: async () => {},
    };
    return { ledger, days, reservations };
  }

  test('a call after midnight UTC reserves against the new day, opened at the limit in force', async () => {
    let now = new Date('2026-12-07T23:59:59.000Z');
    const { ledger, days, reservations } = memoryLedger(7);
    const budget = ledgerBudget(ledger, { dailyLimitUsd: 5, bufferUsd: 0.5, enforce: true, sessionId: 3, now: () => now });
    await budget.reserve(0.01);
    now = new Date('2026-12-08T00:00:01.000Z');
    await budget.reserve(0.02);
    assert.deepEqual(
      reservations.map((r) => [r.date, r.amountUsd, r.sessionId]),
      [
        ['2026-12-07', 0.01, 3],
        ['2026-12-08', 0.02, 3],
      ],
    );
    assert.deepEqual(
      [...days.values()].map((d) => [d.date, d.limitUsd]),
      [
        ['2026-12-07', 7],
        ['2026-12-08', 7],
      ],
    );
  });
});
