import { sql, type Kysely } from 'kysely';

/**
 * (Also `agent_control.anthropic_quota`, below.) One row per model call sent through the Message Batches API. The row is written (with its custom_id and the
 * reservation that holds the batch's worst case) before the batch is created, so a process that dies between the
 * create call and recording the batch id leaves a row a later pass can look the batch up from. The reservation
 * stays open until the batch's result settles it; the stale-reservation sweep leaves it alone while the row is open.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE agent_message_batches (
      id BIGSERIAL PRIMARY KEY,
      session_id INT NOT NULL REFERENCES agent_sessions(id) ON DELETE CASCADE,
      purpose VARCHAR(16) NOT NULL,
      custom_id VARCHAR(64) NOT NULL UNIQUE,
      batch_id VARCHAR(128) UNIQUE,
      status VARCHAR(16) NOT NULL DEFAULT 'submitting',
      model VARCHAR(100) NOT NULL,
      first_message TEXT NOT NULL,
      reservation_id BIGINT NOT NULL REFERENCES agent_budget_reservations(id),
      reserved_usd NUMERIC(14, 6) NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      submitted_at TIMESTAMPTZ,
      expires_at TIMESTAMPTZ,
      ended_at TIMESTAMPTZ,
      result_type VARCHAR(16),
      settled_usd NUMERIC(14, 6),
      detail TEXT,
      CONSTRAINT valid_batch_status CHECK (status IN ('submitting', 'in_progress', 'canceling', 'ended')),
      CONSTRAINT valid_batch_purpose CHECK (purpose IN ('design', 'backtest', 'assess'))
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX idx_message_batches_open ON agent_message_batches (session_id) WHERE status <> 'ended'`.execute(db);
  // What the last answer's anthropic-ratelimit-* headers said was left: a pass does not invoke when it cannot cover one call.
  await sql`ALTER TABLE agent_control ADD COLUMN anthropic_quota JSONB`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_control DROP COLUMN anthropic_quota`.execute(db);
  await sql`DROP TABLE agent_message_batches`.execute(db);
}
