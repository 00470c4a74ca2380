// agent_experiment_tallies: running counts of what the memory tried and what passed, by part of a design (indicators,
// their pairs, labels, network) and by failure; added to as each experiment is written (experiments.ts), recounted
// in one statement after bulk writes. Only this file writes it.
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { AgentExperimentsTable, Database } from '../database-schema.ts';
import { toNumber } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

function talliesOf(
  e: Pick<
    Insertable<AgentExperimentsTable>,
    'fingerprint' | 'indicator_key' | 'label_source' | 'architecture' | 'gate_failed' | 'failed_checks' | 'design_failure_kind'
  >,
): { dimension: string; value: string }[] {
  const out = [{ dimension: 'total', value: '' }];
  if (e.fingerprint) {
    if (e.indicator_key) {
      out.push({ dimension: 'indicators', value: e.indicator_key });
      for (const pair of indicatorPairs(e.indicator_key)) out.push({ dimension: 'pairs', value: pair });
    }
    if (e.label_source) out.push({ dimension: 'labels', value: e.label_source });
    if (e.architecture) out.push({ dimension: 'architecture', value: e.architecture });
  }
  if (e.gate_failed) out.push({ dimension: 'failure', value: `${e.gate_failed}|${(e.failed_checks ?? []).join(',')}|${e.indicator_key ?? ''}`.slice(0, 400) });
  // A design that never reached training: counted by why, as `design|<kind>|`.
  if (e.design_failure_kind) out.push({ dimension: 'failure', value: `design|${e.design_failure_kind}|` });
  return out;
}

/**
 * Every pair of an experiment's indicator types (`adx+aroon+rsi` → `adx+aroon`, `adx+rsi`, `aroon+rsi`): the types are
 * sorted by code point, as `PAIRS_SQL` compares them (COLLATE "C"), so both ways of counting agree.
 */
export function indicatorPairs(indicatorKey: string): string[] {
  const types = [...new Set(indicatorKey.split('+').filter(Boolean))].sort();
  return types.flatMap((a, i) => types.slice(i + 1).map((b) => `${a}+${b}`));
}

/** The pair tallies recounted from the table, in SQL (the rebuild, and the migration that introduced them). */
export const PAIRS_SQL = `
  SELECT 'pairs', a || '+' || b, count(*), count(score), max(score)
    FROM agent_experiments, unnest(string_to_array(indicator_key, '+')) AS a, unnest(string_to_array(indicator_key, '+')) AS b
   WHERE fingerprint IS NOT NULL AND indicator_key IS NOT NULL AND a COLLATE "C" < b COLLATE "C"
   GROUP BY a, b`;

/** Adds one experiment to the running tallies (an upsert per part: concurrent writers queue on the row). */
export async function tally(db: Db, e: Insertable<AgentExperimentsTable>): Promise<void> {
  const passed = e.score !== null && e.score !== undefined;
  for (const { dimension, value } of talliesOf(e)) {
    await db
      .insertInto('agent_experiment_tallies')
      .values({ dimension, value, tried: 1, passed: passed ? 1 : 0, best: passed ? (e.score as number) : null })
      .onConflict((oc) =>
        oc.columns(['dimension', 'value']).doUpdateSet({
          tried: sql`agent_experiment_tallies.tried + 1`,
          passed: sql`agent_experiment_tallies.passed + ${passed ? 1 : 0}`,
          best: sql`greatest(agent_experiment_tallies.best, excluded.best)`,
        }),
      )
      .execute();
  }
}

/** Recounts the tallies from the experiments (for data written around recordExperiment, e.g. bulk test seeds). */
export async function rebuildTallies(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM agent_experiment_tallies`.execute(db);
  await sql`
    INSERT INTO agent_experiment_tallies (dimension, value, tried, passed, best)
    SELECT 'total', '', count(*), count(score), max(score) FROM agent_experiments
    UNION ALL SELECT 'indicators', indicator_key, count(*), count(score), max(score) FROM agent_experiments WHERE fingerprint IS NOT NULL AND indicator_key IS NOT NULL GROUP BY indicator_key
    UNION ALL ${sql.raw(PAIRS_SQL)}
    UNION ALL SELECT 'labels', label_source, count(*), count(score), max(score) FROM agent_experiments WHERE fingerprint IS NOT NULL AND label_source IS NOT NULL GROUP BY label_source
    UNION ALL SELECT 'architecture', architecture, count(*), count(score), max(score) FROM agent_experiments WHERE fingerprint IS NOT NULL AND architecture IS NOT NULL GROUP BY architecture
    UNION ALL SELECT 'failure', left(gate_failed || '|' || array_to_string(failed_checks, ',') || '|' || coalesce(indicator_key, ''), 400), count(*), 0, NULL
      FROM agent_experiments WHERE gate_failed IS NOT NULL GROUP BY 2
    UNION ALL SELECT 'failure', 'design|' || design_failure_kind || '|', count(*), 0, NULL FROM agent_experiments WHERE design_failure_kind IS NOT NULL GROUP BY design_failure_kind`.execute(
    db,
  );
}

export interface Tally {
  value: string;
  tried: number;
  passed: number;
  best: number | null;
}

/** The most tried values of one dimension, most tried first. */
export async function topTallies(db: Db, dimension: string, limit: number): Promise<Tally[]> {
  const rows = await db
    .selectFrom('agent_experiment_tallies')
    .selectAll()
    .where('dimension', '=', dimension)
    .orderBy('tried', 'desc')
    .orderBy('value')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ value: r.value, tried: toNumber(r.tried), passed: toNumber(r.passed), best: r.best }));
}

/** How often each indicator combination was tried, and how often it passed both gates. */
export async function indicatorKeyCounts(db: Db): Promise<Map<string, { tried: number; passed: number }>> {
  const rows = await topTallies(db, 'indicators', 10_000);
  return new Map(rows.map((r) => [r.value, { tried: r.tried, passed: r.passed }]));
}
