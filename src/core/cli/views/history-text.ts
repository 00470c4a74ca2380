import { displayWidth, fitText } from '../terminal-width.ts';
import { formatDuration, formatNumber, formatPercent, formatTimestamp, formatUsd, paint, relativeTime } from '../format.ts';
import { cycleDetail, describeOperation, outcomeWord } from './phrases.ts';
import type { BacktestFigures, HistoryEntry, HistoryView, TrainingFigures } from './schemas.ts';
import { outcomeColor, type TextOptions } from './status-text.ts';
import { outcomeLabel } from './session-facts.ts';

export function trainingLine(figures: TrainingFigures): string {
  const parts = [`accuracy=${formatPercent(figures.accuracy)}`, `loss=${formatNumber(figures.finalLoss)}`];
  if (figures.epochsTrained !== null) {
    const of = figures.epochsConfigured !== null ? `/${figures.epochsConfigured}` : '';
    parts.push(`epochs=${figures.epochsTrained}${of}${figures.earlyStopped ? ' (early stop)' : ''}`);
  }
  return parts.join(', ');
}

export function backtestLine(figures: BacktestFigures): string {
  const parts = [`sharpe=${formatNumber(figures.sharpe)}`, `win_rate=${formatPercent(figures.winRate)}`, `drawdown=${formatPercent(figures.maxDrawdown)}`];
  if (figures.totalTrades !== null) parts.push(`trades=${figures.totalTrades}`);
  return parts.join(', ');
}

function statusLine(entry: HistoryEntry, color: boolean): string {
  if (entry.outcome === null) return `Status: ${paint(`${entry.phase.toUpperCase()} (in progress)`, 'cyan', color)}`;
  return `Status: ${paint(outcomeLabel(entry.outcome), outcomeColor(outcomeWord(entry.outcome), { verdict: entry.assessment?.verdict, sharpe: entry.backtest?.sharpe }), color)}`;
}

function entryLines(entry: HistoryEntry, now: Date, color: boolean): string[] {
  const lines = [paint(`Session #${entry.id} - ${entry.strategyName ?? '(unnamed)'}`, 'bold', color), `  ${statusLine(entry, color)}`];
  const started = new Date(entry.createdAt);
  if (entry.active) {
    lines.push(`  Started: ${formatTimestamp(started)} (${relativeTime(started, now)})`);
  } else {
    lines.push(`  Finished: ${formatTimestamp(new Date(entry.completedAt!))} (${relativeTime(new Date(entry.completedAt!), now)})`);
    lines.push(`  Duration: ${formatDuration(entry.durationSeconds)}`);
  }
  if (entry.training) lines.push(`  Training: ${trainingLine(entry.training)}`);
  if (entry.backtest)
    lines.push(
      `  Backtest: ${backtestLine(entry.backtest)}${entry.dsrNow ? `, dsr=${formatNumber(entry.dsrNow.dsr)} over ${entry.dsrNow.trials} trials now` : entry.deflatedSharpe !== null ? `, dsr=${formatNumber(entry.deflatedSharpe)} at its end` : ''}`,
    );
  // The running operation comes after the figures it will add to: training figures, then `Backtest: op_… (running)`.
  if (entry.operation) lines.push(`  ${entry.operation.kind === 'training' ? 'Training' : 'Backtest'}: ${describeOperation(entry.operation, now)}`);
  if (entry.failedGate) lines.push(`  Gate Reason: ${entry.failedGate.gate} gate, ${entry.failedGate.reason}`);
  else if (entry.outcome !== null && entry.outcome !== 'success') {
    lines.push(`  Reason: ${cycleDetail({ ...entry, outcome: entry.outcome, sharpe: entry.backtest?.sharpe ?? null, verdict: null })}`);
  }
  if (entry.assessment) lines.push(`  Assessment: ${entry.assessment.verdict}, "${entry.assessment.summary}"`);
  lines.push(`  Cost: ${formatUsd(entry.costUsd)}`);
  return lines;
}

export interface HistoryTextOptions extends TextOptions {
  /** The filter flags as typed, repeated in the next-page hint. */
  filterFlags?: string;
}

/**
 * The next page's command, whole: a command cut with an ellipsis could not be pasted, so on a narrow terminal it
 * goes on lines of its own, joined by the shell's line continuations (one flag and its value per line).
 */
function nextPageLines(flags: string, width: number | null): string[] {
  const line = `More: ktrdr-agent history ${flags}`;
  if (width === null || displayWidth(line) <= width) return [line];
  const parts = ['ktrdr-agent history', ...flags.split(/ (?=--)/)];
  const lines = ['More:'];
  let current = '';
  for (const part of parts) {
    const candidate = current === '' ? `  ${part}` : `${current} ${part}`;
    if (current !== '' && displayWidth(`${candidate} \\`) > width) {
      lines.push(`${current} \\`);
      current = `    ${part}`;
    } else {
      current = candidate;
    }
  }
  lines.push(current);
  return lines;
}

export function renderHistoryText(view: HistoryView, options: HistoryTextOptions): string {
  const now = new Date(view.generatedAt);
  if (view.sessions.length === 0) {
    const filtered = view.filters.outcomes !== null || view.filters.since !== null;
    return filtered ? 'No sessions match these filters.' : 'No sessions yet: the first tick starts one.';
  }
  const blocks = view.sessions.map((entry) => entryLines(entry, now, options.color).join('\n'));
  if (view.nextCursor) {
    const flags = [`--limit ${view.filters.limit}`, options.filterFlags ?? '', `--cursor ${view.nextCursor}`].filter(Boolean).join(' ');
    blocks.push(
      nextPageLines(flags, options.width ?? null)
        .map((line) => paint(line, 'gray', options.color))
        .join('\n'),
    );
  }
  return fitText(blocks.join('\n\n'), options.width ?? null);
}
