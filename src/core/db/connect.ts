import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { maskUrlCredentials } from '../kernel/secrets.ts';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from './database-schema.ts';
import { ensureMigrated } from './migrate.ts';
import { tryLock, type LockOwner } from './data-dir-lock.ts';

export type StoreTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | null };

export interface Store {
  db: Kysely<Database>;
  target: StoreTarget;
  close(): Promise<void>;
}

/** Another process holds the embedded database. */
export class DatabaseBusyError extends AgentError {
  constructor(dataDir: string, waitedMs: number, owner: LockOwner | null) {
    const holder = !owner ? '' : owner.host === hostname() ? ` (pid ${owner.pid})` : ` (pid ${owner.pid} on host ${owner.host})`;
    super(
      `The embedded database in ${dataDir} is in use by another ktrdr-agent process${holder} (waited ${Math.round(waitedMs / 1000)} s). ` +
        `Try again when it finishes, or raise AGENT_LOCK_WAIT_SECONDS. A lock is released when its process ends; ${dataDirLockPath(dataDir)} names its holder.`,
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
    return `PostgreSQL ${maskUrlCredentials(new URL(target.url).toString())}`;
  } catch {
    return 'PostgreSQL (unparseable DATABASE_URL)';
  }
}

export interface OpenStoreOptions {
  /** How long to wait for another process to release the embedded database. */
  lockWaitMs?: number;
  migrate?: boolean;
  poolSize?: number;
  /** An in-memory PGlite starts from this dump of a data dir (`PGlite.dumpDataDir`): tests copy one migrated database. */
  loadDataDir?: Blob;
}

async function openPostgres(url: string, poolSize: number): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === DATE_OID ? (value: string) => value : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A client losing its connection must not crash the process with an unhandled 'error' event: pg-pool listens on
  // idle clients only, so each client gets its own listener for while it is checked out. The query that uses the
  // client next reports the failure.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const target: StoreTarget = { kind: 'postgres', url };
  return { db, target, close: () => db.destroy() };
}

/** Where the embedded database's lock lives: beside the data dir, so the data dir itself can be moved into place. */
export function dataDirLockPath(dataDir: string): string {
  return `${dataDir}.lock`;
}

async function lockDataDir(dataDir: string, waitMs: number): Promise<() => void> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const started = Date.now();
  for (;;) {
    const state = tryLock(dataDirLockPath(dataDir));
    if (state.kind === 'acquired') return state.release;
    const waited = Date.now() - started;
    if (waited >= waitMs) throw new DatabaseBusyError(dataDir, waited, state.owner);
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, waitMs - waited)));
  }
}

type PgliteModule = typeof import('@electric-sql/pglite');

/** DATE columns come back as their text, as from pg. Options go in one object: PGlite(undefined, options) drops them. */
function newPglite(module: PgliteModule, dataDir: string | undefined, loadDataDir?: Blob) {
  return new module.PGlite({ ...(dataDir ? { dataDir } : {}), ...(loadDataDir ? { loadDataDir } : {}), parsers: { [DATE_OID]: (value: string) => value } });
}

/**
 * The empty database the build made (scripts/pgdata-template.ts) in dist/: copying it costs no more memory than any
 * other open, where PGlite's initdb peaks near 700 MiB. Run from the sources there is none, and initdb makes one.
 */
function pgdataTemplate(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    if (basename(dir) !== 'dist') continue;
    const template = join(dir, 'pgdata-template');
    return existsSync(join(template, 'PG_VERSION')) ? template : null;
  }
  return null;
}

/**
 * A new database is created in a temporary directory beside its place and then renamed into it, so a data dir is
 * either absent or a whole database: an interrupted first open leaves only a temporary directory, which the next
 * first open removes (it holds the lock, so nobody else is creating one). A copy of the build's empty database is
 * migrated by the open that follows, as a database made with migrations off is; one made by initdb here is migrated
 * before it is renamed (unless asked not to).
 */
async function createDataDir(module: PgliteModule, dataDir: string, migrate: boolean): Promise<void> {
  const parent = dirname(dataDir);
  const prefix = `${basename(dataDir)}.creating-`;
  for (const entry of readdirSync(parent)) if (entry.startsWith(prefix)) rmSync(join(parent, entry), { recursive: true, force: true });
  const temporary = join(parent, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const template = pgdataTemplate();
    if (template) {
      // No PGlite instance here: a second one in the process (this and the open's) would double the peak.
      cpSync(template, temporary, { recursive: true });
    } else {
      await initDataDir(module, temporary, migrate);
    }
    // A directory without PG_VERSION is no database (an older version's interrupted first open): replace it.
    rmSync(dataDir, { recursive: true, force: true });
    renameSync(temporary, dataDir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

async function initDataDir(module: PgliteModule, temporary: string, migrate: boolean): Promise<void> {
  const pglite = newPglite(module, temporary);
  await pglite.waitReady;
  if (migrate) {
    const { PGliteDialect } = await import('kysely-pglite-dialect');
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    try {
      await ensureMigrated(db);
    } finally {
      await db.destroy();
    }
  } else {
    await pglite.close();
  }
}

async function openPglite(dataDir: string | null, lockWaitMs: number, migrate: boolean, loadDataDir?: Blob): Promise<Store> {
  const release = dataDir ? await lockDataDir(dataDir, lockWaitMs) : () => {};
  try {
    const [module, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
    if (dataDir && !existsSync(join(dataDir, 'PG_VERSION'))) await createDataDir(module, dataDir, migrate);
    const pglite = newPglite(module, dataDir ?? undefined, dataDir ? undefined : loadDataDir);
    await pglite.waitReady;
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      target: { kind: 'pglite', dataDir },
      close: async () => {
        try {
          await db.destroy();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
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
        : await openPglite(target.dataDir, options.lockWaitMs ?? 30_000, options.migrate !== false, options.loadDataDir);
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
