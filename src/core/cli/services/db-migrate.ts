// `db migrate`: applies the pending migrations (or, with `statusOnly`, only reports them) on the configured store.
import type { AgentConfig } from '../../config/load.ts';
import { describeTarget, openStore, storeTarget } from '../../db/connect.ts';
import { migrateToLatest, migrationStatus } from '../../db/migrate.ts';

export interface MigrateResult {
  database: string;
  /** Applied by this run; empty under `statusOnly`. */
  appliedNow: string[];
  applied: string[];
  pending: string[];
}

export async function migrateDatabase(config: AgentConfig, options: { statusOnly: boolean }): Promise<MigrateResult> {
  const target = storeTarget(config);
  const store = await openStore(target, { migrate: false, lockWaitMs: config.settings.AGENT_LOCK_WAIT_SECONDS * 1000 });
  try {
    const before = await migrationStatus(store.db);
    const appliedNow = options.statusOnly ? [] : (await migrateToLatest(store.db)).map((r) => r.migrationName);
    const after = options.statusOnly ? before : await migrationStatus(store.db);
    return { database: describeTarget(target), appliedNow, applied: after.applied, pending: after.pending };
  } finally {
    await store.close();
  }
}
