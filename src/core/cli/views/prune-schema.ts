// The `db prune --json` contract (checked in as schemas/db-prune.json).
import { z } from 'zod';

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
