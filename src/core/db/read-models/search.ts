// The search's reads: the history the allocation policy reads and the figures `status` and the report show. What each
// cycle was told (the directive, the claim on its exploit target, a fallback or decline) is the session's: repositories/sessions.ts.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import {
  regionOf,
  searchDimensions,
  type SearchDirective,
  type SearchObservation,
  type SearchDimension,
  type SearchMode,
  type RegionPosterior,
} from '../../research/search-policy.ts';
import { fromJson, toJson, toNumber } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** How many of the latest experiments the policy reads: enough to see every region, bounded at any size. */
export const SEARCH_HISTORY_LIMIT = 2000;

/** Experiments whose design reached the training gate, newest first, as the policy's observations. */
export async function loadSearchHistory(db: Db, limit = SEARCH_HISTORY_LIMIT): Promise<SearchObservation[]> {
  const rows = await db
    .selectFrom('agent_experiments')
    .select(['id', 'indicator_key', 'label_source', 'label_threshold', 'architecture', 'timeframe', 'symbol', 'score'])
    .where('training_gate', 'is not', null)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    experimentId: row.id,
    region: regionOf({
      indicatorKey: row.indicator_key ?? '',
      labelSource: row.label_source,
      labelThreshold: row.label_threshold === null ? null : Number(row.label_threshold),
      architecture: row.architecture,
      timeframe: row.timeframe,
      symbol: row.symbol,
    }),
    passed: row.score !== null,
    score: row.score === null ? null : Number(row.score),
  }));
}

/** The search's figures for `status` and the report. */
export interface SearchSummary {
  /** Cycles with a directive, and how many of them explored. */
  cycles: number;
  exploring: number;
  declined: number;
  fallbacks: number;
  /** Per dimension: regions tried, and the best score in each (the top few by best). */
  regions: { dimension: SearchDimension; tried: number; passed: number; best: { value: string; best: number; tried: number }[] }[];
  /** The last directive's mode, reason and the posterior it read. */
  last: { sessionId: number; mode: SearchMode; reason: string; posterior: RegionPosterior[] } | null;
}

const DIMENSION_COLUMN: Record<SearchDimension, string> = {
  indicators: 'indicator_key',
  labels: `coalesce(label_source, 'zigzag') || coalesce(' ' || label_threshold::text, '')`,
  network: 'architecture',
  timeframe: 'timeframe',
  symbol: 'symbol',
};

export async function loadSearchSummary(db: Db, bestPerDimension = 3): Promise<SearchSummary> {
  const counts = await db
    .selectFrom('agent_sessions')
    .select((eb) => [
      eb.fn.countAll().as('cycles'),
      eb.fn.count('id').filterWhere('search_mode', '=', 'explore').as('exploring'),
      eb.fn.count('search_declined').as('declined'),
      eb.fn.count('id').filterWhere(sql<boolean>`search_directive ? 'fallback'`).as('fallbacks'),
    ])
    .where('search_mode', 'is not', null)
    .executeTakeFirstOrThrow();
  const regions = await Promise.all(
    searchDimensions.map(async (dimension) => {
      const column = sql.raw(DIMENSION_COLUMN[dimension]);
      const rows = (
        await sql<{ value: string; tried: string | number; passed: string | number; best: number | null }>`
          SELECT ${column} AS value, count(*) AS tried, count(score) AS passed, max(score) AS best
            FROM agent_experiments
           WHERE training_gate IS NOT NULL AND ${column} IS NOT NULL
           GROUP BY 1`.execute(db)
      ).rows;
      const best = rows
        .filter((row) => row.best !== null)
        .map((row) => ({ value: row.value, best: Number(row.best), tried: toNumber(row.tried) }))
        .sort((a, b) => b.best - a.best || (a.value < b.value ? -1 : 1))
        .slice(0, bestPerDimension);
      return { dimension, tried: rows.length, passed: rows.filter((row) => toNumber(row.passed) > 0).length, best };
    }),
  );
  const lastRow = await db
    .selectFrom('agent_sessions')
    .select(['id', 'search_mode', 'search_directive'])
    .where('search_mode', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const lastDirective = fromJson<SearchDirective>(lastRow?.search_directive ?? null);
  return {
    cycles: toNumber(counts.cycles as string | number),
    exploring: toNumber(counts.exploring as string | number),
    declined: toNumber(counts.declined as string | number),
    fallbacks: toNumber(counts.fallbacks as string | number),
    regions,
    last:
      lastRow && lastDirective ? { sessionId: lastRow.id, mode: lastDirective.mode, reason: lastDirective.reason, posterior: lastDirective.posterior } : null,
  };
}
