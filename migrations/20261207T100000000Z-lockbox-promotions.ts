import { sql, type Kysely } from 'kysely';

/**
 * The lockbox (the most recent data of a symbol and timeframe, held back from every designer), the promotions of
 * experiments that passed both gates, and the validation backtests (robustness windows and the one lockbox
 * consultation) each promotion runs. A lockbox is never deleted: a reset burns it (burned_at) and the next need fixes
 * a new one, so the consultations of the old one stay counted.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE agent_lockboxes (
      id SERIAL PRIMARY KEY,
      symbol VARCHAR(40) NOT NULL,
      timeframe VARCHAR(20) NOT NULL,
      start_date VARCHAR(10) NOT NULL,
      months INTEGER NOT NULL,
      data_start VARCHAR(10),
      data_end VARCHAR(10) NOT NULL,
      fixed_at TIMESTAMPTZ NOT NULL,
      burned_at TIMESTAMPTZ,
      burned_reason TEXT
    )`.execute(db);
  // One boundary in force per symbol and timeframe; burned ones are history.
  await sql`CREATE UNIQUE INDEX idx_lockboxes_in_force ON agent_lockboxes (symbol, timeframe) WHERE burned_at IS NULL`.execute(db);
  await sql`
    CREATE TABLE agent_promotions (
      id SERIAL PRIMARY KEY,
      experiment_id INTEGER NOT NULL UNIQUE REFERENCES agent_experiments(id) ON DELETE CASCADE,
      status VARCHAR(16) NOT NULL,
      reason TEXT,
      dsr_at_decision DOUBLE PRECISION,
      trials_at_decision INTEGER,
      expected_max_sharpe DOUBLE PRECISION,
      search_sharpe DOUBLE PRECISION,
      symbol VARCHAR(40),
      timeframe VARCHAR(20),
      strategy_name VARCHAR(200),
      model_path TEXT,
      lockbox_id INTEGER REFERENCES agent_lockboxes(id),
      created_at TIMESTAMPTZ NOT NULL,
      decided_at TIMESTAMPTZ
    )`.execute(db);
  await sql`CREATE INDEX idx_promotions_status ON agent_promotions (status)`.execute(db);
  await sql`
    CREATE TABLE agent_validation_backtests (
      id SERIAL PRIMARY KEY,
      promotion_id INTEGER NOT NULL REFERENCES agent_promotions(id) ON DELETE CASCADE,
      kind VARCHAR(16) NOT NULL,
      ordinal INTEGER NOT NULL,
      symbol VARCHAR(40) NOT NULL,
      timeframe VARCHAR(20) NOT NULL,
      start_date VARCHAR(10) NOT NULL,
      end_date VARCHAR(10) NOT NULL,
      lockbox_id INTEGER REFERENCES agent_lockboxes(id),
      status VARCHAR(16) NOT NULL,
      operation_id VARCHAR(200),
      started_at TIMESTAMPTZ,
      progress JSONB,
      progress_changed_at TIMESTAMPTZ,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      results JSONB,
      gate JSONB,
      sharpe DOUBLE PRECISION,
      psr DOUBLE PRECISION,
      completed_at TIMESTAMPTZ,
      UNIQUE (promotion_id, kind, ordinal)
    )`.execute(db);
  await sql`CREATE INDEX idx_validation_backtests_status ON agent_validation_backtests (status)`.execute(db);
  await sql`CREATE INDEX idx_validation_backtests_lockbox ON agent_validation_backtests (lockbox_id) WHERE lockbox_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE agent_validation_backtests`.execute(db);
  await sql`DROP TABLE agent_promotions`.execute(db);
  await sql`DROP TABLE agent_lockboxes`.execute(db);
}
