// How every text view writes a deflated Sharpe: the value over the family's trials now, always with their count, and
// the value stored when the session ended beside it as history when it differs.
import { formatNumber } from '../format.ts';
import type { ExperimentSummary } from './schemas.ts';

type DsrNow = ExperimentSummary['dsrNow'];

/** `0.42 (17 trials)` for a table cell; `—` without a backtest. */
export function dsrCell(now: DsrNow): string {
  return now ? `${formatNumber(now.dsr)} (${now.trials})` : '—';
}

/** The sentence the detail views print. */
export function dsrSentence(now: DsrNow, stored: { dsr: number | null; trials: number | null }, family: string): string {
  if (!now) return stored.dsr === null ? '—' : `${formatNumber(stored.dsr)} at its end (among ${stored.trials ?? '?'} backtests)`;
  const history =
    stored.dsr !== null && (stored.trials !== now.trials || Math.abs(stored.dsr - now.dsr) >= 0.005)
      ? `; ${formatNumber(stored.dsr)} at its end, among ${stored.trials ?? '?'}`
      : '';
  return `${formatNumber(now.dsr)} over the ${now.trials} backtests of ${family} now (luck alone would reach Sharpe ${formatNumber(now.expectedMaxSharpe)} among them${history})`;
}
