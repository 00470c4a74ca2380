import { Args } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../core/cli/base-command.ts';
import { ExitCode } from '../core/kernel/errors.ts';
import { cancelSession } from '../core/cli/services/cancel.ts';
import { renderCancelText } from '../core/cli/views/cancel-text.ts';
import { withStore } from '../core/cli/with-store.ts';
import { MAX_SESSION_ID } from '../core/cli/views/session-view.ts';
import { terminalView } from '../core/cli/terminal-text.ts';

export default class Cancel extends AgentCommand {
  static override summary = 'Cancel the active session (or the given one) and its KTRDR operation.';
  static override description =
    `Always succeeds for an active session, even when KTRDR is down or the operation is gone: the session ends as 'cancelled'.\n\n${exitCodesHelpWith({ [ExitCode.NotFound]: 'no active session (or none with that id)' })}`;
  static override enableJsonFlag = true;
  static override args = {
    session: Args.integer({ description: 'Session id (default: the only active session)', required: false, min: 1, max: MAX_SESSION_ID }),
  };
  static override examples = ['<%= config.bin %> cancel', '<%= config.bin %> cancel 42'];

  async run() {
    const { args, flags } = await this.parse(Cancel);
    const config = this.loadAgentConfig();
    const result = await withStore(config, (db) => cancelSession(db, config, args.session));
    if (!this.jsonEnabled()) this.log(renderCancelText(terminalView(result)));
    return result;
  }
}
