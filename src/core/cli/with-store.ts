import type { Kysely } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import { openStore, storeTarget, type Store } from '../db/connect.ts';
import type { Database } from '../db/database-schema.ts';

/** A store the process lends to its own commands for a while (see lendStore). */
let lent: Store | null = null;

/**
 * Opens the database for one command (or one refresh) and always closes it, so an embedded data dir is held only
 * as long as the work, never against the next cron tick. While a store is lent (lendStore), commands use it.
 */
export async function withStore<T>(config: AgentConfig, work: (db: Kysely<Database>) => Promise<T>, lockWaitMs?: number): Promise<T> {
  if (lent) return work(lent.db);
  const store = await openStore(storeTarget(config), { lockWaitMs: lockWaitMs ?? config.settings.AGENT_LOCK_WAIT_SECONDS * 1000 });
  try {
    return await work(store.db);
  } finally {
    await store.close();
  }
}

/**
 * Runs `work` with every command of this process reading `store`, which stays open and is the caller's to close:
 * `demo` shows `status` and `history` of its own database without a second embedded database in memory (each PGlite
 * open starts a WASM heap that is freed only when V8 collects it).
 */
export async function lendStore<T>(store: Store, work: () => Promise<T>): Promise<T> {
  lent = store;
  try {
    return await work();
  } finally {
    lent = null;
  }
}
