import type { Kysely } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import { openStore, storeTarget } from '../db/connect.ts';
import type { Database } from '../db/database-schema.ts';

/**
 * Opens the database for one command (or one refresh) and always closes it, so an embedded data dir is held only
 * as long as the work, never against the next cron tick.
 */
export async function withStore<T>(config: AgentConfig, work: (db: Kysely<Database>) => Promise<T>, lockWaitMs?: number): Promise<T> {
  const store = await openStore(storeTarget(config), { lockWaitMs: lockWaitMs ?? config.settings.AGENT_LOCK_WAIT_SECONDS * 1000 });
  try {
    return await work(store.db);
  } finally {
    await store.close();
  }
}
