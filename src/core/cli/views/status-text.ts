import { formatDuration, formatPercent, formatTimestamp, formatUsd, paint, relativeTime, type Color } from '../format.ts';
import {
  cycleDetail,
  describeOperation,
  describeTick,
  operationHeading,
  outcomeWord,
  truncate,
} from './phrases.ts';
import type { ActiveCycle, Banner, LastTick, RecentCycle, StatusView, TodayBudget } from './schemas.ts';
import { searchStatusLines } from './search-view.ts';

export interface TextOptions {
  color: boolean;
}

export function heading(title: string, color: boolean): string {
  return paint(`=== ${title} ===`, 'bold', color);
}

export function outcomeColor(word: 'SUCCESS' | 'FAILED' | 'CANCELLED'): Color {
  return word === 'SUCCESS' ? 'green' : word === 'FAILED' ? 'red' : 'yellow';
}

export function bannerLines(banners: Banner[], color: boolean): string[] {
  return banners.map((banner) => paint(`⚠️  ${banner.message} ${banner.advice}`, banner.kind === 'paused' || banner.kind === 'budget_exhausted' ? 'yellow' : 'red', color));
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

export function recentCycleRows(cycles: RecentCycle[], now: Date, color: boolean): string[] {
  const names = cycles.map((c) => truncate(c.strategyName ?? '(unnamed)', 36));
  const idWidth = Math.max(0, ...cycles.map((c) => String(c.id).length + 1));
  const nameWidth = Math.max(0, ...names.map((n) => n.length));
  return cycles.map((cycle, i) => {
    const word = outcomeWord(cycle.outcome);
    const detail = truncate(cycleDetail(cycle), 80);
    return [
      `#${cycle.id}`.padEnd(idWidth),
      names[i]!.padEnd(nameWidth),
      paint(word.padEnd(9), outcomeColor(word), color),
      `${detail}  (${relativeTime(new Date(cycle.completedAt), now)})`,
    ].join('  ');
  });
}

function recentSection(recent: RecentCycle[], now: Date, color: boolean): string[] {
  const lines = [heading('Recent Cycles', color)];
  if (recent.length === 0) lines.push('No finished cycles yet.');
  else lines.push(...recentCycleRows(recent, now, color));
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
    `Sharpe: ${best.sharpe === null ? '—' : best.sharpe.toFixed(2)}, deflated Sharpe: ${best.deflatedSharpe === null ? '—' : best.deflatedSharpe.toFixed(2)}`,
  );
  return lines;
}

export function renderStatusText(view: StatusView, options: TextOptions): string {
  const now = new Date(view.generatedAt);
  const { color } = options;
  const sections: string[][] = [];
  if (view.banners.length > 0) sections.push(bannerLines(view.banners, color));
  sections.push(
    activeSection(view, now, color),
    recentSection(view.recent, now, color),
    budgetSection(view.budget, color),
    bestSection(view.bestExperiment, color),
    [heading('Search', color), ...searchStatusLines(view.search)],
    tickSection(view.lastTick, now, color),
  );
  return sections.map((lines) => lines.join('\n')).join('\n\n');
}

/** "waiting for batch msgbatch_… (in_progress, sent …, expires …, $0.0123 held)". */
export function describeBatchWait(batch: NonNullable<ActiveCycle['batch']>): string {
  const expires = batch.expiresAt ? `, expires ${formatTimestamp(new Date(batch.expiresAt))}` : '';
  return `waiting for batch ${batch.batchId ?? `(id unknown yet, custom_id ${batch.customId})`} (${batch.status}, sent ${formatTimestamp(new Date(batch.submittedAt))}${expires}, ${formatUsd(batch.reservedUsd)} held)`;
}
