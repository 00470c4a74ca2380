import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../core/cli/base-command.ts';
import { ExitCode } from '../core/kernel/errors.ts';
import { executeTick, reportTickFailure } from '../core/cli/tick-command.ts';

export default class Tick extends AgentCommand {
  static override summary = 'Run one trigger pass (for cron or a systemd timer, every 5 minutes).';
  static override description =
    `Polls the active sessions' KTRDR operations (no LLM tokens), applies the quality gates, enforces the daily budget, and invokes the designer only when a decision is due. Quiet: JSON log lines on stderr, nothing on stdout unless --verbose. A tick that finds another tick holding the tick lock exits 0 at once; one that loses the lock mid-pass exits 6. A spent budget is not a failure: the pass still polls and gates, it only invokes no model (exit 0, and \`status\` shows the banner); \`trigger\` is the command that exits 3 on it.\n\n${exitCodesHelpWith(
      {
        [ExitCode.Success]: 'the pass did its work or had nothing to do (paused, budget spent, lock held by another tick)',
        [ExitCode.Error]: 'unexpected error, or bad usage',
        [ExitCode.NotConfigured]: 'invalid or missing settings, or an API key that Anthropic (or KTRDR) refused',
        [ExitCode.Degraded]:
          'degraded: the pass ran but a dependency failed it (KTRDR or Anthropic unreachable, the strategies directory unwritable or full, the database gone)',
        [ExitCode.TickLockLost]: 'the tick lock was lost mid-pass: the pass stopped before its next write (a JSON tick_aborted line says why)',
      },
    )}`;
  static override flags = {
    verbose: Flags.boolean({ char: 'v', description: 'Also print what the pass did on stdout.' }),
  };
  static override examples = ['<%= config.bin %> tick', '*/5 * * * * <%= config.bin %> tick --agent-env ~/.config/ktrdr-agent/agent.env'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Tick);
    try {
      process.exitCode = await executeTick({ envFile: this.envFileFlag(), verbose: flags.verbose, out: (line) => this.log(line) });
    } catch (error) {
      // The tick path logs JSON only, errors included: cron and journald get one parseable line, never a stack.
      process.exitCode = reportTickFailure(error);
    }
  }
}
