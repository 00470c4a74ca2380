// How the text views and the live dashboard word the same facts, so `status` and `status --watch` read alike.
import type { SessionOutcome } from '../../session/model.ts';
import { formatDuration, formatNumber, formatPercent, relativeTime } from '../format.ts';
import type { LastTick, Operation, RecentCycle } from './schemas.ts';
import { TICK_SCHEDULE_SECONDS } from './banners.ts';
import { metricFormat } from '../../engine/gates.ts';
import { decisionText } from '../../engine/decision-record.ts';

/** `op_abc123 (running, 67% complete)`, plus the current step and a stall warning when there is one. */
export function describeOperation(operation: Operation, now: Date): string {
  const parts = [operation.status ?? 'not polled yet'];
  if (operation.percentage !== null) parts.push(`${Math.round(operation.percentage)}% complete`);
  let text = `${operation.id} (${parts.join(', ')})`;
  if (operation.currentStep) text += ` · ${operation.currentStep}`;
  if (operation.stalled && operation.progressChangedAt) {
    text += ` · no progress for ${formatDuration((now.getTime() - Date.parse(operation.progressChangedAt)) / 1000)}`;
  }
  return text;
}

export function operationHeading(operation: Operation): string {
  return operation.kind === 'training' ? 'Training Operation' : 'Backtest Operation';
}

const stageOfOutcome: Partial<Record<SessionOutcome, string>> = {
  failed_design: 'Design',
  failed_training: 'Training',
  failed_backtest: 'Backtest',
  failed_assessment: 'Assessment',
  cancelled: 'Cancelled',
};

/** SUCCESS, FAILED or CANCELLED: the word the reference output uses in lists. */
export function outcomeWord(outcome: SessionOutcome): 'SUCCESS' | 'FAILED' | 'CANCELLED' {
  return outcome === 'success' ? 'SUCCESS' : outcome === 'cancelled' ? 'CANCELLED' : 'FAILED';
}

export function truncate(text: string, max: number): string {
  if (max <= 1) return text.slice(0, Math.max(0, max));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a finished cycle came to in one phrase: its Sharpe, the gate that stopped it, or why it failed. */
export function cycleDetail(cycle: Pick<RecentCycle, 'outcome' | 'sharpe' | 'failedGate' | 'failureReason' | 'verdict'>): string {
  if (cycle.outcome === 'success') {
    const sharpe = `Sharpe: ${formatNumber(cycle.sharpe)}`;
    return cycle.verdict ? `${sharpe} (${cycle.verdict})` : sharpe;
  }
  if (cycle.failedGate) return `Gate: ${cycle.failedGate.gate}, ${cycle.failedGate.reason}`;
  const stage = stageOfOutcome[cycle.outcome] ?? cycle.outcome;
  const reason = cycle.failureReason?.split('\n')[0]?.trim();
  return reason ? `${stage}: ${reason}` : stage;
}

/** Cron runs a tick every 5 minutes; twice that without one means the schedule stopped. */
export const STALE_TICK_SECONDS = 2 * TICK_SCHEDULE_SECONDS;

/** `2 minutes ago (ok on host-1)`, then one line per decision. */
export function describeTick(tick: LastTick, now: Date): { headline: string; details: string[]; stale: boolean } {
  const at = new Date(tick.finishedAt ?? tick.startedAt);
  const when = tick.status === 'running' ? `running since ${relativeTime(new Date(tick.startedAt), now)}` : relativeTime(at, now);
  const headline = tick.status === 'running' ? `${when} (on ${tick.host})` : `${when} (${tick.status} on ${tick.host})`;
  const details = tick.decisions.map(decisionText);
  if (tick.sessionsCreated.length > 0) details.push(`created ${tick.sessionsCreated.map((id) => `#${id}`).join(', ')}`);
  if (tick.errorMessage) details.push(`error: ${tick.errorMessage.split('\n')[0]}`);
  if (details.length === 0 && tick.status === 'ok') details.push('nothing to do');
  return { headline, details, stale: tick.status !== 'running' && tick.secondsAgo > STALE_TICK_SECONDS };
}

/** A gate metric the way the gate reasons print it: rates as percentages, the rest as numbers. */
export function formatMetric(metric: string, value: number | null): string {
  return metricFormat(metric) === 'percent' ? formatPercent(value) : formatNumber(value);
}
