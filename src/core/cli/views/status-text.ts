import { formatDuration, formatPercent, formatTimestamp, formatUsd, paint, relativeTime, type Color } from '../format.ts';
import { cycleDetail, describeOperation, describeTick, operationHeading, outcomeWord, truncate } from './phrases.ts';
import { utilizationLines } from './utilization.ts';
import type { ActiveCycle, Banner, LastTick, RecentCycle, StatusView, TodayBudget } from './schemas.ts';
import { fitText, wrapPlain } from '../terminal-width.ts';
import { searchStatusLines } from './search-view.ts';

export interface TextOptions {
  color: boolean;
  /** Columns every line must fit (outputWidth() in terminal-width.ts); null or absent: no limit. */
  width?: number | null;
}

export function heading(title: string, color: boolean): string {
  return paint(`=== ${title} ===`, 'bold', color);
}

/** What a finished cycle's result says: its assessment's verdict, else the sign of its backtest Sharpe. */
export interface ResultSignal {
  verdict?: string | null | undefined;
  sharpe?: number | null | undefined;
}

/**
 * A SUCCESS is green only when its result is good (a promising verdict, or without one a positive Sharpe): a cycle
 * that ran to its end with Sharpe -0.43 is yellow, as a neutral or poor verdict is. The word stays SUCCESS: the
 * cycle did finish.
 */
export function outcomeColor(word: 'SUCCESS' | 'FAILED' | 'CANCELLED', result: ResultSignal = {}): Color {
  if (word === 'FAILED') return 'red';
  if (word === 'CANCELLED') return 'yellow';
  const good = result.verdict ? result.verdict === 'promising' : (result.sharpe ?? 0) > 0;
  return good ? 'green' : 'yellow';
}

/** A banner's advice is how to fix it: wrapped to the width rather than cut. */
export function bannerLines(banners: Banner[], color: boolean, width: number | null = null): string[] {
  return banners.flatMap((banner) =>
    wrapPlain(`⚠️  ${banner.message} ${banner.advice}`, width, 4).map((line) =>
      paint(line, banner.kind === 'paused' || banner.kind === 'budget_exhausted' ? 'yellow' : 'red', color),
    ),
  );
}

function activeCycleLines(cycle: ActiveCycle, now: Date): string[] {
  const lines = [
    `Session: #${cycle.id}`,
    `Phase: ${cycle.phase.toUpperCase()} (for ${formatDuration(cycle.secondsInPhase)})`,
    `Strategy: ${cycle.strategyName ?? '(being designed)'}`,
    `Started: ${relativeTime(new Date(cycle.createdAt), now)}`,
  ];
  if (cycle.operation) lines.push(`${operationHeading(cycle.operation)}: ${describeOperation(cycle.operation, now)}`);
  if (cycle.invocation) {
    lines.push(`Agent: working (${cycle.invocation.owner}, lease until ${formatTimestamp(new Date(cycle.invocation.expiresAt))})`);
  }
  if (cycle.batch) lines.push(`Agent: ${describeBatchWait(cycle.batch)}`);
  lines.push(`Cost so far: ${formatUsd(cycle.costUsd)}`);
  return lines;
}

// Up to this many active sessions get a block each; more get one line each so the budget stays on screen.
const DETAILED_ACTIVE_LIMIT = 3;

function activeCycleRows(cycles: ActiveCycle[], now: Date, color: boolean): string[] {
  const names = cycles.map((c) => truncate(c.strategyName ?? '(being designed)', 32));
  const idWidth = Math.max(...cycles.map((c) => String(c.id).length + 1));
  const nameWidth = Math.max(...names.map((n) => n.length));
  return cycles.map((cycle, i) => {
    const doing = cycle.batch
      ? `waiting for batch ${cycle.batch.batchId ?? cycle.batch.customId}`
      : cycle.operation
        ? describeOperation(cycle.operation, now)
        : cycle.invocation
          ? `agent working (${cycle.invocation.owner})`
          : 'waiting for the next tick';
    return [
      `#${cycle.id}`.padEnd(idWidth),
      paint(cycle.phase.toUpperCase().padEnd(11), 'cyan', color),
      formatDuration(cycle.secondsInPhase).padStart(7),
      names[i]!.padEnd(nameWidth),
      doing,
    ].join('  ');
  });
}

function activeSection(view: StatusView, now: Date, color: boolean): string[] {
  const title = view.activeTotal > 1 ? `Current Cycles (${view.activeTotal})` : 'Current Cycle';
  const lines = [heading(title, color)];
  if (view.active.length === 0) {
    lines.push(view.paused ? 'No active cycle (triggering is paused).' : 'No active cycle: the next tick starts one if the budget allows.');
    return lines;
  }
  if (view.active.length <= DETAILED_ACTIVE_LIMIT) {
    view.active.forEach((cycle, index) => {
      if (index > 0) lines.push('');
      lines.push(...activeCycleLines(cycle, now));
    });
  } else {
    lines.push(...activeCycleRows(view.active, now, color));
  }
  if (view.activeTotal > view.active.length) {
    lines.push('', `… and ${view.activeTotal - view.active.length} more (ktrdr-agent history lists them all).`);
  }
  return lines;
}

export function recentCycleRows(cycles: RecentCycle[], now: Date, color: boolean, width: number | null = null): string[] {
  // On a narrow terminal the name gives way first, so the outcome's detail and its time still show.
  const nameMax = width === null ? 36 : Math.max(10, Math.min(36, Math.floor((width - 40) * 0.6)));
  const names = cycles.map((c) => truncate(c.strategyName ?? '(unnamed)', nameMax));
  const idWidth = Math.max(0, ...cycles.map((c) => String(c.id).length + 1));
  const nameWidth = Math.max(0, ...names.map((n) => n.length));
  return cycles.map((cycle, i) => {
    const word = outcomeWord(cycle.outcome);
    const when = `  (${relativeTime(new Date(cycle.completedAt), now)})`;
    const room = width === null ? 80 : Math.max(8, Math.min(80, width - idWidth - nameWidth - 9 - 6 - when.length));
    const detail = truncate(cycleDetail(cycle), room);
    return [
      `#${cycle.id}`.padEnd(idWidth),
      names[i]!.padEnd(nameWidth),
      paint(word.padEnd(9), outcomeColor(word, { verdict: cycle.verdict, sharpe: cycle.sharpe }), color),
      `${detail}${when}`,
    ].join('  ');
  });
}

function recentSection(recent: RecentCycle[], now: Date, color: boolean, width: number | null): string[] {
  const lines = [heading('Recent Cycles', color)];
  if (recent.length === 0) lines.push('No finished cycles yet.');
  else lines.push(...recentCycleRows(recent, now, color, width));
  return lines;
}

export function budgetUsedLine(budget: TodayBudget, color: boolean): string {
  const fraction = budget.usedFraction;
  const pct = fraction === null ? '' : ` (${formatPercent(fraction)})`;
  const tone: Color = fraction !== null && fraction >= 0.9 ? 'red' : fraction !== null && fraction >= 0.7 ? 'yellow' : 'green';
  return `Used: ${paint(`${formatUsd(budget.usedUsd)} / ${formatUsd(budget.limitUsd)}${pct}`, tone, color)}`;
}

function budgetSection(budget: TodayBudget, color: boolean): string[] {
  const lines = [heading("Today's Budget", color), budgetUsedLine(budget, color)];
  if (budget.reservedUsd > 0) lines.push(`Reserved: ${formatUsd(budget.reservedUsd)} (model calls in flight)`);
  lines.push(
    `Remaining: ${formatUsd(budget.remainingUsd)}`,
    `Invocations: ${budget.invocations}`,
    `Cycles: ${budget.cyclesCompleted} completed, ${budget.cyclesActive} active`,
  );
  return lines;
}

function tickSection(tick: LastTick | null, now: Date, color: boolean): string[] {
  const lines = [heading('Last Tick', color)];
  if (!tick) {
    lines.push('No tick has run yet. Schedule `ktrdr-agent tick` from cron (every 5 minutes).');
    return lines;
  }
  const { headline, details } = describeTick(tick, now);
  lines.push(paint(headline, tick.status === 'error' ? 'red' : 'gray', color));
  for (const detail of details) lines.push(`  ${detail}`);
  return lines;
}

function bestSection(best: StatusView['bestExperiment'], color: boolean): string[] {
  const lines = [heading('Best Experiment', color)];
  if (!best) return [...lines, 'None has passed both gates yet.'];
  lines.push(
    `Experiment: #${best.id} ${best.strategyName ?? ''} (session #${best.sessionId})`.trimEnd(),
    `Design: ${best.indicators.join('+') || '(no indicators)'} on ${best.symbol ?? '?'} ${best.timeframe ?? '?'}`,
    `Sharpe: ${best.sharpe === null ? '—' : best.sharpe.toFixed(2)}, deflated Sharpe: ${best.dsrNow ? `${best.dsrNow.dsr.toFixed(2)} over ${best.dsrNow.trials} trials now` : '—'}`,
  );
  return lines;
}

/** Strategies that held up (issue #20): promoted, waiting for validation, and the validation lane's load. */
function promotionSection(counts: StatusView['promotions'], color: boolean): string[] {
  const lines = [heading('Promotions', color)];
  if (!counts) return [...lines, 'Unknown.'];
  lines.push(
    `Promoted: ${counts.promoted}, pending validation: ${counts.pending}, rejected: ${counts.rejected}`,
    `Validation backtests in flight: ${counts.validationsInFlight}`,
  );
  return lines;
}

export function renderStatusText(view: StatusView, options: TextOptions): string {
  const now = new Date(view.generatedAt);
  const { color } = options;
  const sections: string[][] = [];
  if (view.banners.length > 0) sections.push(bannerLines(view.banners, color, options.width ?? null));
  sections.push(
    activeSection(view, now, color),
    recentSection(view.recent, now, color, options.width ?? null),
    budgetSection(view.budget, color),
    utilizationLines(view.utilization ?? null, view.activeTotal, now, color),
    bestSection(view.bestExperiment, color),
    promotionSection(view.promotions, color),
    [heading('Search', color), ...searchStatusLines(view.search)],
    tickSection(view.lastTick, now, color),
  );
  return fitText(sections.map((lines) => lines.join('\n')).join('\n\n'), options.width ?? null);
}

/** "waiting for batch msgbatch_… (in_progress, sent …, expires …, $0.0123 held)". */
export function describeBatchWait(batch: NonNullable<ActiveCycle['batch']>): string {
  const expires = batch.expiresAt ? `, expires ${formatTimestamp(new Date(batch.expiresAt))}` : '';
  return `waiting for batch ${batch.batchId ?? `(id unknown yet, custom_id ${batch.customId})`} (${batch.status}, sent ${formatTimestamp(new Date(batch.submittedAt))}${expires}, ${formatUsd(batch.reservedUsd)} held)`;
}
