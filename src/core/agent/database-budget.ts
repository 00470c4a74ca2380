import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { effectiveDailyLimit, ensureBudgetDay, reserveBudget, settleReservation } from '../db/repositories/budget.ts';
import { utcDay } from '../kernel/utc-day.ts';
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
 * The invocation's budget on the daily budget rows: every HTTP attempt reserves atomically before it is sent, and
 * its settlement records the confirmed (or estimated) amount, the tokens and the request id together.
 */
export function databaseBudget(options: DatabaseBudgetOptions): InvocationBudget {
  const { db, sessionId } = options;
  return {
    reserve: async (amountUsd) => {
      // An invocation can run past midnight UTC: the new day's row must exist before it can be reserved against.
      const date = utcDay(options.now());
      await ensureBudgetDay(db, date, await effectiveDailyLimit(db, options.dailyLimitUsd));
      return reserveBudget(db, { date, amountUsd, bufferUsd: options.bufferUsd, enforce: options.enforce, sessionId });
    },
    settle: (id, actualUsd, usage, details) => settleReservation(db, id, actualUsd, sessionId === null ? undefined : { id: sessionId, ...usage }, details),
  };
}
