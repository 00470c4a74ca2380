// `npm run bench -- --only=prune`: the retention rule on a database with 100,000 old trigger rows. Each DELETE takes
// at most 1000 rows, so the figure that matters is how long one batch holds its locks (median and worst, as a ratio)
// and that the number of batches is rows / 1000; the total and the empty prune a quiet pass pays are for scale.
import { sql, type Kysely } from 'kysely';
import { openStore, type Store } from '../src/core/db/connect.ts';
import type { Database } from '../src/core/db/database-schema.ts';
import { pruneOldRows } from '../src/core/db/retention.ts';
import { PRUNE_BATCH_ROWS } from '../src/core/cli/services/db-prune.ts';
import { createTestDatabase } from '../test/support/databases.ts';
import type { BenchHelpers } from './research.ts';

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function seedOldRows(db: Kysely<Database>, triggers: number, ticks: number): Promise<void> {
  await sql`
    INSERT INTO agent_triggers (triggered_at, trigger_reason, tick_id, agent_invoked, skip_reason, context)
    SELECT now() - interval '100 days' - g * interval '10 seconds', 'operation_still_running', 'tick-' || (g / 3), false, 'operation_running',
           '{"detail": "training 42% complete"}'::jsonb
    FROM generate_series(1, ${triggers}) AS g`.execute(db);
  await sql`
    INSERT INTO agent_ticks (id, started_at, finished_at, host, status, summary)
    SELECT 'tick-' || g, now() - interval '100 days' - g * interval '5 minutes', now() - interval '100 days', 'bench', 'ok', '{"decisions": []}'::jsonb
    FROM generate_series(1, ${ticks}) AS g`.execute(db);
  // A year of recent rows the prune must walk past without touching.
  await sql`
    INSERT INTO agent_triggers (triggered_at, trigger_reason, agent_invoked)
    SELECT now() - g * interval '1 minute', 'operation_still_running', false FROM generate_series(1, ${Math.round(triggers / 10)}) AS g`.execute(db);
}

async function measure(store: Store, rows: number): Promise<(string | number)[]> {
  const db = store.db;
  await seedOldRows(db, rows, Math.round(rows / 3));
  const before = new Date(Date.now() - 90 * 86_400_000);
  const batchMs: number[] = [];
  let last = performance.now();
  const started = last;
  const result = await pruneOldRows(db, {
    before,
    batchSize: PRUNE_BATCH_ROWS,
    onBatch: () => {
      const now = performance.now();
      batchMs.push(now - last);
      last = now;
    },
  });
  const totalMs = performance.now() - started;
  // What every quiet pass pays once nothing is old: two index probes.
  const empty: number[] = [];
  for (let run = 0; run < 15; run++) {
    const t = performance.now();
    await pruneOldRows(db, { before, batchSize: PRUNE_BATCH_ROWS, maxBatches: 10 });
    empty.push(performance.now() - t);
  }
  const deleted = result.triggers + result.ticks;
  const med = median(batchMs);
  return [
    store.target.kind,
    result.triggers,
    result.ticks,
    result.batches,
    round(med, 1),
    round(Math.max(...batchMs), 1),
    round(Math.max(...batchMs) / med, 1),
    round(totalMs / 1000, 1),
    Math.round(deleted / (totalMs / 1000)),
    round(median(empty), 2),
  ];
}

export async function pruneBench(helpers: BenchHelpers, options: { rows: number }): Promise<void> {
  const database = await createTestDatabase('ktrdr_agent_bench_prune');
  const rows: (string | number)[][] = [];
  try {
    const postgres = await openStore({ kind: 'postgres', url: database.url });
    try {
      rows.push(await measure(postgres, options.rows));
    } finally {
      await postgres.close();
    }
  } finally {
    await database.drop();
  }
  const pglite = await openStore({ kind: 'pglite', dataDir: null });
  try {
    rows.push(await measure(pglite, options.rows));
  } finally {
    await pglite.close();
  }
  const header = ['store', 'triggers', 'ticks', 'batches', 'median batch ms', 'max batch ms', 'max/median', 'total s', 'rows/s', 'empty prune ms'];
  helpers.results.prune = rows.map((row) => Object.fromEntries(header.map((name, index) => [name, row[index]])));
  helpers.table(
    `prune (${options.rows.toLocaleString('en-US')} old trigger rows, batches of ${PRUNE_BATCH_ROWS}; empty prune = a quiet pass's cost, median of 15)`,
    header,
    rows,
  );
}
