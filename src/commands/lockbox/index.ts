import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { useColor } from '../../core/cli/format.ts';
import { loadLockboxView } from '../../core/cli/views/promotion-view.ts';
import type { LockboxView } from '../../core/cli/views/promotion-schemas.ts';
import { renderLockboxText } from '../../core/cli/views/lockbox-text.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class Lockbox extends AgentCommand {
  static override summary = 'Show each lockbox: the most recent data held back from every designer, and how often the promotion stage consulted it.';
  static override description =
    `A boundary is fixed from KTRDR's data range the first time a symbol and timeframe are used (the most recent AGENT_LOCKBOX_MONTHS months) and never moves by itself. Every lockbox backtest is one consultation: the experiments that consulted it are listed. \`lockbox reset\` burns one deliberately.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> lockbox', '<%= config.bin %> lockbox --json'];

  async run(): Promise<LockboxView> {
    const { flags } = await this.parse(Lockbox);
    const config = this.loadAgentConfig(flags['env-file']);
    const view = await withStore(config, (db) => loadLockboxView(db, { now: new Date(), lockboxMonths: config.settings.AGENT_LOCKBOX_MONTHS }));
    if (!this.jsonEnabled()) this.log(renderLockboxText(view, { color: useColor() }));
    return view;
  }
}
