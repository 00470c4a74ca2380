import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { setTimeout as delay } from 'node:timers/promises';
import { openStore, type Store, type StoreTarget } from '../../src/core/db/connect.ts';
import type { Database } from '../../src/core/db/database-schema.ts';

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What a migrated database is made from: every migration, the code that applies them and PGlite's version. A
 * cached migrated database (below) is named by it, so a changed migration makes a new one instead of reusing a stale
 * one.
 */
const schemaFingerprint: string = (() => {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(join(root, 'migrations'))
      .sort()
      .map((file) => join('migrations', file)),
    'src/core/db/migrate.ts',
    'node_modules/@electric-sql/pglite/package.json',
  ];
  for (const file of files) hash.update(file).update(readFileSync(join(root, file)));
  return hash.digest('hex').slice(0, 16);
})();

async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(statement: string): Promise<pg.QueryResult<T>> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    return await admin.query<T>(statement);
  } finally {
    await admin.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A copy of the migrated database is a new installation: what the migrations made at random or from the clock is made
 * again, as migrating it would have (the installation id names everything the agent starts at KTRDR).
 */
const NEW_INSTALLATION = [
  'UPDATE agent_installation SET installation_id = substr(md5(random()::text || clock_timestamp()::text), 1, 10), created_at = now()',
  'UPDATE agent_control SET updated_at = now()',
];

let postgresTemplate: Promise<string> | null = null;

/**
 * A migrated PostgreSQL database that test databases are copied from (`CREATE DATABASE ... TEMPLATE`), so a test file
 * does not migrate its own. It is made once for a fingerprint and kept on the server (about 8 MB; any
 * `ktrdr_agent_template_*` may be dropped while no tests run). It is built under another name and renamed into
 * place, so concurrent test files never copy a half-migrated one, and nobody stays connected to it (a copy needs that).
 */
function migratedPostgresTemplate(): Promise<string> {
  postgresTemplate ??= (async () => {
    const name = `ktrdr_agent_template_${schemaFingerprint}`;
    const exists = await adminQuery(`SELECT 1 FROM pg_database WHERE datname = '${name}'`);
    if (exists.rowCount) return name;
    const building = `${name}_build_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${building}`);
    const store = await openStore({ kind: 'postgres', url: databaseUrl(building) });
    await store.close();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await adminQuery(`ALTER DATABASE ${building} RENAME TO ${name}`);
        return name;
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 55006: the migration's closed connections have not quite left the server yet.
        if (code === '55006' && attempt < 50) {
          await delay(20);
          continue;
        }
        await adminQuery(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
        // 42P04: another test file made it first; theirs is as good as ours.
        if (code === '42P04') return name;
        throw error;
      }
    }
  })();
  postgresTemplate.catch(() => (postgresTemplate = null));
  return postgresTemplate;
}

/**
 * A fresh PostgreSQL database for one test file, dropped afterwards: empty, or with `migrated` a copy of the migrated
 * template (for tests that open a store on it anyway; a test of migrating itself wants the empty one).
 */
export async function createTestDatabase(prefix = 'ktrdr_agent_test', options: { migrated?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const template = options.migrated ? ` TEMPLATE ${await migratedPostgresTemplate()}` : '';
  await adminQuery(`CREATE DATABASE ${name}${template}`);
  // A commit need not wait for its WAL to reach the disk: a test database outlives no server crash, and a pass makes
  // dozens of commits.
  await adminQuery(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  if (options.migrated) {
    const client = new pg.Client({ connectionString: databaseUrl(name) });
    await client.connect();
    try {
      for (const statement of NEW_INSTALLATION) await client.query(statement);
    } finally {
      await client.end();
    }
  }
  return {
    url: databaseUrl(name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

let pgliteDump: Promise<Blob> | null = null;

/**
 * A migrated in-memory PGlite database as a tar dump (`dumpDataDir`), kept in the temporary directory under the
 * fingerprint: loading it costs a quarter of PGlite's initdb and skips the migrations, for every file after the first.
 */
function migratedPgliteDump(): Promise<Blob> {
  pgliteDump ??= (async () => {
    const file = join(tmpdir(), `ktrdr-agent-test-pglite-${schemaFingerprint}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const [{ PGlite }, { PGliteDialect }, { Kysely }, { ensureMigrated }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('kysely-pglite-dialect'),
      import('kysely'),
      import('../../src/core/db/migrate.ts'),
    ]);
    const pglite = new PGlite();
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    try {
      await ensureMigrated(db);
      const dump = await pglite.dumpDataDir('none');
      // Written beside its place and renamed into it: a concurrent reader sees the whole file or none.
      const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, file);
      return dump;
    } finally {
      await db.destroy();
    }
  })();
  pgliteDump.catch(() => (pgliteDump = null));
  return pgliteDump;
}

export function tempDir(prefix = 'ktrdr-agent-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Both stores every storage test runs on: real PostgreSQL and in-memory PGlite. */
export const storeKinds = ['postgres', 'pglite'] as const;
export type StoreKind = (typeof storeKinds)[number];

/** A migrated store of either kind, each test's own: a copy of the migrated database, not a migration run. */
export async function openTestStore(kind: StoreKind): Promise<{ store: Store; target: StoreTarget; cleanup(): Promise<void> }> {
  if (kind === 'pglite') {
    const target: StoreTarget = { kind: 'pglite', dataDir: null };
    const store = await openStore(target, { loadDataDir: await migratedPgliteDump() });
    for (const statement of NEW_INSTALLATION) await sql.raw(statement).execute(store.db);
    return { store, target, cleanup: () => store.close() };
  }
  const database = await createTestDatabase('ktrdr_agent_test', { migrated: true });
  const target: StoreTarget = { kind: 'postgres', url: database.url };
  const store = await openStore(target);
  return {
    store,
    target,
    cleanup: async () => {
      await store.close();
      await database.drop();
    },
  };
}
