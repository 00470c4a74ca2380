// One top experiment on its own: what was designed, how each gate judged it, what the assessment said, what it
// tested and where it came from. Anchored as #experiment-<id> so the tables link to it without a script.
import type { Experiment } from '../../../db/repositories/experiments.ts';
import type { GateEvaluation } from '../../../session/model.ts';
import { cell, escapeHtml, fixed, percent, usd } from './html.ts';
import { outcomeBadge } from './outcome-colors.ts';
import type { TopExperimentDetail } from './report-data.ts';

export function experimentAnchor(id: number): string {
  return `experiment-${id}`;
}

function facts(pairs: [string, string | null][]): string {
  return `<dl class="facts">${pairs.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v === null ? '—' : v}</dd>`).join('')}</dl>`;
}

const text = (value: string | number | null | undefined): string | null =>
  value === null || value === undefined || value === '' ? null : escapeHtml(String(value));

export function windowText(window: Experiment['trainingWindow']): string | null {
  return window ? `${window.startDate} → ${window.endDate}` : null;
}

function gateTable(label: string, gate: GateEvaluation | null): string {
  if (!gate) return `<p><strong>${escapeHtml(label)} gate:</strong> not reached.</p>`;
  const rows = gate.checks.map(
    (c) =>
      `<tr>${cell(c.metric)}${cell(c.value === null ? null : Number(c.value.toPrecision(4)), { numeric: true })}${cell(`${c.comparison} ${c.threshold}`)}${cell(c.passed ? '✓ passed' : '✗ failed')}</tr>`,
  );
  const verdict = gate.passed ? '<span class="ok">passed</span>' : `<span class="bad">failed</span>${gate.reason ? `: ${escapeHtml(gate.reason)}` : ''}`;
  const table =
    rows.length > 0
      ? `<div class="table-scroll"><table class="gate nowrap"><thead><tr><th>check</th><th class="num">value</th><th>threshold</th><th>result</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '';
  return `<p><strong>${escapeHtml(label)} gate:</strong> ${verdict}</p>${table}`;
}

function list(title: string, items: string[]): string {
  return items.length > 0 ? `<p><strong>${escapeHtml(title)}:</strong></p><ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>` : '';
}

function link(e: Experiment): string {
  return `#${e.id} ${escapeHtml(e.strategyName ?? '')} ${outcomeBadge(e.outcome)}${e.score !== null ? ` score ${e.score.toFixed(2)}` : ''}`;
}

/** `dsrNow`: the DSR over the family's trials now with their count (section-trials.ts), shown beside the stored one. */
export function renderExperimentArticle(detail: TopExperimentDetail, rank: number, dsrNow: string | null = null): string {
  const e = detail.experiment;
  const assessment = e.assessment
    ? `<p><strong>${escapeHtml(e.assessment.verdict)}</strong> (by ${escapeHtml(e.assessment.author)}): ${escapeHtml(e.assessment.explanation)}</p>${list('Strengths', e.assessment.strengths)}${list('Weaknesses', e.assessment.weaknesses)}${list('Suggestions', e.assessment.suggestions)}`
    : '<p class="empty-state">No assessment recorded for this experiment.</p>';
  const hypothesis = detail.hypothesis
    ? `<p>Tests <strong>H${detail.hypothesis.id}</strong> [${escapeHtml(detail.hypothesis.retiredAt ? 'retired' : detail.hypothesis.status)}]: ${escapeHtml(detail.hypothesis.text)}</p>`
    : e.exploration
      ? '<p>Exploration: it tested no stated hypothesis.</p>'
      : '<p class="empty-state">It tested no recorded hypothesis.</p>';
  const lineage = [
    `<li>Parent: ${detail.parent ? link(detail.parent) : 'none (a new design)'}</li>`,
    `<li>Children (${detail.children.length}): ${detail.children.length > 0 ? detail.children.slice(0, 12).map(link).join('; ') : 'none yet'}</li>`,
  ].join('');
  return `<article class="experiment" id="${experimentAnchor(e.id)}">
<h3>${rank}. #${e.id} ${escapeHtml(e.strategyName ?? '(unnamed)')} <span class="muted">score ${fixed(e.score) ?? '—'} · DSR ${escapeHtml(dsrNow ?? '—')}</span></h3>
<div class="columns">
<div><h4>Design</h4>${facts([
    ['indicators', text(e.indicatorTypes.join(', '))],
    ['labels', text(e.labelSource ? `${e.labelSource}${e.labelThreshold !== null ? ` ${e.labelThreshold}` : ''}` : null)],
    ['architecture', text(e.architecture)],
    ['market', text(`${e.symbols.join(', ') || e.symbol || '?'} · ${e.timeframes.join(', ') || e.timeframe || '?'}`)],
    ['training window', text(windowText(e.trainingWindow))],
    ['backtest window', text(windowText(e.backtestWindow))],
    ['designer', text(`${e.designer}${e.model ? ` (${e.model})` : ''}`)],
    ['cost', text(usd(e.costUsd, 4))],
  ])}</div>
<div><h4>Results</h4>${facts([
    ['accuracy', text(percent(e.accuracy))],
    ['final loss', text(fixed(e.finalLoss, 3))],
    ['Sharpe', text(fixed(e.sharpe))],
    ['DSR now', text(dsrNow)],
    [
      'DSR at its end',
      text(
        e.deflatedSharpe === null
          ? null
          : `${e.deflatedSharpe.toFixed(2)}${e.dsrTrials !== null ? ` among ${e.dsrTrials} backtest${e.dsrTrials === 1 ? '' : 's'}` : ''}`,
      ),
    ],
    ['trades', text(e.totalTrades)],
    ['return', text(percent(e.totalReturnPct))],
    ['max drawdown', text(percent(e.maxDrawdown))],
    ['win rate', text(percent(e.winRate))],
  ])}</div>
</div>
<div class="columns">
<div><h4>Gates</h4>${gateTable('Training', e.trainingGate)}${gateTable('Backtest', e.backtestGate)}</div>
<div><h4>Assessment</h4>${assessment}
<h4>Hypothesis</h4>${hypothesis}
<h4>Lineage</h4><ul>${lineage}</ul></div>
</div>
</article>`;
}
