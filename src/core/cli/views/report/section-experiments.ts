// Every experiment of the window, whatever its outcome, newest first: what it ran on and what it came to.
import { windowText } from './experiment-article.ts';
import type { Experiment } from '../../../db/repositories/experiments.ts';
import { cell, emptyState, escapeHtml, fixed, isoMinute, note, percent, scrollTable } from './html.ts';
import { outcomeBadge } from './outcome-colors.ts';
import { RECENT_LIMIT, type ReportData } from './report-data.ts';
import { defineSection } from './section.ts';
import { dsrNowText } from './section-trials.ts';

/** Both windows in one cell, one a line: the table stays within a laptop's width. */
function windows(e: Experiment): string {
  return `${escapeHtml(windowText(e.trainingWindow) ?? '—')}<br>${escapeHtml(windowText(e.backtestWindow) ?? '—')}`;
}

function render(report: ReportData): string {
  if (report.recent.length === 0) return emptyState('Nothing yet: no experiment has finished. Every finished cycle, failed or not, is listed here.');
  const rows = report.recent.map(
    (e) =>
      `<tr>${cell(`#${e.id}`)}${cell(isoMinute(e.completedAt).slice(0, 16))}${cell(e.strategyName)}${cell(`${e.symbol ?? '?'} ${e.timeframe ?? '?'}`)}${cell(windows(e), { html: true })}${cell(outcomeBadge(e.outcome), { html: true })}${cell(e.totalTrades, { numeric: true })}${cell(percent(e.totalReturnPct), { numeric: true })}${cell(percent(e.maxDrawdown), { numeric: true })}${cell(fixed(e.sharpe), { numeric: true })}${cell(dsrNowText(report, e.id), { numeric: true })}${cell(e.designer)}</tr>`,
  );
  const shown =
    report.recent.length < report.experimentCount
      ? note(`The newest ${RECENT_LIMIT} of ${report.experimentCount.toLocaleString('en-US')}; \`ktrdr-agent experiments --limit 1000 --json\` lists more.`)
      : '';
  return `${scrollTable('all-experiments', ['id', 'finished (UTC)', 'strategy', 'market', 'windows (training, backtest)', 'outcome', 'trades', 'return', 'drawdown', 'Sharpe', 'DSR now (trials)', 'designer'], rows, { numericColumns: [6, 7, 8, 9, 10], nowrap: true })}${shown}`;
}

export const experimentsSection = defineSection({ id: 'experiments', title: 'Every experiment', render });
