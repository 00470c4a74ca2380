/** Market data routes: indicators, symbols and the date range held for a symbol and timeframe. */
import { BUILTIN_INDICATORS } from '../../strategy/indicator-data.ts';
import { SIM_SYMBOLS, symbolListing } from '../market.ts';
import { API_PREFIX, globalError, json, SIMULATOR_LABEL, validationError } from '../reply.ts';
import { isRecord } from '../../kernel/records.ts';
import type { Reply } from '../reply.ts';
import { rangeOf } from '../state.ts';
import type { SimContext } from '../state.ts';

export function listIndicators(): Reply {
  // Like KTRDR, every entry reports the same hard-coded period/source pair, whatever the real parameters.
  return json(200, {
    success: true,
    data: BUILTIN_INDICATORS.map((spec) => ({
      id: spec.className,
      name: spec.displayName,
      description: `${spec.displayName} (${SIMULATOR_LABEL})`,
      type: spec.category,
      parameters: [
        { name: 'period', type: 'int', description: 'Period for calculation', default: 14, min_value: 1, max_value: 200, options: null },
        {
          name: 'source',
          type: 'str',
          description: 'Source price',
          default: 'close',
          min_value: null,
          max_value: null,
          options: ['open', 'high', 'low', 'close'],
        },
      ],
    })),
  });
}

export function dataRangeReply(ctx: SimContext, body: unknown): Reply {
  if (!isRecord(body) || typeof body.symbol !== 'string' || typeof body.timeframe !== 'string') {
    return validationError([{ field: 'body -> symbol', message: 'Field required: symbol and timeframe', type: 'missing' }]);
  }
  const range = rangeOf(ctx, body.symbol, body.timeframe, ctx.now());
  if (!range) {
    return globalError(404, 'DATA-NotFound', `No data available for ${body.symbol} (${body.timeframe})`, {
      symbol: body.symbol,
      timeframe: body.timeframe,
    });
  }
  return json(200, {
    success: true,
    data: {
      symbol: range.symbol,
      timeframe: range.timeframe,
      start_date: `${range.startDate}T00:00:00`,
      end_date: `${range.endDate}T00:00:00`,
      point_count: range.pointCount,
    },
  });
}

/** FastAPI redirects the path without its trailing slash. */
export function redirectIndicators(): Reply {
  return { status: 307, body: null, headers: { location: `${API_PREFIX}/indicators/` } };
}

export function listSymbols(): Reply {
  return json(200, { success: true, data: SIM_SYMBOLS.map(symbolListing) });
}
