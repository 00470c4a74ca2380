import { AgentCommand, exitCodesHelpWith, roundMoney } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { redactSecrets } from '../core/kernel/secrets.ts';
import { runTick } from '../core/engine/runtime.ts';
import { tickHealth } from '../core/engine/tick-health.ts';
import { terminalLine } from '../core/cli/terminal-text.ts';
import { formatUsd } from '../core/budget/money.ts';

export default class Trigger extends AgentCommand {
  static override summary = 'Run a trigger pass now and explain what it checked and did.';
  static override description =
    `The same pass as \`tick\`, for a person: it waits for the database, prints each check and action, and exits 3 when the budget stopped it.\n\n${exitCodesHelpWith({ [ExitCode.BudgetExceeded]: 'budget exceeded: the pass could not invoke the model', [ExitCode.Degraded]: 'degraded: a dependency failed the pass (see `tick --help`)', [ExitCode.TickLockLost]: 'the tick lock was lost mid-pass: the pass stopped before its next write' })}`;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> trigger', '<%= config.bin %> trigger --json'];

  async run() {
    const { flags } = await this.parse(Trigger);
    const config = this.loadAgentConfig();
    const json = this.jsonEnabled();
    const outcome = await runTick({
      config,
      log: (level, event, fields) => process.stderr.write(`${level}: ${event} ${redactSecrets(JSON.stringify(fields ?? {}))}\n`),
      lockWaitMs: config.settings.AGENT_LOCK_WAIT_SECONDS * 1000,
      ...(json ? {} : { explain: (line: string) => this.log(terminalLine(line)) }),
    });
    if (outcome.kind === 'locked') {
      throw new AgentError(`Another pass is running (${outcome.message}). Try again in a moment.`, ExitCode.Error, 'tick_locked');
    }
    const { summary } = outcome;
    if (!json) {
      const invoked = summary.decisions.filter((d) => d.invoked).length;
      this.log(
        `Done: ${summary.decisions.length} decision(s), ${invoked} invocation(s); budget ${formatUsd(summary.budget.usedUsd)} / ${formatUsd(summary.budget.limitUsd)} used today.`,
      );
    }
    const stoppedByBudget = summary.budgetExceeded && !summary.decisions.some((d) => d.invoked);
    if (stoppedByBudget) {
      const message = `The daily budget is spent (${formatUsd(summary.budget.usedUsd)} of ${formatUsd(summary.budget.limitUsd)}, keeping a ${formatUsd(config.settings.AGENT_BUDGET_BUFFER_USD)} buffer). Raise it with \`ktrdr-agent budget set <usd>\` or wait for the next UTC day.`;
      if (!json) throw new AgentError(message, ExitCode.BudgetExceeded, 'budget_exceeded');
      // One JSON document: what the pass did, and why it stopped; its status and exit code are the process's.
      this.logJson(
        roundMoney({
          ...summary,
          status: 'budget_exceeded',
          exitCode: ExitCode.BudgetExceeded,
          tickId: outcome.tickId,
          error: { code: 'budget_exceeded', message, exitCode: ExitCode.BudgetExceeded },
        }),
      );
      process.exitCode = ExitCode.BudgetExceeded;
      return undefined;
    }
    // Same meaning as for `tick`: a dependency that failed the pass (or refused a key) is not a success, and the
    // JSON says what the exit code says (the pass's own `status` is only whether it ran or was paused).
    const health = tickHealth(summary);
    process.exitCode = health.exitCode;
    return { ...summary, status: health.status, exitCode: health.exitCode, tickId: outcome.tickId };
  }
}
