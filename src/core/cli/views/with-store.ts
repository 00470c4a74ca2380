import type { Kysely } from 'kysely';
import type { AgentConfig } from '../../config/load.ts';
import { openStore, storeTarget } from '../../db/connect.ts';
import type { Database } from '../../db/database-schema.ts';

/** Opens the store for one read and closes it, so an embedded data dir is held only as long as the read. */
export async function withStore<T>(config: AgentConfig, read: (db: Kysely<Database>) => Promise<T>, lockWaitMs?: number): Promise<T> {
  const store = await openStore(storeTarget(config), {
    lockWaitMs: lockWaitMs ?? config.settings.AGENT_LOCK_WAIT_SECONDS * 1000,
  });
  try {
    return await read(store.db);
  } finally {
    await store.close();
  }
}

/** The view options every read command takes from the configuration. */
export function viewSettings(config: AgentConfig): { configuredLimitUsd: number; stallAfterSeconds: number } {
  return {
    configuredLimitUsd: config.settings.AGENT_BUDGET_DAILY_USD,
    stallAfterSeconds: config.settings.AGENT_STALL_TIMEOUT_MINUTES * 60,
  };
}
