// The designer in use beside the control arm: `baseline` designs at random, so a designer earns its cost only by
// finding better strategies than the baseline does in as many experiments.
import { chartFigure, lineChart } from './charts.ts';
import { cell, emptyState, fixed, note, percent, scrollTable, usd } from './html.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';

const CONTROL = 'baseline';
const palette = ['#1f6feb', '#8250df', '#bf3989', '#0a7e8c'];
const CONTROL_COLOR = '#8c959f';

function colorOf(designer: string, index: number): string {
  return designer === CONTROL ? CONTROL_COLOR : palette[index % palette.length]!;
}

function render(report: ReportData): string {
  if (report.designers.length === 0) return emptyState('Nothing yet: no experiment has finished.');
  const rows = report.designers.map(
    (d) =>
      `<tr>${cell(d.designer === CONTROL ? `${d.designer} (control)` : d.designer)}${cell(d.experiments, { numeric: true })}${cell(`${d.passed} (${percent(d.passed / d.experiments)})`, { numeric: true })}${cell(fixed(d.bestScore), { numeric: true })}${cell(fixed(d.medianSharpe), { numeric: true })}${cell(fixed(d.meanDeflatedSharpe), { numeric: true })}${cell(usd(d.costUsd, 3), { numeric: true })}${cell(d.passed > 0 ? usd(d.costUsd / d.passed, 3) : null, { numeric: true })}</tr>`,
  );
  const table = scrollTable(
    'designers',
    ['designer', 'experiments', 'passed both gates', 'best score', 'median Sharpe', 'mean DSR', 'spend', 'spend per pass'],
    rows,
    { numericColumns: [1, 2, 3, 4, 5, 6, 7], nowrap: true },
  );
  const control = report.designers.find((d) => d.designer === CONTROL);
  const others = report.designers.filter((d) => d.designer !== CONTROL);
  if (!control || others.length === 0) {
    const only = report.designers.map((d) => d.designer).join(', ');
    const advice = control
      ? 'Only the control arm ran here; a designer to compare it with runs with `AGENT_DESIGNER=claude` (or `evolve`).'
      : 'The control arm (`AGENT_DESIGNER=baseline`, random designs) has not run here, so there is nothing to compare with yet: run it for a night to see whether the designer beats chance.';
    return `${table}${note(`Ran: ${only}. ${advice}`)}`;
  }
  const series = report.designers
    .filter((d) => d.bestSoFar.length > 0)
    .map((d, i) => ({ name: d.designer === CONTROL ? `${d.designer} (control)` : d.designer, color: colorOf(d.designer, i), points: d.bestSoFar }));
  const chart = chartFigure({
    id: 'designers',
    caption: "Best score so far, by each designer's own experiment count",
    plot:
      series.length > 0
        ? lineChart({ id: 'chart-designers', label: 'Best score so far per designer', series, xLabel: "the designer's experiments, in completion order" })
        : `<div class="plot plot-empty" id="chart-designers">${emptyState('Nothing yet: no designer has an experiment that passed both gates.')}</div>`,
    legend: series.map((s) => ({ name: s.name, color: s.color })),
    note: 'Same number of experiments, same gates: a curve above the control arm is a designer finding more than chance does.',
  });
  return `${table}<div class="grid">${chart}</div>`;
}

export const designersSection = defineSection({ id: 'designers', title: 'Designer and control arm', render });
