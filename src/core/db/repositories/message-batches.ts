// agent_message_batches: a model call sent as a Message Batch, from its create call to its settled result
// (agent/message-batch.ts drives it); only this file writes it.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AgentMessageBatchesTable, Database } from '../database-schema.ts';
import type { InvocationPurpose } from '../../session/model.ts';
import { toDate, toDateOrNull, toNumber } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface OpenBatch {
  id: string;
  sessionId: number;
  purpose: InvocationPurpose;
  customId: string;
  batchId: string | null;
  status: 'submitting' | 'in_progress' | 'canceling';
  model: string;
  firstMessage: string;
  reservationId: string;
  reservedUsd: number;
  createdAt: Date;
  submittedAt: Date | null;
  expiresAt: Date | null;
}

export type BatchResultType = NonNullable<AgentMessageBatchesTable['result_type']>;

function toOpenBatch(row: Selectable<AgentMessageBatchesTable>): OpenBatch {
  return {
    id: String(row.id),
    sessionId: row.session_id,
    purpose: row.purpose,
    customId: row.custom_id,
    batchId: row.batch_id,
    status: row.status as OpenBatch['status'],
    model: row.model,
    firstMessage: row.first_message,
    reservationId: String(row.reservation_id),
    reservedUsd: toNumber(row.reserved_usd),
    createdAt: toDate(row.created_at),
    submittedAt: toDateOrNull(row.submitted_at),
    expiresAt: toDateOrNull(row.expires_at),
  };
}

/** The batch a session is waiting for, if any (at most one is open per session). */
export async function findOpenBatch(db: Db, sessionId: number): Promise<OpenBatch | null> {
  const row = await db.selectFrom('agent_message_batches').selectAll().where('session_id', '=', sessionId).where('status', '<>', 'ended').executeTakeFirst();
  return row ? toOpenBatch(row) : null;
}

/** Open batches of every session, or of ended sessions only (a `cancel` leaves them to be settled by a pass). */
export async function listOpenBatches(db: Db, options: { endedSessionsOnly?: boolean } = {}): Promise<OpenBatch[]> {
  let query = db.selectFrom('agent_message_batches').selectAll('agent_message_batches').where('agent_message_batches.status', '<>', 'ended');
  if (options.endedSessionsOnly) {
    query = query.innerJoin('agent_sessions', 'agent_sessions.id', 'agent_message_batches.session_id').where('agent_sessions.outcome', 'is not', null);
  }
  const rows = await query.orderBy('agent_message_batches.id').execute();
  return rows.map(toOpenBatch);
}

/** The row of a batch about to be created (`submitting`, no batch id yet); returns its id. */
export async function insertSubmittingBatch(
  db: Db,
  input: {
    sessionId: number;
    purpose: InvocationPurpose;
    customId: string;
    model: string;
    firstMessage: string;
    reservationId: string;
    reservedUsd: number;
    createdAt: Date;
  },
): Promise<string> {
  const row = await db
    .insertInto('agent_message_batches')
    .values({
      session_id: input.sessionId,
      purpose: input.purpose,
      custom_id: input.customId,
      batch_id: null,
      status: 'submitting',
      model: input.model,
      first_message: input.firstMessage,
      reservation_id: input.reservationId,
      reserved_usd: input.reservedUsd,
      created_at: input.createdAt,
      result_type: null,
      detail: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** The API holds the batch now: its id, and when it expires (set to null when not known). */
export async function markBatchInProgress(db: Db, id: string, batch: { batchId: string; submittedAt: Date; expiresAt?: Date }): Promise<void> {
  await db
    .updateTable('agent_message_batches')
    .set({ batch_id: batch.batchId, status: 'in_progress', submitted_at: batch.submittedAt, ...(batch.expiresAt ? { expires_at: batch.expiresAt } : {}) })
    .where('id', '=', id)
    .execute();
}

/** The batch ended: its result and the amount its reservation was settled at. */
export async function markBatchEnded(
  db: Db,
  id: string,
  end: { endedAt: Date; resultType: BatchResultType; settledUsd: number; detail: string },
): Promise<void> {
  await db
    .updateTable('agent_message_batches')
    .set({ status: 'ended', ended_at: end.endedAt, result_type: end.resultType, settled_usd: end.settledUsd, detail: end.detail })
    .where('id', '=', id)
    .execute();
}

/** An operator's `cancel` asked the API to cancel it (`canceling`), or found it already ended (`in_progress`, to be collected). */
export async function setBatchStatus(db: Db, id: string, status: 'in_progress' | 'canceling'): Promise<void> {
  await db.updateTable('agent_message_batches').set({ status }).where('id', '=', id).execute();
}
