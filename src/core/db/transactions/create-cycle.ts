// A transaction across tables (agent_sessions and agent_budget), so it belongs to neither table's repository.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import { CYCLE_CREATION_LOCK_KEY } from '../tick-lock.ts';
import { utcDay } from '../../kernel/utc-day.ts';
import { incrementBudgetCounters } from '../repositories/budget.ts';
import { countActiveSessions, createSession, type Session } from '../repositories/sessions.ts';

/**
 * Creates a cycle's session, leased to the pass that designs it, and counts the cycle and its first invocation, unless
 * `maxActive` sessions are already active. The cap holds even if the tick lock were ever lost: creations are
 * serialised by an advisory lock and the count is taken inside it. Null when the cap was reached.
 */
export async function createSessionWithinCap(
  db: Kysely<Database>,
  input: {
    maxActive: number;
    designer: string;
    now: Date;
    leaseOwner: string;
    leaseExpiresAt: Date;
    /** Runs in the same transaction, under the same lock: the search's directive and the claim on its target. */
    onCreated?: (trx: Transaction<Database>, session: Session) => Promise<void>;
  },
): Promise<Session | null> {
  const { maxActive, onCreated, ...session } = input;
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${CYCLE_CREATION_LOCK_KEY})`.execute(trx);
    if ((await countActiveSessions(trx)) >= maxActive) return null;
    const created = await createSession(trx, session);
    await incrementBudgetCounters(trx, utcDay(input.now), { cyclesStarted: 1, invocations: 1 });
    if (onCreated) await onCreated(trx, created);
    return created;
  });
}
