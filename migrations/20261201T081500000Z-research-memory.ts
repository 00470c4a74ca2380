import { sql, type Kysely } from 'kysely';

/**
 * Research memory: one experiment per finished session, the hypotheses the experiments test, and the lineage a
 * session carries until its experiment is written (the hypothesis under test, the parent experiment, the model).
 * Existing finished sessions are backfilled after the migration run (db/migrate.ts `afterMigrations`), by the code
 * that knows the experiment row of today: a migration imports only kysely, so it keeps meaning what it meant.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE agent_experiments (
      id SERIAL PRIMARY KEY,
      session_id INT NOT NULL UNIQUE REFERENCES agent_sessions(id) ON DELETE CASCADE,
      outcome VARCHAR(30) NOT NULL,
      designer VARCHAR(20) NOT NULL,
      model VARCHAR(100),
      strategy_name VARCHAR(100),
      strategy JSONB,
      canonical JSONB,
      fingerprint CHAR(64),
      indicator_types TEXT[] NOT NULL DEFAULT '{}',
      indicator_key VARCHAR(300),
      label_source VARCHAR(40),
      label_threshold DOUBLE PRECISION,
      architecture VARCHAR(60),
      symbol VARCHAR(40),
      timeframe VARCHAR(20),
      symbols TEXT[] NOT NULL DEFAULT '{}',
      timeframes TEXT[] NOT NULL DEFAULT '{}',
      training_start VARCHAR(10),
      training_end VARCHAR(10),
      backtest_start VARCHAR(10),
      backtest_end VARCHAR(10),
      training_gate JSONB,
      backtest_gate JSONB,
      gate_failed VARCHAR(20),
      failed_checks TEXT[] NOT NULL DEFAULT '{}',
      failure_reason TEXT,
      training_metrics JSONB,
      backtest_metrics JSONB,
      accuracy DOUBLE PRECISION,
      final_loss DOUBLE PRECISION,
      loss_reduction DOUBLE PRECISION,
      sharpe DOUBLE PRECISION,
      win_rate DOUBLE PRECISION,
      max_drawdown DOUBLE PRECISION,
      total_trades INT,
      total_return_pct DOUBLE PRECISION,
      deflated_sharpe DOUBLE PRECISION,
      dsr_trials INT,
      score DOUBLE PRECISION,
      assessment JSONB,
      verdict VARCHAR(20),
      tokens_input BIGINT NOT NULL DEFAULT 0,
      tokens_output BIGINT NOT NULL DEFAULT 0,
      cost_usd NUMERIC(14, 6) NOT NULL DEFAULT 0,
      hypothesis_id INT,
      exploration BOOLEAN NOT NULL DEFAULT FALSE,
      parent_experiment_id INT REFERENCES agent_experiments(id) ON DELETE SET NULL,
      started_at TIMESTAMPTZ,
      completed_at TIMESTAMPTZ NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`.execute(db);
  await sql`CREATE INDEX idx_experiments_completed ON agent_experiments (completed_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX idx_experiments_score ON agent_experiments (score DESC, id DESC) WHERE score IS NOT NULL`.execute(db);
  await sql`CREATE INDEX idx_experiments_outcome ON agent_experiments (outcome, completed_at DESC)`.execute(db);
  await sql`CREATE INDEX idx_experiments_fingerprint ON agent_experiments (fingerprint, symbol, timeframe) WHERE fingerprint IS NOT NULL`.execute(db);
  await sql`CREATE INDEX idx_experiments_family ON agent_experiments (symbol, timeframe) WHERE sharpe IS NOT NULL`.execute(db);
  await sql`CREATE INDEX idx_experiments_indicators ON agent_experiments USING GIN (indicator_types)`.execute(db);
  await sql`CREATE INDEX idx_experiments_parent ON agent_experiments (parent_experiment_id) WHERE parent_experiment_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX idx_experiments_hypothesis ON agent_experiments (hypothesis_id) WHERE hypothesis_id IS NOT NULL`.execute(db);

  // Running counts per design part and per failure reason, kept in the transaction that writes each experiment, so
  // the memory section reads a few dozen rows instead of aggregating the whole table.
  await sql`
    CREATE TABLE agent_experiment_tallies (
      dimension VARCHAR(20) NOT NULL,
      value VARCHAR(400) NOT NULL,
      tried INT NOT NULL DEFAULT 0,
      passed INT NOT NULL DEFAULT 0,
      best DOUBLE PRECISION,
      PRIMARY KEY (dimension, value)
    )`.execute(db);
  await sql`CREATE INDEX idx_tallies_rank ON agent_experiment_tallies (dimension, tried DESC, value)`.execute(db);

  await sql`
    CREATE TABLE agent_hypotheses (
      id SERIAL PRIMARY KEY,
      text VARCHAR(1000) NOT NULL,
      rationale VARCHAR(2000),
      status VARCHAR(20) NOT NULL DEFAULT 'untested',
      source VARCHAR(20) NOT NULL,
      proposed_by_experiment_id INT REFERENCES agent_experiments(id) ON DELETE SET NULL,
      retired_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT valid_hypothesis_status CHECK (status IN ('untested', 'testing', 'validated', 'refuted', 'inconclusive')),
      CONSTRAINT valid_hypothesis_source CHECK (source IN ('model', 'operator', 'designer'))
    )`.execute(db);
  await sql`CREATE INDEX idx_hypotheses_open ON agent_hypotheses (status, id) WHERE retired_at IS NULL`.execute(db);
  await sql`
    CREATE TABLE agent_hypothesis_events (
      id BIGSERIAL PRIMARY KEY,
      hypothesis_id INT NOT NULL REFERENCES agent_hypotheses(id) ON DELETE CASCADE,
      status VARCHAR(20) NOT NULL,
      evidence VARCHAR(4000),
      experiment_id INT REFERENCES agent_experiments(id) ON DELETE SET NULL,
      via VARCHAR(40) NOT NULL,
      at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT valid_event_status CHECK (status IN ('untested', 'testing', 'validated', 'refuted', 'inconclusive', 'retired'))
    )`.execute(db);
  await sql`CREATE INDEX idx_hypothesis_events ON agent_hypothesis_events (hypothesis_id, id)`.execute(db);
  await sql`ALTER TABLE agent_experiments ADD CONSTRAINT experiments_hypothesis_fk FOREIGN KEY (hypothesis_id) REFERENCES agent_hypotheses(id) ON DELETE SET NULL`.execute(
    db,
  );

  await sql`ALTER TABLE agent_sessions ADD COLUMN design_model VARCHAR(100)`.execute(db);
  await sql`ALTER TABLE agent_sessions ADD COLUMN tests_hypothesis_id INT REFERENCES agent_hypotheses(id) ON DELETE SET NULL`.execute(db);
  await sql`ALTER TABLE agent_sessions ADD COLUMN exploration BOOLEAN NOT NULL DEFAULT FALSE`.execute(db);
  await sql`ALTER TABLE agent_sessions ADD COLUMN parent_experiment_id INT REFERENCES agent_experiments(id) ON DELETE SET NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['parent_experiment_id', 'exploration', 'tests_hypothesis_id', 'design_model']) {
    await sql`ALTER TABLE agent_sessions DROP COLUMN IF EXISTS ${sql.ref(column)}`.execute(db);
  }
  await sql`ALTER TABLE agent_experiments DROP CONSTRAINT IF EXISTS experiments_hypothesis_fk`.execute(db);
  for (const table of ['agent_hypothesis_events', 'agent_hypotheses', 'agent_experiment_tallies', 'agent_experiments']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
