import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { useColor } from '../../core/cli/format.ts';
import { loadBudgetView } from '../../core/cli/views/budget-view.ts';
import { renderBudgetText } from '../../core/cli/views/budget-text.ts';
import type { BudgetView } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';
import { terminalView } from '../../core/cli/terminal-text.ts';

export default class Budget extends AgentCommand {
  static override summary = "Show today's LLM budget and spending over the last days.";
  static override description = `Days are UTC days. The limit is AGENT_BUDGET_DAILY_USD unless \`budget set\` has overridden it.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    days: Flags.integer({ description: 'Days of history, ending today (0 shows today only).', default: 7, min: 0, max: 366 }),
  };
  static override examples = ['<%= config.bin %> budget', '<%= config.bin %> budget --days 30', '<%= config.bin %> budget --json'];

  async run(): Promise<BudgetView> {
    const { flags } = await this.parse(Budget);
    const config = this.loadAgentConfig();
    const view = await withStore(config, (db) =>
      loadBudgetView(db, {
        now: new Date(),
        days: flags.days,
        configuredLimitUsd: config.settings.AGENT_BUDGET_DAILY_USD,
        bufferUsd: config.settings.AGENT_BUDGET_BUFFER_USD,
        enforcement: config.settings.AGENT_BUDGET_ENFORCEMENT,
      }),
    );
    if (!this.jsonEnabled()) this.log(renderBudgetText(terminalView(view), { color: useColor() }));
    return view;
  }
}
