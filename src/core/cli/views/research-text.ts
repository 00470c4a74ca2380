import { formatNumber, formatPercent, formatTimestamp, formatUsd, paint, renderTable } from '../format.ts';
import type { ExperimentDetailView, ExperimentSummary, ExperimentsView, HypothesesView, HypothesisDetailView, HypothesisEntry } from './schemas.ts';
import { heading, type TextOptions } from './status-text.ts';
import { promotionLines, promotionWord } from './promotion-view.ts';
import { dsrCell, dsrSentence } from './dsr-text.ts';
import { fitText } from '../terminal-width.ts';
import { sessionSearchLines } from './search-view.ts';

function design(e: ExperimentSummary): string {
  return [e.indicators.join('+') || '—', e.labelSource ? `${e.labelSource}${e.labelThreshold !== null ? ` ${e.labelThreshold}` : ''}` : null, e.architecture]
    .filter(Boolean)
    .join(', ');
}

function result(e: ExperimentSummary): string {
  return e.outcome === 'success' ? 'success' : e.failedChecks.length > 0 ? `${e.outcome} (${e.failedChecks.join(',')})` : e.outcome;
}

function experimentRows(experiments: ExperimentSummary[]): (string | number)[][] {
  return experiments.map((e) => [
    `#${e.id}`,
    e.strategyName ?? '—',
    design(e),
    `${e.symbol ?? '?'} ${e.timeframe ?? '?'}`,
    result(e),
    formatPercent(e.accuracy),
    formatNumber(e.sharpe),
    dsrCell(e.dsrNow),
    e.hypothesisId !== null ? `H${e.hypothesisId}` : e.exploration ? 'explore' : '—',
    e.parentExperimentId !== null ? `#${e.parentExperimentId}` : '—',
    promotionWord(e.promotion),
  ]);
}

const experimentHead = ['id', 'strategy', 'design', 'market', 'outcome', 'accuracy', 'sharpe', 'dsr (trials)', 'tests', 'parent', 'promotion'];
// On a narrow terminal the outcome and the backtest's figures stay longest; the lineage columns go first (the
// promotion's word stays with the figures).
const experimentImportance = [0, 4, 1, 10, 6, 7, 3, 2, 5, 8, 9];

export function renderExperimentsText(view: ExperimentsView, options: TextOptions): string {
  if (view.experiments.length === 0)
    return view.total === 0 ? 'No experiments yet: every finished session becomes one.' : 'No experiment matches these filters.';
  return [
    heading(`Experiments (${view.experiments.length} of ${view.total}, by ${view.filters.sort})`, options.color),
    renderTable(experimentHead, experimentRows(view.experiments), {
      importance: experimentImportance,
      ...(options.width !== undefined ? { width: options.width } : {}),
    }),
  ]
    .map((line) => fitText(line, options.width ?? null))
    .join('\n');
}

export function renderExperimentDetailText(view: ExperimentDetailView, options: TextOptions): string {
  const e = view.experiment;
  const { color } = options;
  const lines = [
    heading(`Experiment #${e.id}`, color),
    `Session: #${e.sessionId} (${e.designer}${e.model ? `, ${e.model}` : ''})`,
    `Strategy: ${e.strategyName ?? '—'}`,
    `Design: ${design(e)}`,
    `Market: ${e.symbol ?? '?'} ${e.timeframe ?? '?'}`,
    `Training window: ${e.trainingWindow ? `${e.trainingWindow.startDate}..${e.trainingWindow.endDate}` : '—'}`,
    `Backtest window: ${e.backtestWindow ? `${e.backtestWindow.startDate}..${e.backtestWindow.endDate}` : '—'}`,
    `Outcome: ${result(e)}`,
  ];
  if (e.failureReason) lines.push(`Reason: ${e.failureReason}`);
  if (e.designFailure) lines.push(`Why the design failed: ${e.designFailure.detail}`);
  lines.push(
    `Training: accuracy=${formatPercent(e.accuracy)}, loss=${formatNumber(e.finalLoss)}`,
    `Backtest: sharpe=${formatNumber(e.sharpe)}, win_rate=${formatPercent(e.winRate)}, drawdown=${formatPercent(e.maxDrawdown)}, trades=${e.totalTrades ?? '—'}`,
    `Deflated Sharpe: ${dsrSentence(e.dsrNow, { dsr: e.deflatedSharpe, trials: e.dsrTrials }, `${e.symbol ?? '?'} ${e.timeframe ?? '?'}`)}`,
    `Score: ${formatNumber(e.score)}`,
    `Tests: ${view.hypothesis ? `H${view.hypothesis.id} [${view.hypothesis.status}] ${view.hypothesis.text}` : e.exploration ? 'exploration' : '—'}`,
  );
  lines.push(...promotionLines(e.promotion));
  if (e.assessment) lines.push(`Assessment: ${e.assessment.verdict}, "${e.assessment.explanation.slice(0, 200)}"`);
  lines.push(`Cost: ${formatUsd(e.costUsd)} (${e.tokensInput} in, ${e.tokensOutput} out)`, `Finished: ${formatTimestamp(new Date(e.completedAt))}`);
  if (view.search) lines.push('', heading('Search', color), ...sessionSearchLines(view.search));
  lines.push('', heading('Parent', color), view.parent ? renderTable(experimentHead, experimentRows([view.parent])) : 'None.');
  lines.push(
    '',
    heading(`Children (${view.children.length})`, color),
    view.children.length > 0 ? renderTable(experimentHead, experimentRows(view.children)) : 'None.',
  );
  return lines.join('\n');
}

function statusWord(h: HypothesisEntry, color: boolean): string {
  if (h.retired) return paint('retired', 'gray', color);
  const tone = h.status === 'validated' || h.status === 'supported' ? 'green' : h.status === 'refuted' ? 'red' : h.status === 'testing' ? 'cyan' : 'yellow';
  return paint(h.status, tone, color);
}

export function renderHypothesesText(view: HypothesesView, options: TextOptions): string {
  if (view.hypotheses.length === 0) return 'No hypotheses. Add one with `ktrdr-agent hypotheses add "<text>"`.';
  return [
    heading(`Hypotheses (${view.hypotheses.length})`, options.color),
    renderTable(
      ['id', 'status', 'text', 'source', 'proposed by'],
      view.hypotheses.map((h) => [
        `H${h.id}`,
        statusWord(h, options.color),
        h.text.length > 100 ? `${h.text.slice(0, 99)}…` : h.text,
        h.source,
        h.proposedByExperimentId !== null ? `#${h.proposedByExperimentId}` : '—',
      ]),
    ),
  ].join('\n');
}

export function renderHypothesisDetailText(view: HypothesisDetailView, options: TextOptions): string {
  const h = view.hypothesis;
  const lines = [
    heading(`Hypothesis H${h.id}`, options.color),
    `Status: ${statusWord(h, options.color)}`,
    `Text: ${h.text}`,
    `Rationale: ${h.rationale ?? '—'}`,
    `Source: ${h.source}${h.proposedByExperimentId !== null ? ` (experiment #${h.proposedByExperimentId})` : ''}`,
    '',
    heading('History', options.color),
    ...view.events.map(
      (e) =>
        `${formatTimestamp(new Date(e.at))}  ${e.status.padEnd(12)} via ${e.via}${e.moved === false ? ' (recorded, status not moved)' : ''}${e.experimentId !== null ? ` (experiment #${e.experimentId})` : ''}${e.evidence ? `: ${e.evidence}` : ''}`,
    ),
    '',
    heading(`Experiments that tested it (${view.experiments.length})`, options.color),
    view.experiments.length > 0 ? renderTable(experimentHead, experimentRows(view.experiments)) : 'None yet.',
  ];
  return lines.join('\n');
}
