import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { pruneDatabase } from '../../core/cli/services/db-prune.ts';
import { renderPruneText } from '../../core/cli/views/prune-text.ts';
import type { PruneReport } from '../../core/cli/views/prune-schema.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class DbPrune extends AgentCommand {
  static override summary = 'Delete trigger rows and tick summaries older than the retention (AGENT_RETENTION_DAYS, default 90).';
  static override description =
    `Every tick already does this a few batches at a time, at the end of its pass; this runs it to the end now, in batches of 1000 rows. Sessions, their actions, experiments, hypotheses and budget rows are never deleted.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    'dry-run': Flags.boolean({ description: 'Only count what would be deleted.' }),
    days: Flags.integer({ description: 'Keep this many days instead of AGENT_RETENTION_DAYS.', min: 1, max: 36500 }),
  };
  static override examples = ['<%= config.bin %> db prune --dry-run', '<%= config.bin %> db prune', '<%= config.bin %> db prune --days 30 --json'];

  async run(): Promise<PruneReport> {
    const { flags } = await this.parse(DbPrune);
    const config = this.loadAgentConfig();
    const retentionDays = flags.days ?? config.settings.AGENT_RETENTION_DAYS;
    const report = await withStore(config, (db) => pruneDatabase(db, { now: new Date(), retentionDays, dryRun: flags['dry-run'] === true }));
    if (!this.jsonEnabled()) this.log(renderPruneText(report));
    return report;
  }
}
