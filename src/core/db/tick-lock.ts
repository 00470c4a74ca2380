import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import pg from 'pg';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import type { StoreTarget } from './connect.ts';

/** A constant key for pg_try_advisory_lock: "ktrdr" as an int. Any process using this key is a tick. */
export const TICK_LOCK_KEY = 0x6b747264;

/** The key of a transaction-level advisory lock that serialises session creation ("ktre"), released at commit. */
export const CYCLE_CREATION_LOCK_KEY = 0x6b747265;

/** How often the lock's connection is used while the pass runs: it keeps poolers and NATs from closing it as idle. */
const HEARTBEAT_MS = 10_000;

/** The pass lost its tick lock: another tick may already be running, so this one stops before its next write. */
export class TickLockLostError extends AgentError {
  constructor(cause: string) {
    super(
      `The tick lock was lost (${cause}), so another tick may be running: this pass stopped before its next write. ` +
        'Nothing is lost; the next tick carries on. If this repeats, check for idle timeouts on the database connection (a pooler, NAT or idle_session_timeout).',
      ExitCode.TickLockLost,
      'tick_lock_lost',
    );
  }
}

export interface TickLock {
  /** Throws TickLockLostError once the lock's connection is known to be gone (its events and the heartbeat tell). */
  assertHeld(): void;
  /** A round trip proving the lock is still held by this process's session; throws TickLockLostError otherwise. */
  verify(): Promise<void>;
  release(): Promise<void>;
}

const embeddedLock: TickLock = { assertHeld: () => {}, verify: async () => {}, release: async () => {} };

/**
 * The lock and its connection's session settings in one round trip: the connection is idle for most of the pass and
 * must not be closed for that. idle_session_timeout is PostgreSQL 14+ (older servers have no such timeout to turn off).
 */
const acquireStatement = `SELECT pg_try_advisory_lock($1) AS locked,
  set_config('statement_timeout', '0', false),
  set_config('idle_in_transaction_session_timeout', '0', false),
  CASE WHEN current_setting('server_version_num')::int >= 140000 THEN set_config('idle_session_timeout', '0', false) END`;

/**
 * Lets exactly one tick mutate state across processes and hosts. On PostgreSQL a session-level advisory lock is
 * held on one dedicated connection (not a pooled one) for the whole pass; the server drops it if the process dies,
 * and the pass stops if the connection dies. On PGlite the data-dir lock taken when the database was opened already
 * excludes every other process. Returns null when another tick holds the lock.
 */
export async function tryAcquireTickLock(target: StoreTarget, options: { heartbeatMs?: number } = {}): Promise<TickLock | null> {
  if (target.kind === 'pglite') return embeddedLock;
  const client = new pg.Client({
    connectionString: target.url,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    query_timeout: 15_000,
  });
  let lost: string | null = null;
  let releasing = false;
  const markLost = (cause: string) => {
    if (!releasing) lost ??= cause;
  };
  client.on('error', (error) => markLost(`its connection failed: ${error.message}`));
  client.on('end', () => markLost('its connection was closed'));
  await client.connect();
  try {
    const result = await client.query<{ locked: boolean }>(acquireStatement, [TICK_LOCK_KEY]);
    if (!result.rows[0]?.locked) {
      releasing = true;
      await client.end();
      return null;
    }
  } catch (error) {
    releasing = true;
    await client.end().catch(() => {});
    throw error;
  }
  const verify = async () => {
    if (lost) throw new TickLockLostError(lost);
    try {
      // A bigint advisory key below 2^32 shows in pg_locks as classid 0, objid = key, objsubid 1.
      const result = await client.query<{ held: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = $1 AND objsubid = 1) AS held`,
        [TICK_LOCK_KEY],
      );
      if (!result.rows[0]?.held) markLost('its session no longer holds it');
    } catch (error) {
      markLost(`its connection failed: ${(error as Error).message}`);
    }
    if (lost) throw new TickLockLostError(lost);
  };
  const heartbeat = setInterval(() => void verify().catch(() => {}), options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();
  return {
    assertHeld: () => {
      if (lost) throw new TickLockLostError(lost);
    },
    verify,
    // Ending the session releases a session-level advisory lock: no unlock round trip needed.
    release: async () => {
      releasing = true;
      clearInterval(heartbeat);
      await client.end().catch(() => {});
    },
  };
}

/**
 * Checks the tick lock before every statement the pass sends, so a pass that lost its lock writes nothing more.
 * The check is the lock's known state (no round trip); `TickLock.verify` proves it before money is spent.
 */
export class TickLockGuard implements KyselyPlugin {
  readonly #lock: TickLock;
  constructor(lock: TickLock) {
    this.#lock = lock;
  }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#lock.assertHeld();
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
