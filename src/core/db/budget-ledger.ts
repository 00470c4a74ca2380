// The reservation ledger (budget/ledger.ts) on the budget tables: agent_budget, agent_budget_reservations and the
// override in agent_control (db/repositories/budget.ts holds the queries).
import type { Kysely } from 'kysely';
import type { LimitInForce } from '../budget/daily-limit.ts';
import { openDayInForce, readLimitInForce as limitFromLedger, type BudgetDay, type BudgetLedger } from '../budget/ledger.ts';
import type { Database } from './database-schema.ts';
import { ensureBudgetDay, findBudgetDay, readLimitOverride, reserveBudget, settleReservation } from './repositories/budget.ts';

export function databaseLedger(db: Kysely<Database>): BudgetLedger {
  return {
    limitOverrideUsd: () => readLimitOverride(db),
    findDay: (date) => findBudgetDay(db, date),
    openDay: (date, limitUsd) => ensureBudgetDay(db, date, limitUsd),
    reserve: (request) => reserveBudget(db, request),
    settle: (reservationId, actualUsd, session, facts) => settleReservation(db, reservationId, actualUsd, session, facts),
  };
}

/** The daily limit in force now, with the override the store holds (budget/daily-limit.ts `limitInForce`). */
export function readLimitInForce(db: Kysely<Database>, settingUsd: number, now: Date): Promise<LimitInForce> {
  return limitFromLedger({ limitOverrideUsd: () => readLimitOverride(db) }, settingUsd, now);
}

/** Today's budget row, opened at (or brought to) the limit in force. */
export function openBudgetDay(db: Kysely<Database>, settingUsd: number, now: Date): Promise<BudgetDay> {
  return openDayInForce(databaseLedger(db), settingUsd, now);
}
