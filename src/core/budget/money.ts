// The two rounding rules of money. Booked amounts (what the ledger reserves and settles) are whole micro-dollars,
// the store's NUMERIC(14, 6), rounded up: never book money that was not spent, never spend money that is not
// booked. Shown amounts (text and --json) are rounded to the nearest, from the micro-dollar the store holds.

export const MICRO_USD_PER_USD = 1_000_000;

/** Digits of a shown amount in --json: the micro-dollar, the precision the store keeps. */
export const JSON_USD_DECIMALS = 6;

/**
 * The whole micro-dollars an amount is booked at, rounded up. The amount is first taken to the pico-dollar so that
 * float noise (0.1 + 0.2) does not book a micro-dollar more than the exact sum.
 */
export function bookedMicroUsd(usd: number): number {
  return Math.ceil(Math.round(usd * 1e12) / 1e6);
}

/** An amount as it is booked: rounded up to the micro-dollar (rounding to nearest could under-book half a one). */
export function bookedUsd(usd: number): number {
  return bookedMicroUsd(usd) / MICRO_USD_PER_USD;
}

/**
 * The micro-dollars of an amount read from the store or summed from such amounts: they are whole already, so the
 * nearest integer only removes float noise (a limit less what is used less what is reserved).
 */
export function microUsdOf(usd: number): number {
  return Math.round(usd * MICRO_USD_PER_USD);
}

/**
 * An amount as it is shown: to `decimals` digits (the micro-dollar by default), half away from zero, counted on
 * the micro-dollar integer rather than on a binary float (so 1.005 shows as 1.01, where toFixed says 1.00).
 */
export function shownUsd(usd: number, decimals = JSON_USD_DECIMALS): number {
  const step = 10 ** (JSON_USD_DECIMALS - Math.min(decimals, JSON_USD_DECIMALS));
  const units = Math.floor((microUsdOf(Math.abs(usd)) + step / 2) / step);
  if (units === 0) return 0;
  return (Math.sign(usd) * units) / 10 ** Math.min(decimals, JSON_USD_DECIMALS);
}

/** `$12.35`: an amount shown to `decimals` digits (cents by default), or an em dash when there is none. */
export function formatUsd(usd: number | null | undefined, decimals = 2): string {
  if (usd === null || usd === undefined) return '—';
  return `$${shownUsd(usd, decimals).toFixed(decimals)}`;
}
