// Every experiment of the window, whatever its outcome, newest first: what it ran on and what it came to.
import { windowText } from './experiment-article.ts';
import { cell, emptyState, fixed, isoMinute, note, percent, scrollTable } from './html.ts';
import { outcomeBadge } from './outcome-colors.ts';
import { RECENT_LIMIT, type ReportData } from './report-data.ts';
import { defineSection } from './section.ts';

function render(report: ReportData): string {
  if (report.recent.length === 0) return emptyState('Nothing yet: no experiment has finished. Every finished cycle, failed or not, is listed here.');
  const rows = report.recent.map(
    (e) =>
      `<tr>${cell(`#${e.id}`)}${cell(isoMinute(e.completedAt).slice(0, 16))}${cell(e.strategyName)}${cell(`${e.symbol ?? '?'} ${e.timeframe ?? '?'}`)}${cell(windowText(e.trainingWindow))}${cell(windowText(e.backtestWindow))}${cell(outcomeBadge(e.outcome), { html: true })}${cell(e.totalTrades, { numeric: true })}${cell(percent(e.totalReturnPct), { numeric: true })}${cell(percent(e.maxDrawdown), { numeric: true })}${cell(fixed(e.sharpe), { numeric: true })}${cell(fixed(e.deflatedSharpe), { numeric: true })}${cell(e.designer)}</tr>`,
  );
  const shown = report.recent.length < report.experimentCount ? note(`The newest ${RECENT_LIMIT} of ${report.experimentCount.toLocaleString('en-US')}; \`ktrdr-agent experiments --limit 1000 --json\` lists more.`) : '';
  return `${scrollTable('all-experiments', ['id', 'finished (UTC)', 'strategy', 'market', 'training window', 'backtest window', 'outcome', 'trades', 'return', 'drawdown', 'Sharpe', 'DSR', 'designer'], rows, { numericColumns: [7, 8, 9, 10, 11] })}${shown}`;
}

export const experimentsSection = defineSection({ id: 'experiments', title: 'Every experiment', render });
