import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { useColor } from '../core/cli/format.ts';
import { outputWidth } from '../core/cli/terminal-width.ts';
import type { StatusView } from '../core/cli/views/schemas.ts';
import { loadStatusView } from '../core/cli/views/status-view.ts';
import { renderStatusText } from '../core/cli/views/status-text.ts';
import { viewSettings } from '../core/cli/views/view-settings.ts';
import { withStore } from '../core/cli/with-store.ts';
import { terminalView } from '../core/cli/terminal-text.ts';

export default class Status extends AgentCommand {
  static override summary = "Show the current research cycle, recent outcomes, today's budget and the last tick.";
  static override description =
    `Reads the database only; it never calls KTRDR or the model. With --watch it draws a live dashboard that refreshes from the database until you press q (without a terminal it prints one frame and exits).\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    watch: Flags.boolean({ char: 'w', description: 'Live dashboard refreshed from the database; q quits, r refreshes now.' }),
    interval: Flags.integer({ description: 'Seconds between refreshes with --watch.', default: 2, min: 1, max: 3600 }),
    recent: Flags.integer({ description: 'How many finished cycles to list.', default: 5, min: 0, max: 50 }),
  };
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --json',
    '<%= config.bin %> status --watch',
    '<%= config.bin %> status --watch --interval 5',
  ];

  async run(): Promise<StatusView | null> {
    const { flags } = await this.parse(Status);
    const config = this.loadAgentConfig();
    if (flags.watch) {
      if (this.jsonEnabled()) {
        throw new AgentError('--watch draws a live screen and cannot be combined with --json; use `status --json` for one snapshot.', ExitCode.Error, 'usage');
      }
      // Ink and React load only here, so every other command (and cron's tick) starts without them.
      const { runStatusWatch } = await import('../core/cli/tui/watch.ts');
      await runStatusWatch({ config, intervalSeconds: flags.interval, recentLimit: flags.recent });
      return null;
    }
    const view = await withStore(config, (db) => loadStatusView(db, { now: new Date(), recentLimit: flags.recent, ...viewSettings(config) }));
    if (!this.jsonEnabled()) this.log(renderStatusText(terminalView(view), { color: useColor(), width: outputWidth() }));
    return view;
  }
}
