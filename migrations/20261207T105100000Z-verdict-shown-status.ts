import { sql, type Kysely } from 'kysely';

/**
 * The status of the hypothesis under test as the assessing model was shown it (written when its first message is
 * built): its verdict is applied only if the hypothesis still has that status, so an operator's change made while
 * the model was thinking is never overwritten (compare-and-set).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_sessions ADD COLUMN hypothesis_status_shown VARCHAR(20)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_sessions DROP COLUMN hypothesis_status_shown`.execute(db);
}
