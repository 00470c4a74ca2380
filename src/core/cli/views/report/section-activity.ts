// What the cycles came to and what they cost, in buckets sized to the span (hours for a night, days for weeks), and
// which gate checks stopped them.
import { bucketLabel, bucketTitle } from './buckets.ts';
import { chartFigure, columnChart, emptyPlot } from './charts.ts';
import { emptyState, escapeHtml, usd } from './html.ts';
import { outcomeColors, outcomeOrder } from './outcome-colors.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';

const SPEND = '#1f6feb';

function render(report: ReportData): string {
  const { unit, rows } = report.buckets;
  const crossesDays = rows.length > 0 && rows[0]!.start.toISOString().slice(0, 10) !== rows[rows.length - 1]!.start.toISOString().slice(0, 10);
  const columns = (value: (row: ReportData['buckets']['rows'][number]) => { key: string; value: number }[]) =>
    rows.map((row) => ({ label: bucketLabel(row.start, unit, crossesDays), title: bucketTitle(row.start, unit), parts: value(row) }));
  const seen = outcomeOrder.filter((o) => rows.some((r) => (r.outcomes[o] ?? 0) > 0));
  const outcomesPlot =
    rows.length > 0
      ? columnChart({
          id: 'chart-outcomes',
          label: `Experiments per ${unit} by outcome`,
          columns: columns((row) => seen.map((o) => ({ key: o, value: row.outcomes[o] ?? 0 }))),
          colors: outcomeColors,
          xLabel: `${unit} (UTC)`,
          format: (v) => v.toFixed(0),
        })
      : emptyPlot('chart-outcomes', 'Nothing yet: no experiment has finished.');
  const spent = rows.reduce((a, r) => a + r.costUsd, 0);
  const spendPlot =
    spent > 0
      ? columnChart({
          id: 'chart-spend',
          label: `Model spend per ${unit}`,
          columns: columns((row) => [{ key: 'spend', value: row.costUsd }]),
          colors: { spend: SPEND },
          xLabel: `${unit} (UTC)`,
          format: (v, digits) => usd(v, digits),
        })
      : emptyPlot(
          'chart-spend',
          rows.length === 0
            ? 'Nothing yet: no experiment has finished.'
            : 'Nothing spent yet: these experiments made no paid model calls (the baseline and evolve designers call no model).',
        );
  return `<div class="grid">${chartFigure({
    id: 'outcomes',
    caption: `Outcomes per ${unit}`,
    plot: outcomesPlot,
    legend: seen.map((o) => ({ name: o, color: outcomeColors[o] })),
  })}${chartFigure({
    id: 'spend',
    caption: `Model spend per ${unit} (USD)`,
    plot: spendPlot,
    legend: spent > 0 ? [{ name: 'cost of the experiments that finished', color: SPEND }] : [],
    note:
      spent > 0
        ? `Total ${usd(spent, spent < 1 ? 4 : 2)}; the budget ledger's days in this window: ${usd(report.ledgerSpendUsd, report.ledgerSpendUsd < 1 ? 4 : 2)} (it includes cycles still running).`
        : undefined,
  })}</div>${gateFailures(report)}`;
}

/** Gate failures as labelled bars in HTML: the reasons are long, and read better as text than under an axis. */
function gateFailures(report: ReportData): string {
  const title = '<h3>Gate failures by reason</h3>';
  if (report.gateFailures.length === 0)
    return `${title}${emptyState(report.experimentCount === 0 ? 'Nothing yet: no experiment has finished.' : 'Nothing yet: no experiment has failed a gate.')}`;
  const max = Math.max(...report.gateFailures.map((f) => f.count));
  const rows = report.gateFailures.map(
    (f) =>
      `<li><span class="hbar-label">${escapeHtml(f.reason)}</span><span class="hbar"><span style="width:${((f.count / max) * 100).toFixed(1)}%"></span></span><span class="hbar-value">${f.count}</span></li>`,
  );
  return `${title}<ul class="hbars" id="gate-failures">${rows.join('')}</ul>`;
}

export const activitySection = defineSection({ id: 'activity', title: 'Outcomes and spend', render });
