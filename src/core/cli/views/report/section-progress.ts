// The search over time: the best score so far on the Sharpe scale, and each experiment's deflated Sharpe on its own
// 0..1 axis (a probability never shares an axis with a Sharpe ratio).
import { chartFigure, emptyPlot, lineChart } from './charts.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';

const BEST = '#1f6feb';
const DSR = '#bf8700';
const BAR = '#8c959f';

function render(report: ReportData): string {
  const best = report.cycles.filter((c) => c.bestScore !== null).map((c) => [c.index, c.bestScore!] as [number, number]);
  const dsr = report.cycles.filter((c) => c.deflatedSharpe !== null).map((c) => [c.index, c.deflatedSharpe!] as [number, number]);
  const bestPlot =
    best.length > 0
      ? lineChart({
          id: 'chart-best',
          label: 'Best score so far by experiment',
          series: [{ name: 'best score so far', color: BEST, points: best }],
          xLabel: 'experiment, in completion order',
        })
      : emptyPlot(
          'chart-best',
          report.experimentCount === 0 ? 'Nothing yet: no experiment has finished.' : 'Nothing yet: no experiment has passed both gates, so none has a score.',
        );
  const dsrPlot =
    dsr.length > 0
      ? lineChart({
          id: 'chart-dsr',
          label: 'Deflated Sharpe of each backtested experiment',
          series: [{ name: 'deflated Sharpe', color: DSR, points: dsr, dots: true }],
          xLabel: 'experiment, in completion order',
          yDomain: [0, 1],
          references: [{ y: 0.95, color: BAR }],
        })
      : emptyPlot('chart-dsr', 'Nothing yet: no experiment has reached a backtest.');
  return `<div class="grid">${chartFigure({
    id: 'best',
    caption: 'Best score so far (backtest Sharpe)',
    plot: bestPlot,
    legend: best.length > 0 ? [{ name: 'best score so far', color: BEST }] : [],
  })}${chartFigure({
    id: 'dsr',
    caption: 'Deflated Sharpe of each backtest (probability, 0 to 1)',
    plot: dsrPlot,
    legend:
      dsr.length > 0
        ? [
            { name: 'deflated Sharpe', color: DSR },
            { name: '0.95 bar', color: BAR, dashed: true },
          ]
        : [],
  })}</div>`;
}

export const progressSection = defineSection({ id: 'progress', title: 'Search progress', render });
