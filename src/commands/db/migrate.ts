import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { migrateDatabase, type MigrateResult } from '../../core/cli/services/db-migrate.ts';

export default class DbMigrate extends AgentCommand {
  static override summary = 'Apply pending database migrations and report what is applied and pending.';
  static override description = `Migrations also run automatically on first use.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    status: Flags.boolean({ description: 'Only report applied and pending migrations; apply nothing.' }),
  };
  static override examples = ['<%= config.bin %> db migrate', '<%= config.bin %> db migrate --status --json'];

  async run(): Promise<MigrateResult> {
    const { flags } = await this.parse(DbMigrate);
    const config = this.loadAgentConfig();
    const result = await migrateDatabase(config, { statusOnly: flags.status === true });
    if (!this.jsonEnabled()) {
      this.log(`Database: ${result.database}`);
      this.log(`Applied: ${result.applied.length} (${result.applied.join(', ') || 'none'})`);
      this.log(`Pending: ${result.pending.length}${result.pending.length ? ` (${result.pending.join(', ')})` : ''}`);
      // --status applies nothing, so it says what would happen instead of "applied now: none (up to date)".
      if (flags.status)
        this.log(result.pending.length > 0 ? 'Nothing applied (--status). `ktrdr-agent db migrate` applies them, and so does the next tick.' : 'Up to date.');
      else this.log(result.appliedNow.length > 0 ? `Applied now: ${result.appliedNow.join(', ')}` : 'Applied now: none (already up to date)');
    }
    return result;
  }
}
