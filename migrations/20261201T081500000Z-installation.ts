import { sql, type Kysely } from 'kysely';

/**
 * One row naming this installation: a random id made when the database is created. Names the agent gives KTRDR
 * (training task ids, baseline strategy names) carry it, so two installations, or a recreated database, never ask
 * KTRDR for an id another run already used (KTRDR answers a repeated task id with the OLD operation).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE agent_installation (
      singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
      installation_id VARCHAR(32) NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )
  `.execute(db);
  // md5 of random() and the clock: available on PostgreSQL and PGlite without extensions; 10 hex chars is plenty.
  await sql`
    INSERT INTO agent_installation (installation_id)
    VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 10))
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE agent_installation`.execute(db);
}
