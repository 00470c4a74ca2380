import { SCORE_DESCRIPTION } from '../../../db/repositories/experiments.ts';
import { emptyState, escapeHtml, fixed, isoMinute, usd } from './html.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';
import { dsrNowText } from './section-trials.ts';

function figure(label: string, value: string, detail = ''): string {
  return `<div class="figure"><div class="figure-value">${escapeHtml(value)}</div><div class="figure-label">${escapeHtml(label)}</div>${detail ? `<div class="figure-detail">${escapeHtml(detail)}</div>` : ''}</div>`;
}

function render(report: ReportData): string {
  if (report.experimentCount === 0) {
    return emptyState(
      `Nothing yet: no experiment has finished${report.since ? ` since ${isoMinute(report.since)}` : ''}. Every finished cycle becomes one; run \`ktrdr-agent tick\` (or schedule it) and generate the report again.`,
    );
  }
  const passed = report.designers.reduce((a, d) => a + d.passed, 0);
  const cost = report.designers.reduce((a, d) => a + d.costUsd, 0);
  const best = report.top[0] ?? null;
  const span = report.span!;
  return [
    '<div class="figures">',
    figure('experiments', report.experimentCount.toLocaleString('en-US'), `${isoMinute(span.first)} to ${isoMinute(span.last)}`),
    figure('passed both gates', passed.toLocaleString('en-US'), `${((passed / report.experimentCount) * 100).toFixed(1)}% of them`),
    figure(
      'best score',
      fixed(best?.score ?? null) ?? '—',
      best ? `experiment #${best.id}, DSR ${dsrNowText(report, best.id) ?? '—'}` : 'none passed both gates yet',
    ),
    figure('model spend', usd(cost, cost < 1 ? 3 : 2), `budget ledger: ${usd(report.ledgerSpendUsd, report.ledgerSpendUsd < 1 ? 3 : 2)}`),
    '</div>',
    `<p class="note">Score: ${escapeHtml(SCORE_DESCRIPTION)}. DSR (deflated Sharpe ratio): the probability that the true Sharpe beats the expected best of as many backtests of the same symbol and timeframe (Bailey &amp; López de Prado, 2014; normal returns assumed); 0.95 is the usual bar.</p>`,
  ].join('');
}

export const summarySection = defineSection({ id: 'summary', title: 'Summary', render });
