import { sql, type Kysely } from 'kysely';

/**
 * A spend record says whether its amount is confirmed by the API's usage or is the reservation kept for an attempt
 * of unknown outcome (cut off after it was sent): `budget` and `session` show the estimated part apart. The
 * request id ties a spend record and a tool call to the API's own logs; thinking tokens are part of the output.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_budget_reservations ADD COLUMN estimated BOOLEAN NOT NULL DEFAULT FALSE`.execute(db);
  await sql`ALTER TABLE agent_budget_reservations ADD COLUMN request_id VARCHAR(128)`.execute(db);
  await sql`ALTER TABLE agent_actions ADD COLUMN request_id VARCHAR(128)`.execute(db);
  await sql`ALTER TABLE agent_actions ADD COLUMN tokens_thinking INT`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_actions DROP COLUMN tokens_thinking`.execute(db);
  await sql`ALTER TABLE agent_actions DROP COLUMN request_id`.execute(db);
  await sql`ALTER TABLE agent_budget_reservations DROP COLUMN request_id`.execute(db);
  await sql`ALTER TABLE agent_budget_reservations DROP COLUMN estimated`.execute(db);
}
