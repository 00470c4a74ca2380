// An operator's `pause` and `cancel` win over an invocation in flight. A tool whose effect starts compute in KTRDR
// or changes the session runs inside one transaction that first reads the control row FOR SHARE and the session row
// FOR UPDATE: `pause` (an UPDATE of the control row) and `cancel` (an UPDATE of the session row) wait for an effect
// already under way to commit, and an effect that comes after either sees it and does nothing. Between model calls
// the invocation asks the same question without locks, so it stops before its next paid call.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { readPaused } from '../db/repositories/control.ts';
import { findSession, readSessionOutcome, type Session } from '../db/repositories/sessions.ts';
import type { ToolOutcome } from './tool-dispatch.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Why an operator keeps this session's invocation from going on, or null when nothing does. */
export async function operatorStop(db: Db, sessionId: number, options: { lock: boolean } = { lock: false }): Promise<string | null> {
  // Control row first, session row second, always: pause locks only the first, cancel only the second, so no cycle.
  const paused = await readPaused(db, options);
  const row = await readSessionOutcome(db, sessionId, options);
  if (!row) return `session #${sessionId} no longer exists; nothing was done`;
  if (row.outcome !== null)
    return `session #${sessionId} ended (${row.outcome}${row.outcome === 'cancelled' ? ' by the operator' : ''}); nothing was done and nothing more is to be done`;
  if (paused) return 'the operator paused the agent (`ktrdr-agent pause`); nothing was done: stop now, the session resumes after `ktrdr-agent resume`';
  return null;
}

/** What `runEffect` needs of a tool's context: the store it swaps for the transaction while the effect runs. */
export interface EffectContext {
  db: Kysely<Database>;
  sessionId: number;
}

/**
 * Runs a tool's effect under the operator's control: in one transaction holding the control and session rows, with
 * `context.db` pointing at that transaction meanwhile (so every read and write of the effect is inside it), on the
 * session as locked. When an operator paused or ended the session first, the effect does not run.
 */
export async function runEffect(context: EffectContext, effect: (session: Session) => Promise<ToolOutcome>): Promise<ToolOutcome> {
  const outer = context.db;
  return outer.transaction().execute(async (trx) => {
    const stop = await operatorStop(trx, context.sessionId, { lock: true });
    if (stop !== null) return { ok: false, error: stop, kind: 'operator_stopped' };
    const session = await findSession(trx, context.sessionId);
    if (!session) return { ok: false, error: `session #${context.sessionId} no longer exists`, kind: 'operator_stopped' };
    context.db = trx;
    try {
      return await effect(session);
    } finally {
      context.db = outer;
    }
  });
}
