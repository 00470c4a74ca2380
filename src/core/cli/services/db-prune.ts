// `db prune`: the retention rule a pass applies a few batches at a time, run to the end (or counted, --dry-run).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import type { PruneReport } from '../views/prune-schema.ts';
import { countPrunable, pruneOldRows, retentionCutoff } from '../../db/retention.ts';

/** Rows per DELETE: short statements, so a tick running meanwhile never waits long for a lock. */
export const PRUNE_BATCH_ROWS = 1000;

export async function pruneDatabase(db: Kysely<Database>, options: { now: Date; retentionDays: number; dryRun: boolean }): Promise<PruneReport> {
  const base = { dryRun: options.dryRun, retentionDays: options.retentionDays, batchSize: PRUNE_BATCH_ROWS };
  if (options.retentionDays === 0) return { ...base, before: null, triggers: 0, ticks: 0, batches: 0 };
  const before = retentionCutoff(options.now, options.retentionDays);
  if (options.dryRun) return { ...base, before: before.toISOString(), ...(await countPrunable(db, before)), batches: 0 };
  const result = await pruneOldRows(db, { before, batchSize: PRUNE_BATCH_ROWS });
  return { ...base, before: before.toISOString(), triggers: result.triggers, ticks: result.ticks, batches: result.batches };
}
