// How `db prune` says what went, or with --dry-run what would go.
import type { PruneReport } from './prune-schema.ts';

export function renderPruneText(report: PruneReport): string {
  if (report.before === null)
    return 'The retention is 0 days (AGENT_RETENTION_DAYS=0): nothing is deleted. Pass --days N to prune rows older than N days once.';
  const rows = `${report.triggers} trigger row${report.triggers === 1 ? '' : 's'} and ${report.ticks} tick summar${report.ticks === 1 ? 'y' : 'ies'} older than ${report.before} (${report.retentionDays} days)`;
  if (report.dryRun)
    return `Would delete ${rows}. Sessions, actions, experiments, hypotheses and budget rows are never deleted. Run without --dry-run to delete them.`;
  return `Deleted ${rows}, in ${report.batches} batch${report.batches === 1 ? '' : 'es'} of at most ${report.batchSize} rows.`;
}
