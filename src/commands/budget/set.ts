import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../../core/kernel/errors.ts';
import { useColor } from '../../core/cli/format.ts';
import { setDailyLimit, parseDailyLimit } from '../../core/cli/views/budget-set.ts';
import { renderBudgetSetText } from '../../core/cli/views/budget-text.ts';
import type { BudgetSetResult } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class BudgetSet extends AgentCommand {
  static override summary = 'Set the daily LLM budget limit in USD (a database override of AGENT_BUDGET_DAILY_USD), or --clear it.';
  static override description = `Takes effect at once, for today as well; it stays until set again or cleared. Amounts are kept to the cent (10.005 becomes 10.01, and the output says so).\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = {
    usd: Args.string({ description: 'Dollars per UTC day: a positive amount up to 100000, e.g. 10 or 10.00.', required: false }),
  };
  static override flags = {
    clear: Flags.boolean({ description: 'Remove the override: AGENT_BUDGET_DAILY_USD applies again.' }),
  };
  static override examples = ['<%= config.bin %> budget set 10.00', '<%= config.bin %> budget set 2.5 --json', '<%= config.bin %> budget set --clear'];

  async run(): Promise<BudgetSetResult> {
    const { args, flags } = await this.parse(BudgetSet);
    if (flags.clear === (args.usd !== undefined)) {
      throw new AgentError(
        flags.clear ? '`budget set --clear` takes no amount: it returns to AGENT_BUDGET_DAILY_USD.' : 'Give an amount (`ktrdr-agent budget set 10.00`) or --clear.',
        ExitCode.Error,
        'usage',
      );
    }
    const parsed = args.usd === undefined ? null : parseDailyLimit(args.usd);
    const config = this.loadAgentConfig(flags['env-file']);
    const result = await withStore(config, (db) =>
      setDailyLimit(db, {
        limitUsd: parsed?.limitUsd ?? null,
        roundedFrom: parsed?.roundedFrom ?? null,
        configuredLimitUsd: config.settings.AGENT_BUDGET_DAILY_USD,
        now: new Date(),
      }),
    );
    if (!this.jsonEnabled()) this.log(renderBudgetSetText(result, { color: useColor() }));
    return result;
  }
}
