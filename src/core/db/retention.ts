// Bounded growth: trigger rows (one or more per pass) and tick rows (one per pass, with its summary) older than the
// retention are deleted, a small batch per statement, so no delete holds a lock or a transaction for long. Nothing
// else is ever deleted here: sessions, their actions, experiments, hypotheses and budget rows are the research and
// the money, kept for good.
import type { Kysely } from 'kysely';
import type { Database } from './database-schema.ts';
import { countTicksBefore, deleteTickBatch } from './repositories/ticks.ts';
import { countTriggersBefore, deleteTriggerBatch } from './repositories/triggers.ts';

/** What one prune deletes (or, dry, would delete). */
export interface PruneCounts {
  triggers: number;
  ticks: number;
}

export interface PruneResult extends PruneCounts {
  /** DELETE statements run, each of at most `batchSize` rows. */
  batches: number;
  /** False when it stopped at `maxBatches` with rows still to delete (the next pass goes on). */
  complete: boolean;
}

/** The moment before which rows go, for a retention in days. */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 86_400_000);
}

/** How many rows a prune with this cutoff would delete. */
export async function countPrunable(db: Kysely<Database>, before: Date): Promise<PruneCounts> {
  const [triggers, ticks] = await Promise.all([countTriggersBefore(db, before), countTicksBefore(db, before)]);
  return { triggers, ticks };
}

// Each batch deletes the oldest rows before the cutoff, walked on the table's time index. The ids go through an
// array (`id = ANY (ARRAY(...))`), not `id IN (...)`: PostgreSQL plans the IN as a hash semi-join over a sequential
// scan of the whole table (50 ms on 100,000 rows for a batch that deletes nothing), the array as a primary-key
// lookup (0.5 ms); see bench/prune.ts.

/**
 * Deletes trigger and tick rows older than `before`, `batchSize` rows a statement, at most `maxBatches` statements
 * (unbounded when not given). Each statement commits on its own: an interrupted prune leaves nothing half done.
 */
export async function pruneOldRows(
  db: Kysely<Database>,
  options: { before: Date; batchSize: number; maxBatches?: number; onBatch?: (table: 'agent_triggers' | 'agent_ticks', rows: number) => void },
): Promise<PruneResult> {
  const result: PruneResult = { triggers: 0, ticks: 0, batches: 0, complete: false };
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  const steps = [
    { table: 'agent_triggers', key: 'triggers', remove: deleteTriggerBatch },
    { table: 'agent_ticks', key: 'ticks', remove: deleteTickBatch },
  ] as const;
  for (const step of steps) {
    for (;;) {
      if (result.batches >= maxBatches) return result;
      const deleted = await step.remove(db, options.before, options.batchSize);
      result.batches += 1;
      result[step.key] += deleted;
      options.onBatch?.(step.table, deleted);
      if (deleted < options.batchSize) break;
    }
  }
  result.complete = true;
  return result;
}
