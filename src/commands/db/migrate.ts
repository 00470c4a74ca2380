import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { describeTarget, openStore, storeTarget } from '../../core/db/connect.ts';
import { migrateToLatest, migrationStatus } from '../../core/db/migrate.ts';

export default class DbMigrate extends AgentCommand {
  static override summary = 'Apply pending database migrations and report what is applied and pending.';
  static override description = `Migrations also run automatically on first use.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    status: Flags.boolean({ description: 'Only report applied and pending migrations; apply nothing.' }),
  };
  static override examples = ['<%= config.bin %> db migrate', '<%= config.bin %> db migrate --status --json'];

  async run() {
    const { flags } = await this.parse(DbMigrate);
    const config = this.loadAgentConfig();
    const target = storeTarget(config);
    const store = await openStore(target, { migrate: false, lockWaitMs: config.settings.AGENT_LOCK_WAIT_SECONDS * 1000 });
    try {
      const before = await migrationStatus(store.db);
      const appliedNow = flags.status ? [] : (await migrateToLatest(store.db)).map((r) => r.migrationName);
      const after = flags.status ? before : await migrationStatus(store.db);
      const result = { database: describeTarget(target), appliedNow, applied: after.applied, pending: after.pending };
      if (!this.jsonEnabled()) {
        this.log(`Database: ${result.database}`);
        this.log(`Applied: ${after.applied.length} (${after.applied.join(', ') || 'none'})`);
        this.log(`Pending: ${after.pending.length}${after.pending.length ? ` (${after.pending.join(', ')})` : ''}`);
        // --status applies nothing, so it says what would happen instead of "applied now: none (up to date)".
        if (flags.status)
          this.log(after.pending.length > 0 ? 'Nothing applied (--status). `ktrdr-agent db migrate` applies them, and so does the next tick.' : 'Up to date.');
        else this.log(appliedNow.length > 0 ? `Applied now: ${appliedNow.join(', ')}` : 'Applied now: none (already up to date)');
      }
      return result;
    } finally {
      await store.close();
    }
  }
}
