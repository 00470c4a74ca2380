// `db prune`: the retention rule a pass applies a few batches at a time, run to the end (or counted, --dry-run).
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database-schema.ts';
import { countPrunable, pruneOldRows, retentionCutoff } from '../db/repositories/retention.ts';

/** `db prune --json`: what went (or, with --dry-run, would go). */
export const pruneResultSchema = z
  .object({
    dryRun: z.boolean(),
    retentionDays: z.number().int().min(0),
    /** Rows older than this go (ISO time); null when the retention is 0 (keep everything). */
    before: z.string().nullable(),
    /** Deleted, or under --dry-run what would be. */
    triggers: z.number().int().min(0),
    ticks: z.number().int().min(0),
    batches: z.number().int().min(0),
    batchSize: z.number().int().min(1),
  })
  .strict();
export type PruneReport = z.infer<typeof pruneResultSchema>;

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

export function renderPruneText(report: PruneReport): string {
  if (report.before === null)
    return 'The retention is 0 days (AGENT_RETENTION_DAYS=0): nothing is deleted. Pass --days N to prune rows older than N days once.';
  const rows = `${report.triggers} trigger row${report.triggers === 1 ? '' : 's'} and ${report.ticks} tick summar${report.ticks === 1 ? 'y' : 'ies'} older than ${report.before} (${report.retentionDays} days)`;
  if (report.dryRun)
    return `Would delete ${rows}. Sessions, actions, experiments, hypotheses and budget rows are never deleted. Run without --dry-run to delete them.`;
  return `Deleted ${rows}, in ${report.batches} batch${report.batches === 1 ? '' : 'es'} of at most ${report.batchSize} rows.`;
}
