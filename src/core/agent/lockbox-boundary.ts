import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { findLockbox, fixLockbox, type Lockbox } from '../db/repositories/lockboxes.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError } from '../ktrdr/errors.ts';
import { lockboxStartFor, reachesLockbox, searchPeriodEnd, type DayWindow } from '../research/lockbox.ts';

export interface LockboxContext {
  db: Kysely<Database>;
  ktrdr: KtrdrClient;
  months: number;
  now: () => Date;
}

/**
 * The lockbox in force for a symbol and timeframe, fixed from KTRDR's `/data/range` (CONTRACT.md §2.5: `{data:
 * {start_date, end_date, point_count}}`, 404 when it has none) the first time it is needed. Null when KTRDR has no data
 * for the pair: there is nothing to hold back, and the coverage checks refuse any window on it anyway. Any other
 * KTRDR failure is thrown: a window cannot be judged without its boundary.
 */
export async function lockboxOf(context: LockboxContext, symbol: string, timeframe: string): Promise<Lockbox | null> {
  const stored = await findLockbox(context.db, symbol, timeframe);
  if (stored) return stored;
  let range;
  try {
    range = await context.ktrdr.getDataRange(symbol, timeframe);
  } catch (error) {
    if (error instanceof KtrdrError && error.isNotFound) return null;
    throw error;
  }
  const dataEnd = range.end_date.slice(0, 10);
  return fixLockbox(context.db, {
    symbol,
    timeframe,
    startDate: lockboxStartFor(dataEnd, context.months),
    months: context.months,
    dataStart: range.start_date.slice(0, 10),
    dataEnd,
    now: context.now(),
  });
}

/**
 * Why a designer-chosen window may not run, or null when it stays in every search period it touches: each symbol and
 * timeframe it covers has its own lockbox.
 */
export async function lockboxRefusal(context: LockboxContext, input: { symbols: string[]; timeframes: string[] } & DayWindow): Promise<string | null> {
  for (const symbol of input.symbols) {
    for (const timeframe of input.timeframes) {
      const lockbox = await lockboxOf(context, symbol, timeframe);
      if (lockbox && reachesLockbox(input, lockbox.startDate)) {
        return (
          `the window ${input.startDate}..${input.endDate} reaches into the lockbox of ${symbol} ${timeframe}, which starts ${lockbox.startDate} ` +
          `and is held back for the promotion stage: end the window by ${searchPeriodEnd(lockbox.startDate)} (the search period ends there)`
        );
      }
    }
  }
  return null;
}

/** The last day a designer may use on a symbol and timeframe, or null when no lockbox applies. */
export async function searchPeriodEndOf(context: LockboxContext, symbol: string, timeframe: string): Promise<string | null> {
  const lockbox = await lockboxOf(context, symbol, timeframe);
  return lockbox ? searchPeriodEnd(lockbox.startDate) : null;
}
