import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { useColor } from '../core/cli/format.ts';
import { outputWidth } from '../core/cli/terminal-width.ts';
import { expandOutcomeFilter, loadHistoryView, outcomeFilterChoices, parseSince } from '../core/cli/views/history-view.ts';
import { renderHistoryText } from '../core/cli/views/history-text.ts';
import type { HistoryView } from '../core/cli/views/schemas.ts';
import { viewSettings } from '../core/cli/views/view-settings.ts';
import { withStore } from '../core/cli/with-store.ts';
import { terminalView } from '../core/cli/terminal-text.ts';

export default class History extends AgentCommand {
  static override summary = 'Show research sessions, newest first: results, gate reasons, assessment and cost.';
  static override description =
    `Active sessions come first, then finished ones by completion time. --outcome keeps finished sessions with that outcome (repeat it for several; \`failed\` means every failed_* outcome). --since keeps sessions finished at or after a day (2026-01-15, UTC), an ISO time, a span back from now (30m, 12h, 7d, 2w), today or yesterday. Page with --cursor and the nextCursor value of the previous page.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    limit: Flags.integer({ char: 'n', description: 'Sessions per page.', default: 10, min: 1, max: 1000 }),
    outcome: Flags.string({ description: 'Only finished sessions with this outcome.', options: [...outcomeFilterChoices], multiple: true }),
    since: Flags.string({ description: 'Only sessions finished since: 2026-01-15, 2026-01-15T14:00:00Z, 30m, 12h, 7d, 2w, today, yesterday.' }),
    cursor: Flags.string({ description: 'Continue after the page that printed this nextCursor.' }),
  };
  static override examples = [
    '<%= config.bin %> history',
    '<%= config.bin %> history --limit 5',
    '<%= config.bin %> history --outcome failed_backtest_gate --since 7d',
    '<%= config.bin %> history --outcome failed --json',
  ];

  async run(): Promise<HistoryView> {
    const { flags } = await this.parse(History);
    const config = this.loadAgentConfig();
    const now = new Date();
    const since = flags.since === undefined ? null : parseSince(flags.since, now);
    const outcomes = flags.outcome && flags.outcome.length > 0 ? expandOutcomeFilter(flags.outcome as (typeof outcomeFilterChoices)[number][]) : null;
    const view = await withStore(config, (db) =>
      loadHistoryView(db, {
        now,
        limit: flags.limit,
        outcomes,
        since,
        cursor: flags.cursor ?? null,
        stallAfterSeconds: viewSettings(config).stallAfterSeconds,
      }),
    );
    if (!this.jsonEnabled()) {
      const filterFlags = [
        ...(flags.outcome ?? []).map((o) => `--outcome ${o}`),
        ...(since ? [`--since ${since.toISOString()}`] : []),
        ...(flags.demo ? ['--demo'] : []),
      ].join(' ');
      this.log(renderHistoryText(terminalView(view), { color: useColor(), width: outputWidth(), filterFlags }));
    }
    return view;
  }
}
