import { sql, type Kysely } from 'kysely';

/**
 * The infrastructure fault the agent is holding back for: its class and cause, when the streak began and last
 * struck (for the retry backoff and the `status` banner), and for an authentication fault the fingerprint of the key
 * that was refused (a hash prefix, never the key), so a changed key lifts the stop. KTRDR being unreachable is kept
 * apart (it holds nothing back, every pass checks KTRDR first): since when, and why, for the `status` banner.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE agent_control
      ADD COLUMN fault_class VARCHAR(40),
      ADD COLUMN fault_cause TEXT,
      ADD COLUMN fault_since TIMESTAMPTZ,
      ADD COLUMN fault_last_at TIMESTAMPTZ,
      ADD COLUMN fault_streak INT NOT NULL DEFAULT 0,
      ADD COLUMN fault_key_fingerprint VARCHAR(64),
      ADD COLUMN ktrdr_unreachable_since TIMESTAMPTZ,
      ADD COLUMN ktrdr_fault_cause TEXT`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE agent_control
      DROP COLUMN fault_class,
      DROP COLUMN fault_cause,
      DROP COLUMN fault_since,
      DROP COLUMN fault_last_at,
      DROP COLUMN fault_streak,
      DROP COLUMN fault_key_fingerprint,
      DROP COLUMN ktrdr_unreachable_since,
      DROP COLUMN ktrdr_fault_cause`.execute(db);
}
