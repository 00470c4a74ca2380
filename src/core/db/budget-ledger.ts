// The reservation ledger (budget/ledger.ts) on the budget tables: a hold is a row of agent_budget_reservations
// (repositories/budget-reservations.ts) and a move of the day's totals in agent_budget (repositories/budget.ts), in
// one transaction; the override is read from agent_control (repositories/control.ts).
import type { Kysely } from 'kysely';
import type { LimitInForce } from '../budget/daily-limit.ts';
import {
  openDayInForce,
  readLimitInForce as limitFromLedger,
  type BudgetDay,
  type BudgetLedger,
  type Reservation,
  type ReservationRequest,
  type SessionCharge,
  type SettlementFacts,
} from '../budget/ledger.ts';
import { bookedUsd } from '../budget/money.ts';
import type { Database } from './database-schema.ts';
import { ensureBudgetDay, findBudgetDay, holdOnDay, settleOnDay } from './repositories/budget.ts';
import { findStaleReservations, insertReservation, markReservationSettled } from './repositories/budget-reservations.ts';
import { readBudgetLimitOverride } from './repositories/control.ts';
import { addSessionUsage } from './repositories/sessions.ts';

export function databaseLedger(db: Kysely<Database>): BudgetLedger {
  return {
    limitOverrideUsd: () => readBudgetLimitOverride(db),
    findDay: (date) => findBudgetDay(db, date),
    openDay: (date, limitUsd) => ensureBudgetDay(db, date, limitUsd),
    reserve: (request) => reserveBudget(db, request),
    settle: (reservationId, actualUsd, session, facts) => settleReservation(db, reservationId, actualUsd, session, facts),
  };
}

/**
 * Reserves a call's worst-case cost against the day's budget: the day's hold is one atomic statement that fits
 * used + reserved + amount under limit - buffer, so concurrent ticks can never overshoot. Null when refused.
 */
export async function reserveBudget(db: Kysely<Database>, request: ReservationRequest): Promise<Reservation | null> {
  const amountUsd = bookedUsd(request.amountUsd);
  return db.transaction().execute(async (trx) => {
    if (!(await holdOnDay(trx, { ...request, amountUsd }))) return null;
    const id = await insertReservation(trx, { date: request.date, amountUsd, sessionId: request.sessionId });
    return { id, date: request.date, amountUsd };
  });
}

/**
 * Replaces a reservation by the real cost, and adds the call's tokens and cost to its session in the same
 * transaction, so the day's spend and the sessions' costs always agree. Settling twice has no effect.
 */
export async function settleReservation(
  db: Kysely<Database>,
  reservationId: string,
  spentUsd: number,
  session?: SessionCharge,
  facts: SettlementFacts = {},
): Promise<void> {
  const actualUsd = bookedUsd(spentUsd);
  await db.transaction().execute(async (trx) => {
    const settled = await markReservationSettled(trx, reservationId, actualUsd, facts);
    if (!settled) return;
    await settleOnDay(trx, settled.date, settled.heldUsd, actualUsd);
    if (session) await addSessionUsage(trx, session.id, { ...session, costUsd: actualUsd });
  });
}

/**
 * Reservations left open by a process that died mid-call are settled at their full amount: the call may have
 * been billed, and counting the worst case keeps the limit safe. Reservations of open Message Batches are not stale.
 */
export async function expireStaleReservations(db: Kysely<Database>, olderThan: Date): Promise<number> {
  const stale = await findStaleReservations(db, olderThan);
  for (const reservation of stale) {
    const session = reservation.sessionId === null ? undefined : { id: reservation.sessionId, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    await settleReservation(db, reservation.id, reservation.amountUsd, session, { estimated: true });
  }
  return stale.length;
}

/** The daily limit in force now, with the override the store holds (budget/daily-limit.ts `limitInForce`). */
export function readLimitInForce(db: Kysely<Database>, settingUsd: number, now: Date): Promise<LimitInForce> {
  return limitFromLedger({ limitOverrideUsd: () => readBudgetLimitOverride(db) }, settingUsd, now);
}

/** Today's budget row, opened at (or brought to) the limit in force. */
export function openBudgetDay(db: Kysely<Database>, settingUsd: number, now: Date): Promise<BudgetDay> {
  return openDayInForce(databaseLedger(db), settingUsd, now);
}
