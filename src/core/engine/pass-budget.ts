import type { Settings } from '../config/schema.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { findBudgetDay, type BudgetDay } from '../db/repositories/budget.ts';
import { expireStaleReservations, openBudgetDay } from '../db/budget-ledger.ts';
import { remainingUsd, spendableUsd } from '../budget/daily-limit.ts';
import { utcDay } from '../kernel/utc-day.ts';
import type { DesignerKind } from '../agent/designer.ts';
import { canInvoke } from './decision-input.ts';

/** Today's budget row as a pass reads it: once, and again only after something spent or counted. */
export interface PassBudget {
  day(): Promise<BudgetDay>;
  /** Something spent or counted (an invocation, a new cycle, a settled batch): the next read goes to the database. */
  changed(): void;
  /** Whether what is left pays for another call (the baseline always may). */
  canInvoke(day: BudgetDay): boolean;
  /** What the new cycles of this pass may spend: what is left above the buffer. */
  spendableUsd(day: BudgetDay): number;
}

type BudgetSettings = Pick<
  Settings,
  | 'AGENT_BUDGET_DAILY_USD'
  | 'AGENT_LEASE_SECONDS'
  | 'AGENT_BUDGET_ENFORCEMENT'
  | 'AGENT_BUDGET_BUFFER_USD'
  | 'AGENT_MODEL'
  | 'AGENT_MODEL_PRICES'
  | 'AGENT_MAX_TOKENS'
>;

/**
 * Opens today's budget row for a pass at the limit in force (budget/daily-limit.ts `limitInForce`) and expires the reservations of
 * invocations whose lease ran out, so money a dead process held is spendable again.
 */
export async function openPassBudget(input: {
  db: Kysely<Database>;
  settings: BudgetSettings;
  designerKind: DesignerKind;
  now: () => Date;
}): Promise<PassBudget> {
  const { db, settings, designerKind, now } = input;
  const started = now();
  let cached: BudgetDay | null = await openBudgetDay(db, settings.AGENT_BUDGET_DAILY_USD, started);
  const expired = await expireStaleReservations(db, new Date(started.getTime() - settings.AGENT_LEASE_SECONDS * 1000));
  if (expired > 0) cached = null;
  return {
    async day() {
      const at = now();
      const date = utcDay(at);
      if (cached?.date === date) return cached;
      cached = (await findBudgetDay(db, date)) ?? (await openBudgetDay(db, settings.AGENT_BUDGET_DAILY_USD, at));
      return cached;
    },
    changed() {
      cached = null;
    },
    canInvoke(day) {
      return canInvoke({ designerKind, remainingUsd: remainingUsd(day), settings });
    },
    spendableUsd(day) {
      return spendableUsd(day, settings.AGENT_BUDGET_BUFFER_USD);
    },
  };
}
