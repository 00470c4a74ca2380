import type { AgentConfig } from '../config/load.ts';
import { openStore, storeTarget, type Store } from '../db/connect.ts';

/** Opens the database for one command and always closes it (releasing the embedded database's lock). */
export async function withStore<T>(config: AgentConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeTarget(config), { lockWaitMs: config.settings.AGENT_LOCK_WAIT_SECONDS * 1000 });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
