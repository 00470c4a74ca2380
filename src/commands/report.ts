import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { parseSince } from '../core/cli/views/history-view.ts';
import { withStore } from '../core/cli/with-store.ts';
import { readReport, renderReportHtml } from '../core/cli/views/report-html.ts';

export default class Report extends AgentCommand {
  static override summary =
    'Write a self-contained HTML research report: the search over time, the designer against the control arm, every experiment, the best in detail.';
  static override description =
    `One file with inline SVG charts and no script: it opens offline in any browser. Sections: a summary; the best score so far and each backtest's deflated Sharpe; outcomes and spend per hour, day, week or month (whichever fits the span); gate failures by reason; the designer beside the baseline control arm; the top 20 experiments by score, the first five in detail; the newest 300 experiments of any outcome; the hypotheses. --since takes a day, an ISO time or a span (7d, 2w).\n\n${exitCodesHelp}`;
  static override flags = {
    out: Flags.string({ char: 'o', description: 'Where to write the report.', default: 'ktrdr-agent-report.html' }),
    since: Flags.string({ description: 'Only experiments finished since: 2026-01-15, 2026-01-15T14:00:00Z, 30m, 12h, 7d, 2w, today, yesterday.' }),
  };
  static override examples = ['<%= config.bin %> report', '<%= config.bin %> report --out /tmp/research.html --since 7d'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Report);
    const config = this.loadAgentConfig();
    const now = new Date();
    const since = flags.since === undefined ? null : parseSince(flags.since, now);
    const report = await withStore(config, (db) => readReport(db, { now, since }));
    const path = resolve(flags.out);
    try {
      writeFileSync(path, renderReportHtml(report), 'utf8');
    } catch (error) {
      throw new AgentError(
        `Cannot write the report to ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Pass --out with a writable path.`,
        ExitCode.Error,
        'report_not_written',
      );
    }
    const { data } = report;
    this.log(`Wrote ${path}: ${data.experimentCount} experiments, ${data.top.length} in the top table, ${data.hypotheses.length} hypotheses.`);
  }
}
