// The lockbox and the promotion decision, as pure functions (no I/O). The statistics follow
// /work/shared/research/INTEGRITY.md: the lockbox PSR is Bailey and López de Prado's probabilistic Sharpe ratio
// against zero, in KTRDR's units (per-bar returns, Sharpe annualised by √252), like the deflated Sharpe.
import { observationsOfBacktest, perObservationSharpe, probabilisticSharpe } from './deflated-sharpe.ts';

export interface DayWindow {
  startDate: string;
  endDate: string;
}

const DAY_MS = 86_400_000;

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function shiftDay(day: string, days: number): string {
  return dayOf(dayMs(day) + days * DAY_MS);
}

/**
 * The first day of the lockbox: `months` calendar months before the last day KTRDR has data for. A day that does not
 * exist in the earlier month (31 March less one month) falls back to the month's last day.
 */
export function lockboxStartFor(dataEnd: string, months: number): string {
  const end = new Date(dayMs(dataEnd.slice(0, 10)));
  const target = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(end.getUTCDate(), lastDay));
  return dayOf(target.getTime());
}

/** The last day a designer may use: the day before the lockbox. */
export function searchPeriodEnd(lockboxStart: string): string {
  return shiftDay(lockboxStart, -1);
}

/** A window reaches into the lockbox when any of its days is on or after the lockbox's first day. */
export function reachesLockbox(window: DayWindow, lockboxStart: string): boolean {
  return window.endDate >= lockboxStart || window.startDate >= lockboxStart;
}

function lengthDays(window: DayWindow): number {
  return Math.round((dayMs(window.endDate) - dayMs(window.startDate)) / DAY_MS) + 1;
}

/** The search period's days left once the windows to avoid are cut out, as disjoint intervals, latest first. */
function freeIntervals(period: DayWindow, avoid: DayWindow[]): DayWindow[] {
  let free: DayWindow[] = [period];
  for (const cut of avoid) {
    free = free.flatMap((part) => {
      if (cut.endDate < part.startDate || cut.startDate > part.endDate) return [part];
      const pieces: DayWindow[] = [];
      if (cut.startDate > part.startDate) pieces.push({ startDate: part.startDate, endDate: shiftDay(cut.startDate, -1) });
      if (cut.endDate < part.endDate) pieces.push({ startDate: shiftDay(cut.endDate, 1), endDate: part.endDate });
      return pieces;
    });
  }
  return free.filter((part) => part.startDate <= part.endDate).sort((a, b) => (a.endDate < b.endDate ? 1 : -1));
}

/** A robustness window shorter than this says too little (about 60 hourly forex bars a week, ~500 bars). */
export const MIN_ROBUSTNESS_DAYS = 60;

/**
 * `count` non-overlapping windows of the search period that share no day with the candidate's training window nor
 * with its own backtest window, each as long as that backtest (at most a year, at least MIN_ROBUSTNESS_DAYS), the
 * latest first: the data nearest the lockbox says most about the present. Fewer come back when the period has no
 * room for them; the caller decides what too few means.
 */
export function robustnessWindows(input: { searchPeriod: DayWindow; training: DayWindow | null; backtest: DayWindow | null; count: number }): DayWindow[] {
  const avoid = [input.training, input.backtest].filter((w): w is DayWindow => w !== null);
  const preferred = input.backtest ? Math.min(365, Math.max(MIN_ROBUSTNESS_DAYS, lengthDays(input.backtest))) : 365;
  const out: DayWindow[] = [];
  for (const length of [preferred, Math.max(MIN_ROBUSTNESS_DAYS, Math.floor(preferred / 2)), MIN_ROBUSTNESS_DAYS]) {
    out.length = 0;
    for (const part of freeIntervals(input.searchPeriod, avoid)) {
      let end = part.endDate;
      while (out.length < input.count && lengthDays({ startDate: part.startDate, endDate: end }) >= length) {
        const start = shiftDay(end, -(length - 1));
        out.push({ startDate: start, endDate: end });
        end = shiftDay(start, -1);
      }
      if (out.length >= input.count) return out;
    }
  }
  return out;
}

/** PSR(0) of a backtest from KTRDR's figures: the probability its true Sharpe is positive (normal returns assumed). */
export function psrAgainstZero(input: { sharpe: number | null; bars: number | null; startDate: string; endDate: string }): number | null {
  if (input.sharpe === null || !Number.isFinite(input.sharpe)) return null;
  const observations = observationsOfBacktest({ bars: input.bars, startDate: input.startDate, endDate: input.endDate });
  const psr = probabilisticSharpe({ sharpe: perObservationSharpe(input.sharpe), benchmark: 0, observations, skew: 0, kurtosis: 3 });
  return Number.isFinite(psr) ? psr : null;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface PromotionEvidence {
  lockbox: { gatePassed: boolean; gateReason: string | null; sharpe: number | null; psr: number | null };
  robustnessSharpes: (number | null)[];
  minLockboxPsr: number;
}

/**
 * The promotion rule, no model involved: the lockbox backtest passes the backtest gate, its PSR against zero reaches
 * the bar, and the robustness windows' median Sharpe is positive. Every reason that failed is named.
 */
export function decidePromotion(evidence: PromotionEvidence): { promoted: boolean; reason: string } {
  const failures: string[] = [];
  const { lockbox } = evidence;
  if (!lockbox.gatePassed) failures.push(`the lockbox backtest failed the backtest gate (${lockbox.gateReason ?? 'no reason given'})`);
  if (lockbox.psr === null) failures.push('the lockbox backtest has no PSR (KTRDR gave no Sharpe or too few bars)');
  else if (lockbox.psr < evidence.minLockboxPsr) failures.push(`lockbox PSR ${lockbox.psr.toFixed(3)} < ${evidence.minLockboxPsr}`);
  const sharpes = evidence.robustnessSharpes.filter((s): s is number => s !== null && Number.isFinite(s));
  const middle = median(sharpes);
  if (middle === null) failures.push('no robustness window gave a Sharpe ratio');
  else if (middle <= 0) failures.push(`robustness median Sharpe ${middle.toFixed(2)} is not positive`);
  if (failures.length > 0) return { promoted: false, reason: failures.join('; ') };
  return {
    promoted: true,
    reason: `lockbox Sharpe ${lockbox.sharpe?.toFixed(2) ?? 'n/a'}, PSR ${lockbox.psr!.toFixed(3)} >= ${evidence.minLockboxPsr}; robustness median Sharpe ${middle!.toFixed(2)} > 0`,
  };
}
