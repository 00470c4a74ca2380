import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AgentBudgetTable, Database } from '../database-schema.ts';
import { dayString, toDate, toNumber } from '../values.ts';
import { setBudgetLimitOverrideRow } from './control.ts';
import { limitInForce } from '../../budget/daily-limit.ts';
import type { BudgetDay } from '../../budget/ledger.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type { BudgetDay, Reservation } from '../../budget/ledger.ts';

function toBudgetDay(row: Selectable<AgentBudgetTable>): BudgetDay {
  return {
    date: dayString(row.date as unknown as string),
    limitUsd: toNumber(row.budget_limit_usd),
    usedUsd: toNumber(row.budget_used_usd),
    reservedUsd: toNumber(row.budget_reserved_usd),
    invocations: row.invocations_count,
    cyclesStarted: row.cycles_started,
    cyclesCompleted: row.cycles_completed,
    updatedAt: toDate(row.updated_at),
  };
}

/** Today's row, created (or brought to the current limit) in one statement. */
export async function ensureBudgetDay(db: Db, date: string, limitUsd: number): Promise<BudgetDay> {
  const row = await db
    .insertInto('agent_budget')
    .values({ date, budget_limit_usd: limitUsd })
    .onConflict((oc) =>
      oc.column('date').doUpdateSet({
        budget_limit_usd: limitUsd,
        updated_at: sql`CASE WHEN agent_budget.budget_limit_usd = ${limitUsd} THEN agent_budget.updated_at ELSE NOW() END`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toBudgetDay(row);
}

export async function findBudgetDay(db: Db, date: string): Promise<BudgetDay | null> {
  const row = await db.selectFrom('agent_budget').selectAll().where('date', '=', date).executeTakeFirst();
  return row ? toBudgetDay(row) : null;
}

export async function budgetHistory(db: Db, fromDate: string): Promise<BudgetDay[]> {
  const rows = await db.selectFrom('agent_budget').selectAll().where('date', '>=', fromDate).orderBy('date', 'desc').execute();
  return rows.map(toBudgetDay);
}

// Amounts are stored in NUMERIC(14, 6) as booked (budget/money.ts `bookedUsd`): rounded up to the micro-dollar.

/**
 * Adds `amountUsd` (booked) to the day's reserved total in one atomic statement: the row is updated only when
 * used + reserved + amount still fits under limit - buffer (unless not enforced), so concurrent ticks can never
 * overshoot. False when the hold is refused.
 */
export async function holdOnDay(db: Db, hold: { date: string; amountUsd: number; bufferUsd: number; enforce: boolean }): Promise<boolean> {
  const updated = await db
    .updateTable('agent_budget')
    .set({ budget_reserved_usd: sql`budget_reserved_usd + ${hold.amountUsd}`, updated_at: sql`NOW()` })
    .where('date', '=', hold.date)
    .where((eb) =>
      hold.enforce ? eb(sql`budget_used_usd + budget_reserved_usd + ${hold.amountUsd}`, '<=', sql`budget_limit_usd - ${hold.bufferUsd}`) : eb.val(true),
    )
    .returning('date')
    .executeTakeFirst();
  return updated !== undefined;
}

/** Moves a settled hold from the day's reserved total to its used total, at the amount spent (both booked). */
export async function settleOnDay(db: Db, date: string, heldUsd: number, spentUsd: number): Promise<void> {
  await db
    .updateTable('agent_budget')
    .set({
      budget_reserved_usd: sql`GREATEST(budget_reserved_usd - ${heldUsd}, 0)`,
      budget_used_usd: sql`budget_used_usd + ${spentUsd}`,
      updated_at: sql`NOW()`,
    })
    .where('date', '=', date)
    .execute();
}

export async function incrementBudgetCounters(
  db: Db,
  date: string,
  counters: { invocations?: number; cyclesStarted?: number; cyclesCompleted?: number },
): Promise<void> {
  await db
    .updateTable('agent_budget')
    .set({
      invocations_count: sql`invocations_count + ${counters.invocations ?? 0}`,
      cycles_started: sql`cycles_started + ${counters.cyclesStarted ?? 0}`,
      cycles_completed: sql`cycles_completed + ${counters.cyclesCompleted ?? 0}`,
      updated_at: sql`NOW()`,
    })
    .where('date', '=', date)
    .execute();
}

/** Sets the override, or clears it (null) so the configured limit applies again; today's row follows at once. */
export async function setBudgetLimitOverride(db: Kysely<Database>, limitUsd: number | null, configuredLimitUsd: number, now: Date): Promise<void> {
  const limit = limitInForce({ settingUsd: configuredLimitUsd, overrideUsd: limitUsd, now });
  await db.transaction().execute(async (trx) => {
    await setBudgetLimitOverrideRow(trx, limitUsd, now);
    await trx.updateTable('agent_budget').set({ budget_limit_usd: limit.limitUsd, updated_at: now }).where('date', '=', limit.date).execute();
  });
}
