// agent_budget_reservations: one row per call's hold on the day's budget, settled once by what the call cost; only
// this file writes it. The day's totals move with it in the same transaction (db/budget-ledger.ts).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SettlementFacts } from '../../budget/ledger.ts';
import { dayString, toNumber } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** An open reservation, as the sweep of stale ones sees it. */
export interface OpenReservation {
  id: string;
  amountUsd: number;
  sessionId: number | null;
}

/** Records a hold of `amountUsd` (already booked) on `date`; returns its id. */
export async function insertReservation(db: Db, hold: { date: string; amountUsd: number; sessionId: number | null }): Promise<string> {
  const row = await db
    .insertInto('agent_budget_reservations')
    .values({ date: hold.date, amount_usd: hold.amountUsd, session_id: hold.sessionId, status: 'reserved' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/**
 * Marks an open reservation settled at `actualUsd` (already booked); returns its day and the amount it held, or null
 * when it was settled before (settling twice has no effect).
 */
export async function markReservationSettled(
  db: Db,
  reservationId: string,
  actualUsd: number,
  facts: SettlementFacts,
): Promise<{ date: string; heldUsd: number } | null> {
  const row = await db
    .updateTable('agent_budget_reservations')
    .set({
      status: 'settled',
      settled_usd: actualUsd,
      settled_at: sql`NOW()`,
      estimated: facts.estimated ?? false,
      request_id: facts.requestId ?? null,
      inference_geo: facts.inferenceGeo ?? null,
      service_tier: facts.serviceTier ?? null,
    })
    .where('id', '=', reservationId)
    .where('status', '=', 'reserved')
    .returning(['date', 'amount_usd'])
    .executeTakeFirst();
  return row ? { date: dayString(row.date as unknown as string), heldUsd: toNumber(row.amount_usd) } : null;
}

/** Reservations still open since before `olderThan`, except those an open Message Batch holds (its result settles them). */
export async function findStaleReservations(db: Db, olderThan: Date): Promise<OpenReservation[]> {
  const rows = await db
    .selectFrom('agent_budget_reservations')
    .select(['id', 'amount_usd', 'session_id'])
    .where('status', '=', 'reserved')
    .where('created_at', '<', olderThan)
    // A Message Batch holds its reservation for up to 24 hours.
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
  return rows.map((row) => ({ id: String(row.id), amountUsd: toNumber(row.amount_usd), sessionId: row.session_id }));
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
