import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { redactSecrets } from '../core/cli/redact.ts';
import { runTick, type TickLogger } from '../core/engine/runtime.ts';

export default class Tick extends AgentCommand {
  static override summary = 'Run one trigger pass (for cron or a systemd timer, every 5 minutes).';
  static override description = `Polls the active sessions' KTRDR operations (no LLM tokens), applies the quality gates, enforces the daily budget, and invokes the designer only when a decision is due. Quiet: JSON log lines on stderr, nothing on stdout unless --verbose. A tick that loses the tick lock to another one exits 0.\n\n${exitCodesHelp}`;
  static override flags = {
    verbose: Flags.boolean({ char: 'v', description: 'Also print what the pass did on stdout.' }),
  };
  static override examples = ['<%= config.bin %> tick', '*/5 * * * * <%= config.bin %> tick --env-file ~/.config/ktrdr-agent/agent.env'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Tick);
    const config = this.loadAgentConfig(flags['env-file']);
    const log: TickLogger = (level, event, fields = {}) => {
      process.stderr.write(`${redactSecrets(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }))}\n`);
    };
    const outcome = await runTick({
      config,
      log,
      lockWaitMs: Math.min(config.settings.AGENT_LOCK_WAIT_SECONDS, 5) * 1000,
      ...(flags.verbose ? { explain: (line: string) => this.log(line) } : {}),
    });
    if (outcome.kind === 'locked') {
      log('info', 'tick_skipped', { reason: outcome.message });
      return;
    }
    const { summary } = outcome;
    log('info', 'tick_finished', {
      tick: outcome.tickId,
      status: summary.status,
      durationMs: outcome.durationMs,
      decisions: summary.decisions.length,
      invoked: summary.decisions.filter((d) => d.invoked).length,
      sessionsCreated: summary.sessionsCreated,
      ktrdrUnreachable: summary.ktrdrUnreachable,
      budgetRemainingUsd: Number(summary.budget.remainingUsd.toFixed(4)),
    });
  }
}
