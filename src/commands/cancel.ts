import { Args } from '@oclif/core';
import { endSession } from '../core/agent/effects.ts';
import { cancelSessionBatch } from '../core/agent/message-batch-cancel.ts';
import { AgentCommand, exitCodesHelpWith } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { withStore } from '../core/cli/with-store.ts';
import { findSession, listActiveSessions } from '../core/db/repositories/sessions.ts';
import { createKtrdrClient } from '../core/ktrdr/create-client.ts';
import { noopTracer } from '../core/kernel/tracer.ts';

export default class Cancel extends AgentCommand {
  static override summary = 'Cancel the active session (or the given one) and its KTRDR operation.';
  static override description = `Always succeeds for an active session, even when KTRDR is down or the operation is gone: the session ends as 'cancelled'.\n\n${exitCodesHelpWith({ [ExitCode.NotFound]: 'no active session (or none with that id)' })}`;
  static override enableJsonFlag = true;
  static override args = { session: Args.integer({ description: 'Session id (default: the only active session)', required: false, min: 1 }) };
  static override examples = ['<%= config.bin %> cancel', '<%= config.bin %> cancel 42'];

  async run() {
    const { args, flags } = await this.parse(Cancel);
    const config = this.loadAgentConfig(flags['env-file']);
    return withStore(config, async (db) => {
      let session;
      if (args.session !== undefined) {
        session = await findSession(db, args.session);
        if (!session) throw new AgentError(`Session #${args.session} not found.`, ExitCode.NotFound, 'not_found');
        if (session.outcome) throw new AgentError(`Session #${args.session} already ended (${session.outcome}).`, ExitCode.NotFound, 'not_active');
      } else {
        const active = await listActiveSessions(db);
        if (active.length === 0) throw new AgentError('No active session to cancel.', ExitCode.NotFound, 'no_active_session');
        if (active.length > 1) {
          throw new AgentError(`${active.length} sessions are active (${active.map((s) => `#${s.id}`).join(', ')}): name one, e.g. \`ktrdr-agent cancel ${active[0]!.id}\`.`, ExitCode.Error, 'ambiguous');
        }
        session = active[0]!;
      }
      // The session ends first, in its own transaction, and only then is its operation cancelled in KTRDR: a tick
      // that runs in between sees an ended session, never a live one whose operation failed (which it would resume).
      const cancelled = await endSession(db, session.id, { outcome: 'cancelled', reason: 'cancelled by operator' }, new Date());
      const ended = await findSession(db, session.id);
      if (!cancelled) {
        if (!this.jsonEnabled()) this.log(`Session #${session.id} had just ended (${ended?.outcome ?? 'unknown'}) before the cancel; nothing to cancel.`);
        return { sessionId: session.id, cancelled: false, outcome: ended?.outcome ?? null, operation: 'none' };
      }
      // The phase it was in when it ended (the entry before the 'idle' that ending appended), not the one read before.
      const phase = ended?.phaseHistory.at(-2)?.phase ?? session.phase;
      const operationId = phase === 'training' ? ended?.trainingOperationId : phase === 'backtesting' ? ended?.backtestOperationId : null;
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
      if (!this.jsonEnabled()) this.log(`Session #${session.id} cancelled (operation: ${operation}).`);
      return { sessionId: session.id, cancelled: true, operation };
    });
  }
}
