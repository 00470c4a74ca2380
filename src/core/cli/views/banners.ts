import type { Control, HeldFault } from '../../db/repositories/control.ts';
import { faultRetryAt } from '../../engine/after-invocation.ts';
import { formatTimestamp, formatUsd, relativeTime } from '../format.ts';
import { spentTodayUsd } from '../../budget/daily-limit.ts';
import type { Banner, LastTick, TodayBudget } from './schemas.ts';

/** `schedule` installs a tick every 5 minutes; a last tick older than twice that means the schedule stopped. */
export const TICK_SCHEDULE_SECONDS = 5 * 60;

export interface BannerInput {
  now: Date;
  paused: boolean;
  pausedAt: Date | null;
  fault: HeldFault | null;
  ktrdrDown: Control['ktrdrDown'];
  budget: TodayBudget;
  bufferUsd: number;
  /** False for the zero-cost baseline designer or with enforcement off: a spent budget then stops nothing. */
  budgetBinds: boolean;
  lastTick: LastTick | null;
  /** AGENT_FAULT_BACKOFF_MINUTES, for when a held fault's next try is. */
  faultBackoffMinutes: number;
}

function when(date: Date, now: Date): string {
  return `${formatTimestamp(date)} (${relativeTime(date, now)})`;
}

function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** Why invocations are held back: a refused key (until it changes or `resume`), or another fault (until its backoff ends). */
export function heldFaultBanner(fault: HeldFault, now: Date, backoffMinutes: number): Banner {
  if (fault.faultClass === 'anthropic_auth') {
    return {
      kind: 'anthropic_auth',
      since: fault.since.toISOString(),
      message: `Anthropic authentication failing since ${when(fault.since, now)}: ${fault.cause}. No model is invoked with this key.`,
      advice: 'Set a valid ANTHROPIC_API_KEY (a new key lifts the stop), or run `ktrdr-agent resume` to try the same key again.',
    };
  }
  const retryAt = faultRetryAt(fault, backoffMinutes);
  return {
    kind: 'fault_held',
    since: fault.since.toISOString(),
    message: `Invocations failing since ${when(fault.since, now)} (${fault.faultClass}, ${fault.streak} in a row): ${sentence(fault.cause)}`,
    advice: `${retryAt > now ? `The next try is after ${formatTimestamp(retryAt)}` : 'The next tick tries again'}; \`ktrdr-agent resume\` retries at the next tick.`,
  };
}

/** A cause as the end of a sentence: one full stop, whether or not the cause brought its own. */
function sentence(cause: string): string {
  return `${cause.replace(/[.\s]+$/, '')}.`;
}

/** The conditions that keep the loop from its work, worst first: each says since when, why, and what to do. */
export function statusBanners(input: BannerInput): Banner[] {
  const { now } = input;
  const banners: Banner[] = [];
  if (input.paused) {
    banners.push({
      kind: 'paused',
      since: input.pausedAt?.toISOString() ?? null,
      message: `Automatic triggering is PAUSED${input.pausedAt ? ` (since ${formatTimestamp(input.pausedAt)}, ${relativeTime(input.pausedAt, now)})` : ''}.`,
      advice: 'Run `ktrdr-agent resume` to restart.',
    });
  }
  if (input.fault) banners.push(heldFaultBanner(input.fault, now, input.faultBackoffMinutes));
  if (input.ktrdrDown) {
    const refused = input.ktrdrDown.faultClass === 'ktrdr_auth';
    banners.push({
      kind: 'ktrdr_unreachable',
      since: input.ktrdrDown.since.toISOString(),
      message: `KTRDR ${refused ? 'refusing our credentials' : 'unreachable'} since ${when(input.ktrdrDown.since, now)}: ${sentence(input.ktrdrDown.cause)}`,
      advice: refused
        ? 'Fix the credentials in KTRDR_API_URL (user:password@host) or in the proxy in front of KTRDR; `ktrdr-agent doctor` checks the connection.'
        : 'Start KTRDR or fix KTRDR_API_URL; `ktrdr-agent doctor` checks the connection.',
    });
  }
  const spendable = input.budget.remainingUsd - input.bufferUsd;
  if (input.budgetBinds && spendable <= 0) {
    const reset = nextUtcMidnight(now);
    banners.push({
      kind: 'budget_exhausted',
      since: null,
      message:
        `Today's budget is spent: ${formatUsd(spentTodayUsd(input.budget))} of ${formatUsd(input.budget.limitUsd)} used` +
        `${input.bufferUsd > 0 ? `, and the last ${formatUsd(input.bufferUsd)} is the buffer that is never spent` : ''}. No model is invoked until ${formatTimestamp(reset)} (${relativeTime(reset, now)}).`,
      advice: "Raise today's limit with `ktrdr-agent budget set <usd>` if you mean to.",
    });
  }
  const tick = input.lastTick;
  if (tick && tick.status !== 'running' && tick.secondsAgo > 2 * TICK_SCHEDULE_SECONDS) {
    const at = new Date(tick.finishedAt ?? tick.startedAt);
    banners.push({
      kind: 'tick_stale',
      since: at.toISOString(),
      message: `The last tick was ${when(at, now)}, over twice the ${TICK_SCHEDULE_SECONDS / 60}-minute schedule.`,
      advice: 'Is the cron job or systemd timer still running? `ktrdr-agent schedule` prints the line to install.',
    });
  }
  return banners;
}
