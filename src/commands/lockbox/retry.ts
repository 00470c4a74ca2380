import { Args } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { retryHeldValidations } from '../../core/cli/services/lockbox-retry.ts';
import type { LockboxRetryResult } from '../../core/cli/views/promotion-schemas.ts';
import { parseResearchId } from '../../core/cli/views/research-view.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class LockboxRetry extends AgentCommand {
  static override summary = "Plan a promotion's held validation backtests again (held after KTRDR lost a run or the tries ran out): the next tick runs them.";
  static override description =
    "Before it starts one, the validation lane reads KTRDR's active backtests: a lost run that is still live is waited for, never run twice. " +
    `An unknown experiment or one with no promotion exits 4; a decided promotion, or one with nothing held, exits 1 and changes nothing.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = { experiment: Args.string({ description: 'Experiment id (as `experiments --promoted` shows it).', required: true }) };
  static override examples = ['<%= config.bin %> lockbox retry 12', '<%= config.bin %> lockbox retry 12 --json'];

  async run(): Promise<LockboxRetryResult> {
    const { args, flags } = await this.parse(LockboxRetry);
    const experimentId = parseResearchId(args.experiment, 'experiment');
    const config = this.loadAgentConfig(flags['env-file']);
    const result = await withStore(config, (db) => retryHeldValidations(db, { experimentId, now: new Date() }));
    if (!this.jsonEnabled()) {
      const windows = result.retried.map((w) => `${w.kind} ${w.startDate}..${w.endDate}`).join(', ');
      this.log(`Experiment #${experimentId}: ${result.retried.length} held backtest(s) planned again (${windows}). The next tick runs them.`);
    }
    return result;
  }
}
