import { sql, type Kysely } from 'kysely';

/**
 * A design (fingerprint) on a symbol, timeframe and training window is claimed by the session that saves it, in the
 * transaction that saves it, so a second session cannot save or train it while the first is in flight. A claim
 * holds while its session has no outcome; no release is written. One claim per session (a re-save replaces it).
 * Sessions already in flight at upgrade hold none: the check from finished experiments still covers them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE agent_design_claims (
      session_id INT PRIMARY KEY REFERENCES agent_sessions(id) ON DELETE CASCADE,
      fingerprint CHAR(64) NOT NULL,
      symbol VARCHAR(40),
      timeframe VARCHAR(20),
      training_start VARCHAR(10),
      training_end VARCHAR(10),
      claimed_at TIMESTAMPTZ NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX idx_design_claims_design ON agent_design_claims (fingerprint, symbol, timeframe)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE agent_design_claims`.execute(db);
}
