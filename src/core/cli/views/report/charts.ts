// Inline SVG charts for the report: no script, nothing fetched. The legend is HTML beside the plot (never drawn
// inside it, so it can never cover a bar or a line), and each y axis gets ticks at round values in digits that
// show them, so $0.004 does not read as 0.00.
import { emptyState, escapeHtml } from './html.ts';

const W = 520;
const H = 220;
const PAD = { left: 52, right: 10, top: 10, bottom: 36 };
const PLOT = { x0: PAD.left, x1: W - PAD.right, y0: H - PAD.bottom, y1: PAD.top };

export interface LegendEntry {
  name: string;
  color: string;
  /** A dashed line rather than a block: reference lines. */
  dashed?: boolean;
}

/** One chart with its caption, the plot, its legend beside it (below it on a narrow screen) and an optional note. */
export function chartFigure(input: { id: string; caption: string; plot: string; legend?: LegendEntry[]; note?: string }): string {
  const legend =
    input.legend && input.legend.length > 0
      ? `<ul class="legend">${input.legend.map((e) => `<li><span class="swatch${e.dashed ? ' dashed' : ''}" style="--c:${e.color}"></span>${escapeHtml(e.name)}</li>`).join('')}</ul>`
      : '';
  const note = input.note ? `<p class="note">${input.note}</p>` : '';
  return `<figure class="chart" id="fig-${input.id}"><figcaption>${escapeHtml(input.caption)}</figcaption><div class="chart-body">${input.plot}${legend}</div>${note}</figure>`;
}

/** The plot area's empty state: the figure keeps its place and says why it is blank. */
export function emptyPlot(id: string, message: string): string {
  return `<div class="plot plot-empty" id="${id}">${emptyState(message)}</div>`;
}

/** Round tick values covering [min, max] (about `count` of them) and the decimals that tell them apart. */
export function niceTicks(min: number, max: number, count = 4): { ticks: number[]; digits: number } {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.5;
    return niceTicks(min - (min === 0 ? 0 : pad), max + pad, count);
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const start = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = start; t < max + step - 1e-9 * step; t += step) ticks.push(Number(t.toPrecision(12)));
  const digits = Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (Number.isInteger(Math.round((step / magnitude) * 10) / 10) ? 0 : 1)));
  return { ticks, digits };
}

function linear(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain[0] === domain[1] ? [domain[0] - 1, domain[1] + 1] : domain;
  return (v) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0]);
}

function yAxis(ticks: number[], y: (v: number) => number, format: (v: number) => string): string {
  return ticks
    .map((t) => {
      const at = y(t).toFixed(1);
      return `<line x1="${PLOT.x0}" y1="${at}" x2="${PLOT.x1}" y2="${at}" class="grid-line"/><text x="${PLOT.x0 - 6}" y="${at}" class="tick" text-anchor="end" dominant-baseline="middle">${escapeHtml(format(t))}</text>`;
    })
    .join('');
}

function frame(xLabel: string): string {
  return `<line x1="${PLOT.x0}" y1="${PLOT.y0}" x2="${PLOT.x1}" y2="${PLOT.y0}" class="axis"/><line x1="${PLOT.x0}" y1="${PLOT.y1}" x2="${PLOT.x0}" y2="${PLOT.y0}" class="axis"/><text x="${(PLOT.x0 + PLOT.x1) / 2}" y="${H - 4}" class="axis-title" text-anchor="middle">${escapeHtml(xLabel)}</text>`;
}

function svg(id: string, label: string, body: string): string {
  return `<svg id="${id}" class="plot" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}">${body}</svg>`;
}

export interface LineSeries {
  name: string;
  color: string;
  points: [number, number][];
  /** Dots instead of a line: values that do not follow from one another (each experiment's own DSR). */
  dots?: boolean;
}

export function lineChart(input: {
  id: string;
  label: string;
  series: LineSeries[];
  xLabel: string;
  /** A fixed y range (a probability is 0..1); otherwise round values around the data and zero. */
  yDomain?: [number, number];
  references?: { y: number; color: string }[];
}): string {
  const all = input.series.flatMap((s) => s.points);
  if (all.length === 0) return emptyPlot(input.id, 'Nothing yet.');
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const { ticks, digits } = input.yDomain ? niceTicks(input.yDomain[0], input.yDomain[1], 4) : niceTicks(Math.min(0, ...ys), Math.max(0, ...ys), 4);
  const domain: [number, number] = input.yDomain ?? [ticks[0]!, ticks[ticks.length - 1]!];
  const x = linear([Math.min(...xs), Math.max(...xs)], [PLOT.x0 + 4, PLOT.x1 - 4]);
  const y = linear(domain, [PLOT.y0, PLOT.y1]);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 5).ticks.filter((t) => t >= Math.min(...xs) && t <= Math.max(...xs) && Number.isInteger(t));
  const xAxis = xTicks.map((t) => `<text x="${x(t).toFixed(1)}" y="${PLOT.y0 + 14}" class="tick" text-anchor="middle">${t}</text>`).join('');
  const references = (input.references ?? [])
    .map((r) => `<line x1="${PLOT.x0}" y1="${y(r.y).toFixed(1)}" x2="${PLOT.x1}" y2="${y(r.y).toFixed(1)}" stroke="${r.color}" class="reference"/>`)
    .join('');
  const marks = input.series
    .filter((s) => s.points.length > 0)
    .map((s) =>
      s.dots
        ? `<g class="dots" data-series="${escapeHtml(s.name)}" fill="${s.color}">${s.points.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5"/>`).join('')}</g>`
        : `<path class="series" data-series="${escapeHtml(s.name)}" stroke="${s.color}" d="${s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('');
  return svg(input.id, input.label, `${yAxis(ticks, y, (v) => v.toFixed(digits))}${frame(input.xLabel)}${xAxis}${references}${marks}`);
}

export interface StackedColumn {
  label: string;
  /** Shown on hover: the full bucket name. */
  title: string;
  parts: { key: string; value: number }[];
}

/** Columns of stacked bars (one bar per column when each has a single part), with a label under every few. */
export function columnChart(input: {
  id: string;
  label: string;
  columns: StackedColumn[];
  colors: Record<string, string>;
  names?: Record<string, string>;
  xLabel: string;
  format?: (value: number, digits: number) => string;
}): string {
  if (input.columns.length === 0) return emptyPlot(input.id, 'Nothing yet.');
  const totals = input.columns.map((c) => c.parts.reduce((a, p) => a + p.value, 0));
  const { ticks, digits } = niceTicks(0, Math.max(...totals), 4);
  const top = ticks[ticks.length - 1]!;
  const y = linear([0, top], [PLOT.y0, PLOT.y1]);
  const width = (PLOT.x1 - PLOT.x0) / input.columns.length;
  const format = input.format ?? ((v: number, d: number) => v.toFixed(d));
  // At most about eight labels fit under the axis; the others are on hover.
  const every = Math.max(1, Math.ceil(input.columns.length / 8));
  const bars: string[] = [];
  const labels: string[] = [];
  input.columns.forEach((column, i) => {
    // A few columns stay bars, not slabs: at most 40 units wide, centred in their slot.
    const barWidth = Math.min(width * 0.76, 40);
    const x0 = PLOT.x0 + (i + 0.5) * width - barWidth / 2;
    const x1 = x0 + barWidth;
    let base = 0;
    for (const part of column.parts) {
      if (part.value <= 0) continue;
      const name = input.names?.[part.key] ?? part.key;
      bars.push(
        `<path class="bar" data-key="${escapeHtml(part.key)}" fill="${input.colors[part.key] ?? '#6e7781'}" d="M${x0.toFixed(1)},${y(base).toFixed(1)} V${y(base + part.value).toFixed(1)} H${x1.toFixed(1)} V${y(base).toFixed(1)} Z"><title>${escapeHtml(`${column.title} · ${name}: ${format(part.value, Math.max(digits, 2))}`)}</title></path>`,
      );
      base += part.value;
    }
    if (i % every === 0)
      labels.push(
        `<text x="${(PLOT.x0 + (i + 0.5) * width).toFixed(1)}" y="${PLOT.y0 + 14}" class="tick" text-anchor="middle">${escapeHtml(column.label)}</text>`,
      );
  });
  return svg(input.id, input.label, `${yAxis(ticks, y, (v) => format(v, digits))}${frame(input.xLabel)}${bars.join('')}${labels.join('')}`);
}
