// `cancel`: the operator ends a session, then its KTRDR operation and its open Message Batch are asked to stop.
import type { Kysely } from 'kysely';
import { endSession } from '../../session/end.ts';
import { cancelSessionBatch } from '../../agent/message-batch-cancel.ts';
import type { AgentConfig } from '../../config/load.ts';
import type { Database } from '../../db/database-schema.ts';
import { phaseOperationId, type SessionOutcome } from '../../session/model.ts';
import { findSession, listActiveSessions, type Session } from '../../db/repositories/sessions.ts';
import { createKtrdrClient } from '../../ktrdr/create-client.ts';
import { noopTracer } from '../../kernel/tracer.ts';
import { AgentError, ExitCode } from '../../kernel/errors.ts';

export type CancelResult =
  | { sessionId: number; cancelled: true; operation: string }
  /** The session ended on its own between the look-up and the cancel. */
  | { sessionId: number; cancelled: false; outcome: SessionOutcome | null; operation: 'none' };

/** The session named, or else the only active one; an AgentError when there is none to cancel or several. */
async function sessionToCancel(db: Kysely<Database>, sessionId: number | undefined): Promise<Session> {
  if (sessionId !== undefined) {
    const session = await findSession(db, sessionId);
    if (!session) throw new AgentError(`Session #${sessionId} not found.`, ExitCode.NotFound, 'not_found');
    if (session.outcome) throw new AgentError(`Session #${sessionId} already ended (${session.outcome}).`, ExitCode.NotFound, 'not_active');
    return session;
  }
  const active = await listActiveSessions(db);
  if (active.length === 0) throw new AgentError('No active session to cancel.', ExitCode.NotFound, 'no_active_session');
  if (active.length > 1) {
    throw new AgentError(
      `${active.length} sessions are active (${active.map((s) => `#${s.id}`).join(', ')}): name one, e.g. \`ktrdr-agent cancel ${active[0]!.id}\`.`,
      ExitCode.Error,
      'ambiguous',
    );
  }
  return active[0]!;
}

/**
 * Ends a session as 'cancelled', then asks KTRDR to cancel its operation and Anthropic its open Message Batch.
 * Succeeds for an active session even when KTRDR is down or the operation is gone: `operation` says what happened.
 */
export async function cancelSession(db: Kysely<Database>, config: AgentConfig, sessionId: number | undefined): Promise<CancelResult> {
  const session = await sessionToCancel(db, sessionId);
  // The session ends first, in its own transaction, and only then is its operation cancelled in KTRDR: a tick
  // that runs in between sees an ended session, never a live one whose operation failed (which it would resume).
  const cancelled = await endSession(db, session.id, { outcome: 'cancelled', reason: 'cancelled by operator' }, new Date());
  const ended = await findSession(db, session.id);
  if (!cancelled) return { sessionId: session.id, cancelled: false, outcome: ended?.outcome ?? null, operation: 'none' };
  // The phase it was in when it ended (the entry before the 'idle' that ending appended), not the one read before.
  const phase = ended?.phaseHistory.at(-2)?.phase ?? session.phase;
  const operationId = ended ? phaseOperationId({ ...ended, phase }) : null;
  let operation: string = 'none';
  if (operationId) {
    const ktrdr = createKtrdrClient(config, noopTracer);
    operation = await ktrdr.cancelOperation(operationId, { reason: 'cancelled by operator' }).then(
      () => `${operationId} cancelled`,
      (error: unknown) => `${operationId} not cancelled in KTRDR (${(error as Error).message})`,
    );
  }
  // An open Message Batch is asked to stop; its reservation stays until a pass reads what it was billed.
  const batch = await cancelSessionBatch(db, config, session.id);
  if (batch !== null) operation = operation === 'none' ? batch : `${operation}; ${batch}`;
  return { sessionId: session.id, cancelled: true, operation };
}
