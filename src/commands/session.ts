import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { useColor } from '../core/cli/format.ts';
import type { SessionView } from '../core/cli/views/schemas.ts';
import { loadSessionView, MAX_SESSION_ID, parseSessionId } from '../core/cli/views/session-view.ts';
import { renderSessionText } from '../core/cli/views/session-text.ts';
import { viewSettings } from '../core/cli/views/view-settings.ts';
import { withStore } from '../core/cli/with-store.ts';
import { terminalView } from '../core/cli/terminal-text.ts';

export default class Session extends AgentCommand {
  static override summary = 'Show everything about one session: strategy, results, gates, assessment, cost and actions.';
  static override description = `Exits with 4 when no session has that id.\n\n${exitCodesHelpWith({ [ExitCode.NotFound]: 'no session has that id' })}`;
  static override enableJsonFlag = true;
  static override args = {
    id: Args.string({ description: 'Session id (as shown by status and history; a leading # is fine).', required: true }),
  };
  static override flags = {
    actions: Flags.integer({ description: 'Show at most this many actions, oldest first.', default: 200, min: 0, max: 10000 }),
  };
  static override examples = ['<%= config.bin %> session 41', '<%= config.bin %> session 41 --json', '<%= config.bin %> session 41 --actions 1000'];

  async run(): Promise<SessionView> {
    const { args, flags } = await this.parse(Session);
    const id = parseSessionId(args.id);
    const config = this.loadAgentConfig();
    const view =
      id > MAX_SESSION_ID
        ? null
        : await withStore(config, (db) =>
            loadSessionView(db, id, { now: new Date(), actionLimit: flags.actions, stallAfterSeconds: viewSettings(config).stallAfterSeconds }),
          );
    if (!view) {
      throw new AgentError(`No session #${id}. \`ktrdr-agent history\` lists the sessions there are.`, ExitCode.NotFound, 'session_not_found');
    }
    if (!this.jsonEnabled()) this.log(renderSessionText(terminalView(view), { color: useColor() }));
    return view;
  }
}
