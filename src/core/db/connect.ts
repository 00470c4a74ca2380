import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AgentError, ExitCode } from '../cli/errors.ts';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from './database-schema.ts';
import { ensureMigrated } from './migrate.ts';

export type StoreTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | null };

export interface Store {
  db: Kysely<Database>;
  target: StoreTarget;
  close(): Promise<void>;
}

/** Another process holds the embedded database. */
export class DatabaseBusyError extends AgentError {
  constructor(dataDir: string, waitedMs: number) {
    super(
      `The embedded database in ${dataDir} is in use by another ktrdr-agent process (waited ${Math.round(waitedMs / 1000)} s). ` +
        'Try again when it finishes, or raise AGENT_LOCK_WAIT_SECONDS.',
      ExitCode.Error,
      'database_busy',
    );
  }
}

const DATE_OID = 1082;

export function storeTarget(config: AgentConfig): StoreTarget {
  const url = config.settings.DATABASE_URL;
  return url ? { kind: 'postgres', url } : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') };
}

/** Shows where a database is without its password. */
export function describeTarget(target: StoreTarget): string {
  if (target.kind === 'pglite') return target.dataDir ? `PGlite at ${target.dataDir}` : 'PGlite in memory';
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '****';
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return 'PostgreSQL (unparseable DATABASE_URL)';
  }
}

export interface OpenStoreOptions {
  /** How long to wait for another process to release the embedded database. */
  lockWaitMs?: number;
  migrate?: boolean;
  poolSize?: number;
}

async function openPostgres(url: string, poolSize: number): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === DATE_OID ? (value: string) => value : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const target: StoreTarget = { kind: 'postgres', url };
  return { db, target, close: () => db.destroy() };
}

async function lockDataDir(dataDir: string, waitMs: number): Promise<() => Promise<void>> {
  const { default: lockfile } = await import('proper-lockfile');
  mkdirSync(dataDir, { recursive: true });
  const started = Date.now();
  const stale = 10_000;
  for (;;) {
    try {
      return await lockfile.lock(dataDir, {
        lockfilePath: join(dataDir, 'ktrdr-agent.lock'),
        stale,
        update: stale / 4,
        realpath: false,
        onCompromised: (error: Error) => {
          process.stderr.write(`ktrdr-agent: lost the embedded database lock (${error.message}); stopping.\n`);
          process.exit(ExitCode.Error);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const waited = Date.now() - started;
      if (waited >= waitMs) throw new DatabaseBusyError(dataDir, waited);
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, waitMs - waited)));
    }
  }
}

async function openPglite(dataDir: string | null, lockWaitMs: number): Promise<Store> {
  const release = dataDir ? await lockDataDir(dataDir, lockWaitMs) : async () => {};
  try {
    const [{ PGlite }, { PGliteDialect }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('kysely-pglite-dialect'),
    ]);
    const pglite = new PGlite(dataDir ?? undefined, { parsers: { [DATE_OID]: (value: string) => value } });
    await pglite.waitReady;
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      target: { kind: 'pglite', dataDir },
      close: async () => {
        try {
          await db.destroy();
        } finally {
          await release();
        }
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

function connectionFailure(target: StoreTarget, error: unknown): AgentError {
  const detail = error instanceof Error ? error.message : String(error);
  const hint =
    target.kind === 'postgres'
      ? 'Check DATABASE_URL and that the server is running and reachable.'
      : 'Check that the data directory is writable (KTRDR_AGENT_DATA_DIR).';
  return new AgentError(`Cannot open the database (${describeTarget(target)}): ${detail}. ${hint}`, ExitCode.Error, 'database_unreachable');
}

export async function openStore(target: StoreTarget, options: OpenStoreOptions = {}): Promise<Store> {
  let store: Store;
  try {
    store =
      target.kind === 'postgres'
        ? await openPostgres(target.url, options.poolSize ?? 4)
        : await openPglite(target.dataDir, options.lockWaitMs ?? 30_000);
  } catch (error) {
    if (error instanceof AgentError) throw error;
    throw connectionFailure(target, error);
  }
  if (options.migrate !== false) {
    try {
      await ensureMigrated(store.db);
    } catch (error) {
      await store.close().catch(() => {});
      if (error instanceof AgentError) throw error;
      throw connectionFailure(target, error);
    }
  }
  return store;
}
