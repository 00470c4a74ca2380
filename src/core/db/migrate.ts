import { sql, type Kysely } from 'kysely';
import type { MigrationResult, Migrator } from 'kysely/migration';
import { latestMigration, migrations } from '../../../migrations/index.ts';
import { AgentError } from '../kernel/errors.ts';
import type { Database } from './database-schema.ts';
import { backfillExperiments } from './repositories/experiments.ts';

const migrationTable = 'kysely_migration';

/** Loaded only when migrations are looked at: the start-up path checks one row and goes on. */
async function migrator(db: Kysely<Database>): Promise<Migrator> {
  const { Migrator } = await import('kysely/migration');
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: migrationTable,
    migrationLockTableName: 'kysely_migration_lock',
  });
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export async function migrationStatus(db: Kysely<Database>): Promise<MigrationStatus> {
  const infos = await (await migrator(db)).getMigrations();
  return {
    applied: infos.filter((info) => info.executedAt !== undefined).map((info) => info.name),
    pending: infos.filter((info) => info.executedAt === undefined).map((info) => info.name),
  };
}

/** One cheap query on the start-up path: is the newest migration already applied? */
async function isUpToDate(db: Kysely<Database>): Promise<boolean> {
  try {
    const result = await sql<{ name: string }>`SELECT name FROM ${sql.table(migrationTable)} ORDER BY name DESC LIMIT 1`.execute(db);
    return result.rows[0]?.name === latestMigration;
  } catch (error) {
    // 42P01: the migration table does not exist yet (a new database). Anything else (no connection) is real.
    if ((error as { code?: string }).code === '42P01') return false;
    throw error;
  }
}

/** Applies pending migrations under Kysely's migration lock (an advisory lock on PostgreSQL). */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResult[]> {
  const { error, results } = await (await migrator(db)).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new AgentError(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`, 1, 'migration_failed');
  }
  await afterMigrations(db, results ?? []);
  return results ?? [];
}

/** The migration that created the research memory; sessions that ended before it get their experiments after it. */
const RESEARCH_MEMORY_MIGRATION = '20261201T081500000Z-research-memory';

/**
 * Data steps that need today's code, run after the schema steps that made them necessary. Migrations stay frozen
 * (they import only kysely). The backfill is idempotent (it writes only missing experiments) and runs in the same
 * call as the migration, before any pass can end a session on the new schema.
 */
async function afterMigrations(db: Kysely<Database>, results: readonly MigrationResult[]): Promise<void> {
  const applied = new Set(results.filter((result) => result.status === 'Success').map((result) => result.migrationName));
  if (applied.has(RESEARCH_MEMORY_MIGRATION)) await backfillExperiments(db);
}

export async function ensureMigrated(db: Kysely<Database>): Promise<void> {
  if (await isUpToDate(db)) return;
  await migrateToLatest(db);
}
