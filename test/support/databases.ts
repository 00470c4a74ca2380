import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store, type StoreTarget } from '../../src/core/db/connect.ts';

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh PostgreSQL database for one test file, dropped afterwards. */
export async function createTestDatabase(prefix = 'ktrdr_agent_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function tempDir(prefix = 'ktrdr-agent-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Both stores every storage test runs on: real PostgreSQL and in-memory PGlite. */
export const storeKinds = ['postgres', 'pglite'] as const;
export type StoreKind = (typeof storeKinds)[number];

export async function openTestStore(kind: StoreKind): Promise<{ store: Store; target: StoreTarget; cleanup(): Promise<void> }> {
  if (kind === 'pglite') {
    const target: StoreTarget = { kind: 'pglite', dataDir: null };
    const store = await openStore(target);
    return { store, target, cleanup: () => store.close() };
  }
  const database = await createTestDatabase();
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
