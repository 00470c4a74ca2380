// The best experiments by score: a table, then a section each for the first few (design, gates, assessment,
// hypothesis, lineage).
import { experimentAnchor, renderExperimentArticle } from './experiment-article.ts';
import { cell, emptyState, fixed, note, percent, scrollTable } from './html.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';
import { dsrNowText } from './section-trials.ts';

function render(report: ReportData): string {
  if (report.top.length === 0) {
    return emptyState(
      report.experimentCount === 0
        ? 'Nothing yet: no experiment has finished.'
        : 'Nothing yet: no experiment has passed both gates, so none has a score. Every experiment, failed ones included, is listed below.',
    );
  }
  const detailed = new Set(report.topDetails.map((d) => d.experiment.id));
  const rows = report.top.map((e) => {
    const id = detailed.has(e.id) ? `<a href="#${experimentAnchor(e.id)}">#${e.id}</a>` : `#${e.id}`;
    return `<tr>${cell(id, { html: true })}${cell(e.strategyName)}${cell(e.indicatorKey)}${cell(`${e.symbol ?? '?'} ${e.timeframe ?? '?'}`)}${cell(fixed(e.score), { numeric: true })}${cell(dsrNowText(report, e.id), { numeric: true })}${cell(e.totalTrades, { numeric: true })}${cell(percent(e.totalReturnPct), { numeric: true })}${cell(percent(e.maxDrawdown), { numeric: true })}${cell(percent(e.winRate), { numeric: true })}${cell(e.designer)}</tr>`;
  });
  const table = scrollTable(
    'top-experiments',
    ['id', 'strategy', 'indicators', 'market', 'score', 'DSR now (trials)', 'trades', 'return', 'drawdown', 'win rate', 'designer'],
    rows,
    { numericColumns: [4, 5, 6, 7, 8, 9], nowrap: true },
  );
  const articles = report.topDetails.map((d, i) => renderExperimentArticle(d, i + 1, dsrNowText(report, d.experiment.id))).join('');
  const more =
    report.top.length > report.topDetails.length
      ? note(`The first ${report.topDetails.length} in detail; \`ktrdr-agent experiments show <id>\` shows any other.`)
      : '';
  return `${table}${articles}${more}`;
}

export const topSection = defineSection({ id: 'top', title: 'Top experiments', render });
