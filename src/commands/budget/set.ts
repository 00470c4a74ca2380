import { Args } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { useColor } from '../../core/cli/format.ts';
import { setDailyLimit, parseDailyLimit } from '../../core/cli/views/budget-set.ts';
import { renderBudgetSetText } from '../../core/cli/views/budget-text.ts';
import type { BudgetSetResult } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class BudgetSet extends AgentCommand {
  static override summary = 'Set the daily LLM budget limit in USD (overrides AGENT_BUDGET_DAILY_USD).';
  static override description = `Takes effect at once, for today as well; it stays until set again.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = {
    usd: Args.string({ description: 'Dollars per UTC day: a positive amount up to 100000, e.g. 10 or 10.00.', required: true }),
  };
  static override examples = ['<%= config.bin %> budget set 10.00', '<%= config.bin %> budget set 2.5 --json'];

  async run(): Promise<BudgetSetResult> {
    const { args, flags } = await this.parse(BudgetSet);
    const limitUsd = parseDailyLimit(args.usd);
    const config = this.loadAgentConfig(flags['env-file']);
    const result = await withStore(config, (db) =>
      setDailyLimit(db, { limitUsd, configuredLimitUsd: config.settings.AGENT_BUDGET_DAILY_USD, now: new Date() }),
    );
    if (!this.jsonEnabled()) this.log(renderBudgetSetText(result, { color: useColor() }));
    return result;
  }
}
