import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { useColor } from '../../core/cli/format.ts';
import { outputWidth } from '../../core/cli/terminal-width.ts';
import { expandOutcomeFilter, outcomeFilterChoices } from '../../core/cli/views/history-view.ts';
import { loadExperimentsView } from '../../core/cli/views/research-view.ts';
import { renderExperimentsText } from '../../core/cli/views/research-text.ts';
import type { ExperimentsView } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';
import { experimentSortKeys, type ExperimentSortKey } from '../../core/db/repositories/experiments.ts';
import { terminalView } from '../../core/cli/terminal-text.ts';

export default class Experiments extends AgentCommand {
  static override summary = 'List the research memory: one experiment per finished session, best or newest first.';
  static override description =
    `--sort score ranks by the backtest Sharpe of experiments that passed both gates; completed_at (the default) lists the newest first. --indicator keeps experiments using every indicator type given (repeat it). dsr is the deflated Sharpe ratio among the backtests of the same symbol and timeframe.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    outcome: Flags.string({
      description: 'Only experiments with this outcome (`failed` = every failed_*).',
      options: [...outcomeFilterChoices],
      multiple: true,
    }),
    indicator: Flags.string({ description: 'Only experiments that use this indicator type (e.g. rsi).', multiple: true }),
    symbol: Flags.string({ description: 'Only experiments on this symbol.' }),
    sort: Flags.string({ description: 'Order by this metric, best first.', options: [...experimentSortKeys], default: 'completed_at' }),
    limit: Flags.integer({ char: 'n', description: 'Experiments to show.', default: 20, min: 1, max: 1000 }),
    promoted: Flags.boolean({
      description: 'Only strategies the promotion stage promoted (robustness and lockbox backtests held up), newest first.',
      default: false,
    }),
  };
  static override examples = [
    '<%= config.bin %> experiments',
    '<%= config.bin %> experiments --sort score --limit 10',
    '<%= config.bin %> experiments --indicator rsi --indicator adx --outcome failed',
    '<%= config.bin %> experiments --symbol EURUSD --json',
    '<%= config.bin %> experiments --promoted',
  ];

  async run(): Promise<ExperimentsView> {
    const { flags } = await this.parse(Experiments);
    const config = this.loadAgentConfig();
    const outcomes = flags.outcome && flags.outcome.length > 0 ? expandOutcomeFilter(flags.outcome as (typeof outcomeFilterChoices)[number][]) : null;
    const view = await withStore(config, (db) =>
      loadExperimentsView(db, {
        now: new Date(),
        outcomes,
        indicators: flags.indicator && flags.indicator.length > 0 ? flags.indicator.map((i) => i.toLowerCase()) : null,
        symbol: flags.symbol ?? null,
        sort: flags.sort as ExperimentSortKey,
        limit: flags.limit,
        promoted: flags.promoted,
      }),
    );
    if (!this.jsonEnabled()) this.log(renderExperimentsText(terminalView(view), { color: useColor(), width: outputWidth() }));
    return view;
  }
}
