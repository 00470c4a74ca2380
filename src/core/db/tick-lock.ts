import pg from 'pg';
import type { StoreTarget } from './connect.ts';

/** A constant key for pg_try_advisory_lock: "ktrdr" as an int. Any process using this key is a tick. */
export const TICK_LOCK_KEY = 0x6b747264;

export interface TickLock {
  release(): Promise<void>;
}

/**
 * Lets exactly one tick mutate state across processes and hosts. On PostgreSQL a session-level advisory lock is
 * held on one dedicated connection (not a pooled one) for the whole pass; the server drops it if the process dies.
 * On PGlite the data-dir lock taken when the database was opened already excludes every other process.
 * Returns null when another tick holds the lock.
 */
export async function tryAcquireTickLock(target: StoreTarget): Promise<TickLock | null> {
  if (target.kind === 'pglite') return { release: async () => {} };
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [TICK_LOCK_KEY]);
    if (!result.rows[0]?.locked) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  // Ending the session releases a session-level advisory lock: no unlock round trip needed.
  return { release: () => client.end().catch(() => {}) };
}
