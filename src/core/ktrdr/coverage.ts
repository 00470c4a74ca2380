/**
 * Whether KTRDR holds data for a whole window before an operation is started on it. Without this KTRDR fails a
 * training asynchronously ("No data found in cache for GBPUSD 1h") or silently backtests the part it has (asked
 * for a year, it used one month).
 */
import type { KtrdrClient } from './client.ts';
import { KtrdrError } from './errors.ts';

export interface CoverageRequest {
  symbols: string[];
  timeframes: string[];
  startDate: string;
  endDate: string;
}

/** The problem, naming the available range, or null when every symbol and timeframe covers the window. */
export async function coverageProblem(ktrdr: KtrdrClient, request: CoverageRequest): Promise<string | null> {
  const problems: string[] = [];
  for (const symbol of request.symbols) {
    for (const timeframe of request.timeframes) {
      let range;
      try {
        range = await ktrdr.getDataRange(symbol, timeframe);
      } catch (error) {
        if (error instanceof KtrdrError && error.isNotFound) {
          problems.push(`KTRDR has no ${symbol} ${timeframe} data at all`);
          continue;
        }
        throw error;
      }
      const from = range.start_date.slice(0, 10);
      const to = range.end_date.slice(0, 10);
      if (request.startDate < from || request.endDate > to) {
        problems.push(`${symbol} ${timeframe} data covers only ${from}..${to} (${range.point_count} bars)`);
      }
    }
  }
  if (problems.length === 0) return null;
  return `the window ${request.startDate}..${request.endDate} is not covered: ${problems.join('; ')}. Choose a window inside the available range.`;
}
