import { sql, type Kysely } from 'kysely';

/** Which KTRDR fault the loop is waiting out (down, or refusing our credentials): `status` advises per class. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_control ADD COLUMN ktrdr_fault_class VARCHAR(32)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_control DROP COLUMN ktrdr_fault_class`.execute(db);
}
