import { sql, type Kysely } from 'kysely';

/**
 * KTRDR's clock offset as a pass last measured it (its `Date` header against ours), so that `status` can show a
 * skew between the two hosts without asking KTRDR itself.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_control ADD COLUMN ktrdr_clock_offset_ms INTEGER`.execute(db);
  await sql`ALTER TABLE agent_control ADD COLUMN ktrdr_clock_measured_at TIMESTAMPTZ`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_control DROP COLUMN ktrdr_clock_measured_at`.execute(db);
  await sql`ALTER TABLE agent_control DROP COLUMN ktrdr_clock_offset_ms`.execute(db);
}
