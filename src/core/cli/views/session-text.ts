import { describeBatchWait } from './status-text.ts';
import { formatDuration, formatInteger, formatNumber, formatPercent, formatTimestamp, formatUsd, paint } from '../format.ts';
import { describeOperation, formatMetric, outcomeWord, truncate } from './phrases.ts';
import type { SessionAction, SessionView } from './schemas.ts';
import { outcomeLabel } from './session-facts.ts';
import { dsrSentence } from './dsr-text.ts';
import { heading, outcomeColor, type TextOptions } from './status-text.ts';
import { sessionSearchLines } from './search-view.ts';

function argValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value, 40));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : '[...]';
  if (typeof value === 'object') return Object.keys(value as object).length === 0 ? '{}' : '{...}';
  return '?';
}

/** `save_strategy_config(name="momentum_ema_cross", config={...})`: arguments named, nested values elided. */
export function actionCall(action: Pick<SessionAction, 'toolName' | 'args'>): string {
  const args = action.args;
  let inner = '';
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) {
    inner = Object.entries(args as Record<string, unknown>)
      .map(([key, value]) => `${key}=${argValue(value)}`)
      .join(', ');
  } else if (args !== null && args !== undefined) {
    inner = argValue(args);
  }
  return `${action.toolName}(${truncate(inner, 100)})`;
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(indent + line);
  }
  return lines;
}

function statusText(view: SessionView, color: boolean): string {
  if (view.outcome === null) return paint(`${view.phase.toUpperCase()} (in progress)`, 'cyan', color);
  return paint(
    outcomeLabel(view.outcome),
    outcomeColor(outcomeWord(view.outcome), { verdict: view.assessment?.verdict, sharpe: view.backtest.figures?.sharpe }),
    color,
  );
}

function overview(view: SessionView, now: Date, color: boolean): string[] {
  const lines = [
    heading(`Session #${view.id}`, color),
    `Strategy: ${view.strategyName ?? '(not designed yet)'}`,
    `Status: ${statusText(view, color)}`,
    `Designer: ${view.designer}`,
    `Created: ${formatTimestamp(new Date(view.createdAt))}`,
  ];
  if (view.completedAt) lines.push(`Completed: ${formatTimestamp(new Date(view.completedAt))}`);
  lines.push(`Duration: ${formatDuration(view.durationSeconds)}${view.active ? ' so far' : ''}`);
  if (view.failureReason) lines.push(`Failure: ${view.failureReason}`);
  if (view.operation) lines.push(`Waiting on: ${describeOperation(view.operation, now)}`);
  if (view.invocation) lines.push(`Agent: working (${view.invocation.owner}, lease until ${formatTimestamp(new Date(view.invocation.expiresAt))})`);
  if (view.batch) lines.push(`Agent: ${describeBatchWait(view.batch)}`);
  return lines;
}

function strategySection(view: SessionView, color: boolean): string[] {
  const strategy = view.strategy;
  if (!strategy) return [];
  const lines = [heading('Strategy Config', color)];
  if (strategy.hypothesis) lines.push(`Hypothesis: "${strategy.hypothesis}"`);
  if (strategy.description && strategy.description !== strategy.hypothesis) lines.push(`Description: ${strategy.description}`);
  if (strategy.indicators.length > 0) {
    lines.push(
      `Indicators: ${strategy.indicators.map((i) => (i.type && i.type.toLowerCase() !== i.id.toLowerCase() ? `${i.id} (${i.type})` : i.id)).join(', ')}`,
    );
  }
  const backtestSymbol = view.backtest.params?.symbol;
  const symbols = strategy.symbols.length > 0 ? `${strategy.symbols.join(', ')} (training)` : '';
  const backtest = backtestSymbol ? `${backtestSymbol} (backtest)` : '';
  if (symbols || backtest) lines.push(`Symbols: ${[symbols, backtest].filter(Boolean).join(', ')}`);
  if (strategy.timeframes.length > 0) lines.push(`Timeframe: ${strategy.timeframes.join(', ')}`);
  if (view.training.params) lines.push(`Training period: ${view.training.params.startDate} to ${view.training.params.endDate}`);
  if (view.backtest.params) lines.push(`Backtest period: ${view.backtest.params.startDate} to ${view.backtest.params.endDate}`);
  if (strategy.filePath) lines.push(`File: ${strategy.filePath}`);
  return lines;
}

function trainingSection(view: SessionView, color: boolean): string[] {
  const { operationId, figures } = view.training;
  if (!operationId && !figures) return [];
  const lines = [heading('Training Results', color)];
  if (operationId) lines.push(`Operation: ${operationId}`);
  if (!figures) {
    lines.push(view.active ? 'Results: pending' : 'Results: none');
    return lines;
  }
  lines.push(`Accuracy: ${formatPercent(figures.accuracy)}`);
  if (figures.valAccuracy !== null) lines.push(`Validation Accuracy: ${formatPercent(figures.valAccuracy)}`);
  if (figures.initialLoss !== null) lines.push(`Initial Loss: ${formatNumber(figures.initialLoss)}`);
  lines.push(`Final Loss: ${formatNumber(figures.finalLoss)}`);
  if (figures.lossReduction !== null) lines.push(`Loss Reduction: ${formatPercent(figures.lossReduction)}`);
  if (figures.testLoss !== null) lines.push(`Test Loss: ${formatNumber(figures.testLoss)}`);
  if (figures.epochsTrained !== null) {
    const of = figures.epochsConfigured !== null ? `/${figures.epochsConfigured}` : '';
    const resumed = figures.resumedAtEpoch !== null ? ` (resumed at epoch ${figures.resumedAtEpoch})` : '';
    lines.push(`Epochs: ${figures.epochsTrained}${of}${figures.earlyStopped ? ' (early stopped)' : ''}${resumed}`);
  }
  if (figures.modelPath) lines.push(`Model: ${figures.modelPath}`);
  return lines;
}

function backtestSection(view: SessionView, color: boolean): string[] {
  const { operationId, figures } = view.backtest;
  if (!operationId && !figures) return [];
  const lines = [heading('Backtest Results', color)];
  if (operationId) lines.push(`Operation: ${operationId}`);
  if (!figures) {
    lines.push(view.active ? 'Results: pending' : 'Results: none');
    return lines;
  }
  lines.push(
    `Sharpe Ratio: ${formatNumber(figures.sharpe)}`,
    `Win Rate: ${formatPercent(figures.winRate)}`,
    `Max Drawdown: ${formatPercent(figures.maxDrawdown)}`,
    `Total Trades: ${formatInteger(figures.totalTrades)}`,
    `Profit Factor: ${formatNumber(figures.profitFactor)}`,
  );
  // `total_return_pct` is a fraction (0.12 = 12%, CONTRACT §3.2), like the win rate and the drawdown.
  if (figures.totalReturnPct !== null) lines.push(`Total Return: ${formatPercent(figures.totalReturnPct, 2)}`);
  return lines;
}

function experimentSection(view: SessionView, color: boolean): string[] {
  const e = view.experiment;
  if (!e) return [];
  const lines = [heading('Experiment', color), `Experiment: #${e.id} (\`ktrdr-agent experiments show ${e.id}\`)`];
  lines.push(`Tests: ${e.hypothesisId !== null ? `hypothesis #${e.hypothesisId}` : e.exploration ? 'exploration' : '(not stated)'}`);
  if (e.parentExperimentId !== null) lines.push(`Parent: experiment #${e.parentExperimentId}`);
  if (e.fingerprint) lines.push(`Fingerprint: ${e.fingerprint.slice(0, 16)}`);
  // The memory's view of the result: the DSR over the family's trials now, with the one stored at the end as history.
  if (e.dsrNow || e.deflatedSharpe !== null)
    lines.push(`Deflated Sharpe: ${dsrSentence(e.dsrNow, { dsr: e.deflatedSharpe, trials: e.dsrTrials }, `${e.symbol ?? '?'} ${e.timeframe ?? '?'}`)}`);
  return lines;
}

function gatesSection(view: SessionView, color: boolean): string[] {
  const gates = [view.gates.training, view.gates.backtest].filter((g) => g !== null);
  if (gates.length === 0) return [];
  const lines = [heading('Gates', color)];
  for (const gate of gates) {
    const verdict = gate.passed ? paint('PASSED', 'green', color) : paint('FAILED', 'red', color);
    lines.push(`${gate.gate === 'training' ? 'Training' : 'Backtest'} gate: ${verdict}${gate.reason ? ` (${gate.reason})` : ''}`);
    const width = Math.max(0, ...gate.checks.map((c) => c.metric.length));
    for (const check of gate.checks) {
      const mark = check.passed ? paint('pass', 'green', color) : paint('FAIL', 'red', color);
      const value = check.value === null ? 'missing' : formatMetric(check.metric, check.value);
      lines.push(`  ${check.metric.padEnd(width)}  ${value.padStart(8)}  needs ${check.comparison} ${formatMetric(check.metric, check.threshold)}  ${mark}`);
    }
  }
  return lines;
}

function assessmentSection(view: SessionView, color: boolean): string[] {
  const a = view.assessment;
  if (!a) return [];
  const lines = [heading('Assessment', color)];
  const tone = a.verdict === 'promising' ? 'green' : a.verdict === 'poor' ? 'red' : 'yellow';
  lines.push(`Passed: ${view.outcome === 'success' ? 'Yes' : 'No'}`, `Verdict: ${paint(a.verdict, tone, color)} (by ${a.author})`);
  lines.push('Explanation:', ...wrap(`"${a.explanation}"`, 76, '  '));
  for (const [label, items] of [
    ['Strengths', a.strengths],
    ['Weaknesses', a.weaknesses],
    ['Suggestions', a.suggestions],
  ] as const) {
    if (items.length === 0) continue;
    lines.push(`${label}:`);
    for (const item of items) lines.push(...wrap(item, 74, '    ').map((line, i) => (i === 0 ? `  - ${line.trimStart()}` : line)));
  }
  return lines;
}

function costSection(view: SessionView, color: boolean): string[] {
  const u = view.usage;
  const lines = [heading('Cost', color), `Tokens: ${formatInteger(u.tokensInput)} input / ${formatInteger(u.tokensOutput)} output`];
  if (u.tokensCacheRead > 0 || u.tokensCacheWrite > 0) {
    lines.push(`Cache: ${formatInteger(u.tokensCacheRead)} read / ${formatInteger(u.tokensCacheWrite)} written`);
  }
  lines.push(`Estimated: ${formatUsd(u.costUsd)}`);
  if (u.estimatedUsd > 0) lines.push(`  of which unconfirmed: ${formatUsd(u.estimatedUsd)} (calls cut off after they were sent)`);
  return lines;
}

function phasesSection(view: SessionView, color: boolean): string[] {
  if (view.phases.length === 0) return [];
  const lines = [heading('Phases', color)];
  for (const span of view.phases) {
    const time = formatTimestamp(new Date(span.at));
    const stillIn = view.active && span === view.phases.at(-1);
    const length = span.phase === 'idle' ? 'finished' : `${formatDuration(span.seconds)}${stillIn ? ' so far' : ''}`;
    lines.push(`${time}  ${span.phase.toUpperCase().padEnd(11)}  ${length}`);
  }
  return lines;
}

function actionsSection(view: SessionView, color: boolean): string[] {
  const lines = [heading('Actions (UTC)', color)];
  const { items, total } = view.actions;
  if (items.length === 0) {
    lines.push(total === 0 ? 'No actions recorded.' : `${total} actions (use --actions ${total} to list them).`);
    return lines;
  }
  const spansDays = new Set(items.map((a) => a.at.slice(0, 10))).size > 1;
  for (const action of items) {
    const at = new Date(action.at).toISOString();
    const time = spansDays ? `${at.slice(5, 10)} ${at.slice(11, 19)}` : at.slice(11, 19);
    const call = actionCall(action);
    lines.push(action.success ? `${time}  ${call}` : `${time}  ${call}  ${paint(`failed: ${action.errorMessage ?? 'error'}`, 'red', color)}`);
  }
  if (total > items.length) lines.push(paint(`… ${total - items.length} more (showing the first ${items.length}; use --actions ${total})`, 'gray', color));
  return lines;
}

export function renderSessionText(view: SessionView, options: TextOptions): string {
  const now = new Date(view.generatedAt);
  const { color } = options;
  return [
    overview(view, now, color),
    strategySection(view, color),
    trainingSection(view, color),
    backtestSection(view, color),
    gatesSection(view, color),
    assessmentSection(view, color),
    experimentSection(view, color),
    view.search ? [heading('Search', color), ...sessionSearchLines(view.search)] : [],
    costSection(view, color),
    phasesSection(view, color),
    actionsSection(view, color),
  ]
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'))
    .join('\n\n');
}
