import { sql, type Kysely } from 'kysely';

/**
 * Where a call ran and at which service tier, from its usage, kept with the spend it settled: `inference_geo` "us"
 * costs 1.1x and a tier other than standard has no known price, so both explain the amount beside them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_budget_reservations ADD COLUMN inference_geo VARCHAR(32)`.execute(db);
  await sql`ALTER TABLE agent_budget_reservations ADD COLUMN service_tier VARCHAR(32)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_budget_reservations DROP COLUMN service_tier`.execute(db);
  await sql`ALTER TABLE agent_budget_reservations DROP COLUMN inference_geo`.execute(db);
}
