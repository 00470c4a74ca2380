import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { databaseLedger } from '../db/budget-ledger.ts';
import { openDayInForce, type BudgetLedger } from '../budget/ledger.ts';
import type { InvocationBudget } from './budgeted-call.ts';

export interface DatabaseBudgetOptions {
  db: Kysely<Database>;
  /** AGENT_BUDGET_DAILY_USD; `budget set` overrides it. */
  dailyLimitUsd: number;
  bufferUsd: number;
  enforce: boolean;
  /** The session the spend is charged to, or null for spend outside a session. */
  sessionId: number | null;
  now: () => Date;
}

/**
 * The invocation's budget on the reservation ledger: every HTTP attempt reserves atomically before it is sent, and
 * its settlement records the confirmed (or estimated) amount, the tokens and the request id together.
 */
export function ledgerBudget(ledger: BudgetLedger, options: Omit<DatabaseBudgetOptions, 'db'>): InvocationBudget {
  const { sessionId } = options;
  return {
    reserve: async (amountUsd) => {
      // An invocation can run past midnight UTC: the new day's row must exist before it can be reserved against.
      const day = await openDayInForce(ledger, options.dailyLimitUsd, options.now());
      return ledger.reserve({ date: day.date, amountUsd, bufferUsd: options.bufferUsd, enforce: options.enforce, sessionId });
    },
    settle: (id, actualUsd, usage, details) => ledger.settle(id, actualUsd, sessionId === null ? undefined : { id: sessionId, ...usage }, details),
  };
}

/** `ledgerBudget` on the database's ledger (db/budget-ledger.ts). */
export function databaseBudget(options: DatabaseBudgetOptions): InvocationBudget {
  const { db, ...rest } = options;
  return ledgerBudget(databaseLedger(db), rest);
}
