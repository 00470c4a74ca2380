// A transaction across tables (agent_sessions and agent_budget), so it belongs to neither table's repository.
import type { Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import { utcDay } from '../../kernel/utc-day.ts';
import { incrementBudgetCounters } from '../repositories/budget.ts';
import type { SessionPhase } from '../../session/model.ts';
import { findSession, takeLease, updateSession, type SessionChanges } from '../repositories/sessions.ts';

/**
 * Leases a session for an invocation, in one transaction with what the pass learnt (results, gate, a phase change)
 * and the invocation count: only in the phase the decision was made for, as another pass may have invoked and moved
 * the session on. False when the session is gone or another pass holds it.
 */
export async function leaseForInvocation(
  db: Kysely<Database>,
  input: { sessionId: number; phase: SessionPhase; lease: { owner: string; expiresAt: Date }; changes: SessionChanges; now: Date },
): Promise<boolean> {
  const { sessionId, lease, changes, now } = input;
  return db.transaction().execute(async (trx) => {
    const session = await findSession(trx, sessionId);
    if (!session) return false;
    if (!(await takeLease(trx, sessionId, lease, now, { phase: input.phase }))) return false;
    // A phase change starts the count afresh.
    await updateSession(trx, sessionId, { ...changes, invocationAttempts: changes.phase ? 1 : session.invocationAttempts + 1 }, now);
    await incrementBudgetCounters(trx, utcDay(now), { invocations: 1 });
    return true;
  });
}
