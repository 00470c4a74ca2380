import { sql, type Kysely } from 'kysely';

/**
 * The search's directive for each cycle (agent allocation policy): explore or exploit, the region, the experiment to
 * refine, the posterior it was read from, and a designer's stated reason for declining it. An experiment is the
 * exploit target of at most one active session: two ticks racing for new cycles cannot both refine it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_sessions ADD COLUMN search_mode VARCHAR(16)`.execute(db);
  await sql`ALTER TABLE agent_sessions ADD COLUMN search_target_experiment_id INTEGER`.execute(db);
  await sql`ALTER TABLE agent_sessions ADD COLUMN search_directive JSONB`.execute(db);
  await sql`ALTER TABLE agent_sessions ADD COLUMN search_declined TEXT`.execute(db);
  await sql`
    CREATE UNIQUE INDEX idx_sessions_search_claim ON agent_sessions (search_target_experiment_id)
     WHERE outcome IS NULL AND search_target_experiment_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_sessions_search_claim`.execute(db);
  await sql`ALTER TABLE agent_sessions DROP COLUMN search_declined`.execute(db);
  await sql`ALTER TABLE agent_sessions DROP COLUMN search_directive`.execute(db);
  await sql`ALTER TABLE agent_sessions DROP COLUMN search_target_experiment_id`.execute(db);
  await sql`ALTER TABLE agent_sessions DROP COLUMN search_mode`.execute(db);
}
