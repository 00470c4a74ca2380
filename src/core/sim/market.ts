/** The simulator's market: which symbols and timeframes have data, since when, and at what price level. */
import { utcDay } from '../kernel/utc-day.ts';

export interface SimSymbol {
  symbol: string;
  name: string;
  type: 'forex' | 'stock' | 'etf';
  exchange: string;
  currency: string;
  /** A typical price, which sets the scale of price-unit indicators (moving averages, ATR, MACD). */
  priceLevel: number;
  /** Timeframe → first date with data (YYYY-MM-DD). */
  history: Record<string, string>;
}

const forexHistory = { '5m': '2019-01-02', '15m': '2017-01-02', '30m': '2015-01-02', '1h': '2005-01-03', '4h': '2005-01-03', '1d': '2000-01-03' };
const stockHistory = { '5m': '2020-01-02', '15m': '2018-01-02', '1h': '2010-01-04', '1d': '2000-01-03' };

export const SIM_SYMBOLS: readonly SimSymbol[] = [
  { symbol: 'EURUSD', name: 'Euro / US Dollar', type: 'forex', exchange: 'IDEALPRO', currency: 'USD', priceLevel: 1.09, history: forexHistory },
  { symbol: 'GBPUSD', name: 'British Pound / US Dollar', type: 'forex', exchange: 'IDEALPRO', currency: 'USD', priceLevel: 1.27, history: forexHistory },
  { symbol: 'USDJPY', name: 'US Dollar / Japanese Yen', type: 'forex', exchange: 'IDEALPRO', currency: 'JPY', priceLevel: 148, history: forexHistory },
  {
    symbol: 'AUDUSD',
    name: 'Australian Dollar / US Dollar',
    type: 'forex',
    exchange: 'IDEALPRO',
    currency: 'USD',
    priceLevel: 0.66,
    history: { '1h': '2008-01-02', '4h': '2008-01-02', '1d': '2000-01-03' },
  },
  { symbol: 'AAPL', name: 'Apple Inc.', type: 'stock', exchange: 'NASDAQ', currency: 'USD', priceLevel: 190, history: stockHistory },
  { symbol: 'MSFT', name: 'Microsoft Corporation', type: 'stock', exchange: 'NASDAQ', currency: 'USD', priceLevel: 410, history: stockHistory },
  {
    symbol: 'SPY',
    name: 'SPDR S&P 500 ETF',
    type: 'etf',
    exchange: 'ARCA',
    currency: 'USD',
    priceLevel: 520,
    history: { '1h': '2010-01-04', '1d': '2000-01-03' },
  },
];

export function findSymbol(symbol: string): SimSymbol | undefined {
  return SIM_SYMBOLS.find((entry) => entry.symbol === symbol.toUpperCase());
}

const minutesPerBar: Record<string, number> = { '1m': 1, '5m': 5, '15m': 15, '30m': 30, '1h': 60, '2h': 120, '4h': 240, '1d': 1440, '1w': 10080 };

/** Bars per calendar day: forex trades 24h five days a week, stocks about 6.5h on 252 days a year. */
export function barsPerDay(entry: SimSymbol, timeframe: string): number {
  const minutes = minutesPerBar[timeframe] ?? 60;
  if (timeframe === '1d') return entry.type === 'forex' ? 5 / 7 : 252 / 365;
  const tradingMinutes = entry.type === 'forex' ? 1440 * (5 / 7) : 390 * (252 / 365);
  return tradingMinutes / minutes;
}

export function isoDate(ms: number): string {
  return utcDay(new Date(ms));
}

export function dayCount(startDate: string, endDate: string): number {
  const start = Date.parse(`${startDate.slice(0, 10)}T00:00:00Z`);
  const end = Date.parse(`${endDate.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end)) return 0;
  return Math.max(0, Math.round((end - start) / 86_400_000));
}

export interface DataRangeFact {
  symbol: string;
  timeframe: string;
  startDate: string;
  endDate: string;
  pointCount: number;
}

/** Data runs up to the day before the simulator's "today". */
export function dataRange(symbol: string, timeframe: string, nowMs: number): DataRangeFact | null {
  const entry = findSymbol(symbol);
  const first = entry?.history[timeframe];
  if (!entry || !first) return null;
  const endDate = isoDate(nowMs - 86_400_000);
  return {
    symbol: entry.symbol,
    timeframe,
    startDate: first,
    endDate,
    pointCount: Math.round(dayCount(first, endDate) * barsPerDay(entry, timeframe)),
  };
}

export function symbolListing(entry: SimSymbol): Record<string, unknown> {
  return {
    symbol: entry.symbol,
    name: entry.name,
    type: entry.type,
    exchange: entry.exchange,
    currency: entry.currency,
    available_timeframes: Object.keys(entry.history),
    trading_hours:
      entry.type === 'forex'
        ? { timezone: 'UTC', regular_hours: { start: '22:00', end: '22:00', name: 'Sunday 22:00 to Friday 22:00' }, days_of_week: [0, 1, 2, 3, 4] }
        : { timezone: 'America/New_York', regular_hours: { start: '09:30', end: '16:00', name: 'Regular' }, days_of_week: [0, 1, 2, 3, 4] },
  };
}
