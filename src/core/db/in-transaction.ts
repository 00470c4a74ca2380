import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database-schema.ts';

/**
 * Runs `work` in the caller's transaction when `db` is one, else in a new one: Kysely refuses to nest transactions,
 * and a write that must happen under an operator's control (a tool's effect) runs inside the transaction that holds
 * the control row.
 */
export function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}
