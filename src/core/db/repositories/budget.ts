import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AgentBudgetTable, Database } from '../database-schema.ts';
import { dayString, toDate, toNumber, toNumberOrNull } from '../values.ts';
import { addSessionUsage } from './sessions.ts';
import { setBudgetLimitOverrideRow } from './control.ts';
import { limitInForce } from '../../budget/daily-limit.ts';
import type { BudgetDay, Reservation, ReservationRequest, SessionCharge, SettlementFacts } from '../../budget/ledger.ts';
import { bookedUsd } from '../../budget/money.ts';

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

/** The operator's override of the daily limit (`budget set`), or null when AGENT_BUDGET_DAILY_USD applies. */
export async function readLimitOverride(db: Db): Promise<number | null> {
  const row = await db.selectFrom('agent_control').select('budget_limit_usd').where('id', '=', 1).executeTakeFirst();
  return toNumberOrNull(row?.budget_limit_usd);
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
 * Reserves a call's worst-case cost against the day's budget in one atomic statement: the row is updated only
 * when used + reserved + amount still fits under limit - buffer, so concurrent ticks can never overshoot.
 * Returns null when the reservation is refused.
 */
export async function reserveBudget(db: Kysely<Database>, request: ReservationRequest): Promise<Reservation | null> {
  const input = { ...request, amountUsd: bookedUsd(request.amountUsd) };
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('agent_budget')
      .set({ budget_reserved_usd: sql`budget_reserved_usd + ${input.amountUsd}`, updated_at: sql`NOW()` })
      .where('date', '=', input.date)
      .where((eb) =>
        input.enforce ? eb(sql`budget_used_usd + budget_reserved_usd + ${input.amountUsd}`, '<=', sql`budget_limit_usd - ${input.bufferUsd}`) : eb.val(true),
      )
      .returning('date')
      .executeTakeFirst();
    if (!updated) return null;
    const row = await trx
      .insertInto('agent_budget_reservations')
      .values({ date: input.date, amount_usd: input.amountUsd, session_id: input.sessionId, status: 'reserved' })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: String(row.id), date: input.date, amountUsd: input.amountUsd };
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
  details: SettlementFacts = {},
): Promise<void> {
  const actualUsd = bookedUsd(spentUsd);
  await db.transaction().execute(async (trx) => {
    const reservation = await trx
      .updateTable('agent_budget_reservations')
      .set({
        status: 'settled',
        settled_usd: actualUsd,
        settled_at: sql`NOW()`,
        estimated: details.estimated ?? false,
        request_id: details.requestId ?? null,
        inference_geo: details.inferenceGeo ?? null,
        service_tier: details.serviceTier ?? null,
      })
      .where('id', '=', reservationId)
      .where('status', '=', 'reserved')
      .returning(['date', 'amount_usd'])
      .executeTakeFirst();
    if (!reservation) return;
    await trx
      .updateTable('agent_budget')
      .set({
        budget_reserved_usd: sql`GREATEST(budget_reserved_usd - ${toNumber(reservation.amount_usd)}, 0)`,
        budget_used_usd: sql`budget_used_usd + ${actualUsd}`,
        updated_at: sql`NOW()`,
      })
      .where('date', '=', dayString(reservation.date as unknown as string))
      .execute();
    if (session) await addSessionUsage(trx, session.id, { ...session, costUsd: actualUsd });
  });
}

/**
 * Reservations left open by a process that died mid-call are settled at their full amount: the call may have
 * been billed, and counting the worst case keeps the limit safe. Reservations of open Message Batches are not stale.
 */
export async function expireStaleReservations(db: Kysely<Database>, olderThan: Date): Promise<number> {
  const stale = await db
    .selectFrom('agent_budget_reservations')
    .select(['id', 'amount_usd', 'session_id'])
    .where('status', '=', 'reserved')
    .where('created_at', '<', olderThan)
    // A Message Batch holds its reservation for up to 24 hours; its result settles it, not this sweep.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('agent_message_batches')
            .select('agent_message_batches.id')
            .whereRef('agent_message_batches.reservation_id', '=', 'agent_budget_reservations.id')
            .where('agent_message_batches.status', '<>', 'ended'),
        ),
      ),
    )
    .execute();
  for (const reservation of stale) {
    const session = reservation.session_id === null ? undefined : { id: reservation.session_id, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    await settleReservation(db, String(reservation.id), toNumber(reservation.amount_usd), session, { estimated: true });
  }
  return stale.length;
}

/**
 * The part of the settled spend that is an estimate (reservations kept for attempts of unknown outcome), for a day
 * or for a session; `budget` and `session` show it as "estimated, unconfirmed".
 */
export async function estimatedSpendUsd(db: Db, scope: { date: string } | { sessionId: number }): Promise<number> {
  const row = await db
    .selectFrom('agent_budget_reservations')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('settled_usd'), sql<number>`0`).as('total'))
    .where('status', '=', 'settled')
    .where('estimated', '=', true)
    .where((eb) => ('date' in scope ? eb('date', '=', scope.date) : eb('session_id', '=', scope.sessionId)))
    .executeTakeFirst();
  return toNumber(row?.total ?? 0);
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
