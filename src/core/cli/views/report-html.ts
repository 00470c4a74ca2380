// `report`: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched at view time) with the
// research so far: best-so-far score and deflated Sharpe over cycles, outcomes and spend per day, gate-failure
// reasons, the top experiments and the hypotheses. Data first (readReportData), then a pure renderer.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { queryExperiments, SCORE_DESCRIPTION, type Experiment } from '../../db/repositories/experiments.ts';
import { listHypotheses, type Hypothesis } from '../../db/repositories/hypotheses.ts';
import { dayString, toNumber } from '../../db/values.ts';
import { utcDay } from '../../kernel/utc-day.ts';
import { loadSearchSummaryView, renderSearchReport, type SearchSummaryView } from './search-view.ts';

export interface ReportData {
  generatedAt: Date;
  since: Date | null;
  /** One point per experiment in completion order (downsampled to at most MAX_POINTS). */
  cycles: { index: number; bestScore: number | null; deflatedSharpe: number | null }[];
  experimentCount: number;
  outcomesPerDay: { day: string; outcomes: Record<string, number> }[];
  spendPerDay: { day: string; usd: number }[];
  gateFailures: { reason: string; count: number }[];
  top: Experiment[];
  hypotheses: Hypothesis[];
  /** The search policy's figures (search-view.ts renders them). */
  search?: SearchSummaryView | null;
}

const MAX_POINTS = 400;

export async function readReportData(db: Kysely<Database>, options: { now: Date; since: Date | null }): Promise<ReportData> {
  const since = options.since;
  let cycleQuery = db.selectFrom('agent_experiments').select(['score', 'deflated_sharpe']).orderBy('completed_at').orderBy('id');
  if (since) cycleQuery = cycleQuery.where('completed_at', '>=', since);
  const rows = await cycleQuery.execute();
  // The running best is computed over every experiment; only the points drawn are thinned out.
  const step = Math.max(1, Math.ceil(rows.length / MAX_POINTS));
  const cycles: ReportData['cycles'] = [];
  let best: number | null = null;
  rows.forEach((row, index) => {
    if (row.score !== null && (best === null || row.score > best)) best = row.score;
    if (index % step === 0 || index === rows.length - 1) cycles.push({ index: index + 1, bestScore: best, deflatedSharpe: row.deflated_sharpe });
  });
  const day = sql<string>`to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
  let outcomeQuery = db.selectFrom('agent_experiments').select([day.as('day'), 'outcome', sql<string | number>`count(*)`.as('n')]).groupBy([day, 'outcome']).orderBy(day);
  if (since) outcomeQuery = outcomeQuery.where('completed_at', '>=', since);
  const byDay = new Map<string, Record<string, number>>();
  for (const row of await outcomeQuery.execute()) {
    const entry = byDay.get(row.day) ?? {};
    entry[row.outcome] = toNumber(row.n);
    byDay.set(row.day, entry);
  }
  let spendQuery = db.selectFrom('agent_budget').select(['date', 'budget_used_usd']).orderBy('date');
  if (since) spendQuery = spendQuery.where('date', '>=', utcDay(since));
  const spendPerDay = (await spendQuery.execute()).map((r) => ({ day: dayString(r.date), usd: toNumber(r.budget_used_usd) }));
  let failureQuery = db
    .selectFrom('agent_experiments')
    .select([sql<string>`gate_failed || ': ' || array_to_string(failed_checks, ', ')`.as('reason'), sql<string | number>`count(*)`.as('n')])
    .where('gate_failed', 'is not', null)
    .groupBy(sql`gate_failed || ': ' || array_to_string(failed_checks, ', ')`)
    .orderBy(sql`count(*)`, 'desc')
    .limit(12);
  if (since) failureQuery = failureQuery.where('completed_at', '>=', since);
  const gateFailures = (await failureQuery.execute()).map((r) => ({ reason: r.reason, count: toNumber(r.n) }));
  const top = (await queryExperiments(db, { sort: 'score', limit: 20, since })).experiments;
  const hypotheses = await listHypotheses(db, { includeRetired: true, limit: 200 });
  return {
    generatedAt: options.now,
    since,
    cycles,
    experimentCount: rows.length,
    outcomesPerDay: [...byDay.entries()].map(([d, outcomes]) => ({ day: d, outcomes })),
    spendPerDay,
    gateFailures,
    top,
    hypotheses,
    search: await loadSearchSummaryView(db),
  };
}

/** Text for HTML: every character that could open markup is escaped, whatever a model or an operator wrote. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const W = 640;
const H = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

function scale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain[0] === domain[1] ? [domain[0] - 1, domain[1] + 1] : domain;
  return (v) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0]);
}

function axes(yDomain: [number, number], label: string): string {
  const y = scale(yDomain, [H - PAD.bottom, PAD.top]);
  const ticks = [yDomain[0], (yDomain[0] + yDomain[1]) / 2, yDomain[1]];
  return [
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" class="axis"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" class="axis"/>`,
    ...ticks.map((t) => `<text x="${PAD.left - 6}" y="${y(t).toFixed(1)}" class="tick" text-anchor="end" dominant-baseline="middle">${t.toFixed(2)}</text>`),
    `<text x="${W / 2}" y="${H - 6}" class="tick" text-anchor="middle">${escapeHtml(label)}</text>`,
  ].join('');
}

function emptyChart(id: string, message: string): string {
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" role="img"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">${escapeHtml(message)}</text></svg>`;
}

function lineChart(id: string, series: { name: string; cls: string; points: [number, number][] }[], xLabel: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return emptyChart(id, 'no data yet');
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x = scale([Math.min(...xs), Math.max(...xs)], [PAD.left, W - PAD.right]);
  const yDomain: [number, number] = [Math.min(0, ...ys), Math.max(...ys)];
  const y = scale(yDomain, [H - PAD.bottom, PAD.top]);
  const paths = series
    .filter((s) => s.points.length > 0)
    .map((s) => `<path class="${s.cls}" data-series="${escapeHtml(s.name)}" d="${s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`);
  const legend = series.map((s, i) => `<text x="${PAD.left + 8 + i * 180}" y="${PAD.top + 10}" class="legend ${s.cls}-text">${escapeHtml(s.name)}</text>`);
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" role="img">${axes(yDomain, xLabel)}${paths.join('')}${legend.join('')}</svg>`;
}

function barChart(id: string, bars: { label: string; value: number; cls?: string }[], unit: string, shortLabel: (label: string) => string = (l) => l): string {
  if (bars.length === 0) return emptyChart(id, 'no data yet');
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const y = scale([0, max], [H - PAD.bottom, PAD.top]);
  const width = (W - PAD.left - PAD.right) / bars.length;
  const rects = bars.map((b, i) => {
    const top = y(b.value);
    const x = PAD.left + i * width + width * 0.1;
    return `<path class="${b.cls ?? 'bar'}" d="M${x.toFixed(1)},${(H - PAD.bottom).toFixed(1)} V${top.toFixed(1)} H${(x + width * 0.8).toFixed(1)} V${(H - PAD.bottom).toFixed(1)} Z"><title>${escapeHtml(`${b.label}: ${b.value}${unit}`)}</title></path>`;
  });
  const labels = bars.length <= 14 ? bars.map((b, i) => `<text x="${(PAD.left + (i + 0.5) * width).toFixed(1)}" y="${H - PAD.bottom + 12}" class="tick" text-anchor="middle">${escapeHtml(shortLabel(b.label))}</text>`) : [];
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" role="img">${axes([0, max], unit.trim() || 'count')}${rects.join('')}${labels.join('')}</svg>`;
}

function stackedOutcomes(id: string, days: ReportData['outcomesPerDay']): string {
  if (days.length === 0) return emptyChart(id, 'no data yet');
  const order = ['success', 'failed_training_gate', 'failed_backtest_gate', 'failed_design', 'failed_training', 'failed_backtest', 'failed_assessment', 'cancelled'];
  const totals = days.map((d) => Object.values(d.outcomes).reduce((a, b) => a + b, 0));
  const max = Math.max(...totals, 1);
  const y = scale([0, max], [H - PAD.bottom, PAD.top]);
  const width = (W - PAD.left - PAD.right) / days.length;
  const parts: string[] = [];
  days.forEach((d, i) => {
    let base = 0;
    for (const outcome of order) {
      const n = d.outcomes[outcome] ?? 0;
      if (n === 0) continue;
      const x = PAD.left + i * width + width * 0.1;
      parts.push(
        `<path class="o-${outcome}" d="M${x.toFixed(1)},${y(base).toFixed(1)} V${y(base + n).toFixed(1)} H${(x + width * 0.8).toFixed(1)} V${y(base).toFixed(1)} Z"><title>${escapeHtml(`${d.day} ${outcome}: ${n}`)}</title></path>`,
      );
      base += n;
    }
  });
  const legend = order.slice(0, 4).map((o, i) => `<text x="${PAD.left + 8 + i * 150}" y="${PAD.top + 10}" class="legend o-${o}-text">${o}</text>`);
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" role="img">${axes([0, max], 'sessions per day (UTC)')}${parts.join('')}${legend.join('')}</svg>`;
}

function cell(value: string | number | null): string {
  return `<td>${value === null ? '—' : escapeHtml(String(value))}</td>`;
}

function fixed(value: number | null, digits = 2): string | null {
  return value === null ? null : value.toFixed(digits);
}

export function renderReportHtml(data: ReportData): string {
  const best = data.cycles.filter((c) => c.bestScore !== null).map((c) => [c.index, c.bestScore!] as [number, number]);
  const dsr = data.cycles.filter((c) => c.deflatedSharpe !== null).map((c) => [c.index, c.deflatedSharpe!] as [number, number]);
  const topRows = data.top
    .map(
      (e) =>
        `<tr>${cell(`#${e.id}`)}${cell(e.strategyName)}${cell(e.indicatorKey)}${cell(`${e.symbol ?? '?'} ${e.timeframe ?? '?'}`)}${cell(e.outcome)}${cell(fixed(e.score))}${cell(fixed(e.sharpe))}${cell(fixed(e.deflatedSharpe))}${cell(e.winRate === null ? null : `${(e.winRate * 100).toFixed(1)}%`)}${cell(e.designer)}</tr>`,
    )
    .join('');
  const hypothesisRows = data.hypotheses
    .map((h) => `<tr>${cell(`H${h.id}`)}${cell(h.retiredAt ? 'retired' : h.status)}${cell(h.text)}${cell(h.source)}${cell(h.proposedByExperimentId === null ? null : `#${h.proposedByExperimentId}`)}</tr>`)
    .join('');
  const title = `ktrdr-agent research report — ${data.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
figure{margin:0;border:1px solid #d9dee7;border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto}.axis{stroke:#8a93a6}.tick{font-size:10px;fill:#5b6475}.legend{font-size:11px}.empty{fill:#8a93a6}
.best{fill:none;stroke:#1f6feb;stroke-width:2}.best-text{fill:#1f6feb}.dsr{fill:none;stroke:#d97706;stroke-width:1.5}.dsr-text{fill:#d97706}
.bar{fill:#1f6feb}.fail{fill:#cf222e}
.o-success{fill:#2da44e}.o-success-text{fill:#2da44e}.o-failed_training_gate{fill:#cf222e}.o-failed_training_gate-text{fill:#cf222e}
.o-failed_backtest_gate{fill:#fb8f44}.o-failed_backtest_gate-text{fill:#fb8f44}.o-failed_design{fill:#8250df}.o-failed_design-text{fill:#8250df}
.o-failed_training,.o-failed_backtest,.o-failed_assessment{fill:#6e7781}.o-cancelled{fill:#afb8c1}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e5e9f0;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f6f8fa}
.note{color:#5b6475;font-size:12px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="note">${data.experimentCount} experiments${data.since ? ` since ${escapeHtml(data.since.toISOString().slice(0, 10))}` : ''}. Score: ${escapeHtml(SCORE_DESCRIPTION)}. Deflated Sharpe: probability that the true Sharpe beats the expected best of the backtests on the same symbol and timeframe (Bailey &amp; López de Prado, 2014; normal returns assumed).</p>
<div class="grid">
<figure><figcaption>Best score so far and deflated Sharpe, by cycle</figcaption>${lineChart('chart-best', [{ name: 'best score so far', cls: 'best', points: best }, { name: 'deflated Sharpe', cls: 'dsr', points: dsr }], 'cycle (experiment in completion order)')}</figure>
<figure><figcaption>Outcomes per day</figcaption>${stackedOutcomes('chart-outcomes', data.outcomesPerDay)}</figure>
<figure><figcaption>Spend per day (USD)</figcaption>${barChart('chart-spend', data.spendPerDay.map((d) => ({ label: d.day, value: Number(d.usd.toFixed(4)) })), ' USD', (day) => day.slice(5))}</figure>
<figure><figcaption>Gate failures by reason</figcaption>${barChart('chart-gates', data.gateFailures.map((f) => ({ label: f.reason, value: f.count, cls: 'fail' })), ' failures', (reason) => reason.split(':')[1]?.trim().slice(0, 14) ?? reason)}
<p class="note">${data.gateFailures.map((f) => `${escapeHtml(f.reason)} (${f.count})`).join(' · ') || 'no gate failures'}</p></figure>
</div>
<h2>Top experiments</h2>
<table id="top-experiments"><thead><tr><th>id</th><th>strategy</th><th>indicators</th><th>market</th><th>outcome</th><th>score</th><th>sharpe</th><th>DSR</th><th>win rate</th><th>designer</th></tr></thead><tbody>${topRows}</tbody></table>
<h2>Hypotheses</h2>
<table id="hypotheses"><thead><tr><th>id</th><th>status</th><th>text</th><th>source</th><th>proposed by</th></tr></thead><tbody>${hypothesisRows}</tbody></table>
${renderSearchReport(data.search)}</body></html>
`;
}
