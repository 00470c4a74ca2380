import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../../core/kernel/errors.ts';
import { formatUsd, useColor } from '../../core/cli/format.ts';
import { setDailyLimit, parseDailyLimit } from '../../core/cli/services/budget-set.ts';
import { renderBudgetSetText } from '../../core/cli/views/budget-text.ts';
import type { BudgetSetResult } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class BudgetSet extends AgentCommand {
  static override summary = 'Set the daily LLM budget limit in USD (a database override of AGENT_BUDGET_DAILY_USD), or --clear it.';
  static override description =
    `Takes effect at once, for today as well; it stays until set again or cleared. Amounts are kept to the cent (10.005 becomes 10.01, and the output says so).\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = {
    usd: Args.string({ description: 'Dollars per UTC day: a positive amount up to 100000, e.g. 10 or 10.00.', required: false }),
  };
  static override flags = {
    clear: Flags.boolean({ description: 'Remove the override: AGENT_BUDGET_DAILY_USD applies again.' }),
    force: Flags.boolean({ description: 'Accept a limit at or below AGENT_BUDGET_BUFFER_USD (nothing can then be spent).' }),
  };
  static override examples = [
    '<%= config.bin %> budget set 10.00',
    '<%= config.bin %> budget set 2.5 --json',
    '<%= config.bin %> budget set --clear',
    '<%= config.bin %> budget set 0.05 --force',
  ];

  async run(): Promise<BudgetSetResult> {
    const { args, flags } = await this.parse(BudgetSet);
    // oclif leaves an absent boolean flag undefined, not false: compared as is, a bare `budget set` read as --clear.
    const clear = flags.clear === true;
    if (clear === (args.usd !== undefined)) {
      throw new AgentError(
        clear
          ? '`budget set --clear` takes no amount: it returns to AGENT_BUDGET_DAILY_USD.'
          : 'Give an amount, or --clear: `ktrdr-agent budget set 10.00`, or `ktrdr-agent budget set --clear` to return to AGENT_BUDGET_DAILY_USD. Nothing changed.',
        ExitCode.Error,
        'usage',
      );
    }
    const parsed = args.usd === undefined ? null : parseDailyLimit(args.usd);
    const config = this.loadAgentConfig(flags);
    const bufferUsd = config.settings.AGENT_BUDGET_BUFFER_USD;
    if (parsed && parsed.limitUsd <= bufferUsd && config.settings.AGENT_BUDGET_ENFORCEMENT) {
      const warning = `a limit of ${formatUsd(parsed.limitUsd)} is at or below the ${formatUsd(bufferUsd)} buffer (AGENT_BUDGET_BUFFER_USD) that is never spent, so no model call could ever be made`;
      if (!flags.force)
        throw new AgentError(
          `Refused: ${warning}. Give a larger amount, or add --force to set it anyway (to stop the agent, \`ktrdr-agent pause\` says so more plainly). Nothing changed.`,
          ExitCode.Error,
          'budget_below_buffer',
        );
      process.stderr.write(`Warning: ${warning} (--force given: set anyway).\n`);
    }
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
