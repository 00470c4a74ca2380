import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE agent_sessions (
      id SERIAL PRIMARY KEY,
      phase VARCHAR(20) NOT NULL DEFAULT 'idle',
      designer VARCHAR(20) NOT NULL DEFAULT 'claude',
      strategy_name VARCHAR(100),
      strategy_config JSONB,
      strategy_file_path VARCHAR(1024),
      training_operation_id VARCHAR(100),
      backtest_operation_id VARCHAR(100),
      training_params JSONB,
      backtest_params JSONB,
      training_results JSONB,
      backtest_results JSONB,
      training_gate JSONB,
      backtest_gate JSONB,
      assessment JSONB,
      outcome VARCHAR(30),
      failure_reason TEXT,
      operation_progress JSONB,
      progress_changed_at TIMESTAMPTZ,
      resume_attempts INT NOT NULL DEFAULT 0,
      invocation_attempts INT NOT NULL DEFAULT 0,
      lease_owner VARCHAR(200),
      lease_expires_at TIMESTAMPTZ,
      tokens_input BIGINT NOT NULL DEFAULT 0,
      tokens_output BIGINT NOT NULL DEFAULT 0,
      tokens_cache_read BIGINT NOT NULL DEFAULT 0,
      tokens_cache_write BIGINT NOT NULL DEFAULT 0,
      cost_usd NUMERIC(14, 6) NOT NULL DEFAULT 0,
      phase_started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      phase_history JSONB NOT NULL DEFAULT '[]',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      completed_at TIMESTAMPTZ,
      CONSTRAINT valid_phase CHECK (phase IN ('idle', 'designing', 'training', 'backtesting', 'assessing')),
      CONSTRAINT valid_outcome CHECK (outcome IS NULL OR outcome IN ('success', 'failed_design', 'failed_training',
        'failed_training_gate', 'failed_backtest', 'failed_backtest_gate', 'failed_assessment', 'cancelled')),
      CONSTRAINT finished_is_idle CHECK ((outcome IS NULL) = (phase <> 'idle'))
    )`.execute(db);
  await sql`CREATE INDEX idx_sessions_active ON agent_sessions (id) WHERE outcome IS NULL`.execute(db);
  await sql`CREATE INDEX idx_sessions_outcome ON agent_sessions (outcome, completed_at DESC)`.execute(db);
  await sql`CREATE INDEX idx_sessions_completed ON agent_sessions (completed_at DESC) WHERE completed_at IS NOT NULL`.execute(db);
  await sql`CREATE INDEX idx_sessions_created ON agent_sessions (created_at DESC)`.execute(db);
  await sql`CREATE INDEX idx_sessions_phase ON agent_sessions (phase)`.execute(db);

  await sql`
    CREATE TABLE agent_actions (
      id BIGSERIAL PRIMARY KEY,
      session_id INT NOT NULL REFERENCES agent_sessions(id) ON DELETE CASCADE,
      action_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      phase VARCHAR(20) NOT NULL,
      tool_name VARCHAR(100) NOT NULL,
      tool_args JSONB,
      tool_result JSONB,
      success BOOLEAN NOT NULL DEFAULT TRUE,
      error_message TEXT,
      duration_ms INT,
      turn INT,
      tokens_input INT,
      tokens_output INT
    )`.execute(db);
  await sql`CREATE INDEX idx_actions_session ON agent_actions (session_id, action_at)`.execute(db);
  await sql`CREATE INDEX idx_actions_tool ON agent_actions (tool_name)`.execute(db);

  await sql`
    CREATE TABLE agent_triggers (
      id BIGSERIAL PRIMARY KEY,
      triggered_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      tick_id VARCHAR(64),
      trigger_reason VARCHAR(50) NOT NULL,
      session_id INT REFERENCES agent_sessions(id) ON DELETE SET NULL,
      context JSONB,
      agent_invoked BOOLEAN NOT NULL DEFAULT FALSE,
      skip_reason VARCHAR(100),
      budget_used_today_usd NUMERIC(14, 6),
      budget_remaining_usd NUMERIC(14, 6)
    )`.execute(db);
  await sql`CREATE INDEX idx_triggers_date ON agent_triggers (triggered_at DESC)`.execute(db);
  await sql`CREATE INDEX idx_triggers_session ON agent_triggers (session_id)`.execute(db);

  await sql`
    CREATE TABLE agent_metrics (
      id SERIAL PRIMARY KEY,
      session_id INT NOT NULL UNIQUE REFERENCES agent_sessions(id) ON DELETE CASCADE,
      cycle_started_at TIMESTAMPTZ NOT NULL,
      cycle_completed_at TIMESTAMPTZ NOT NULL,
      cycle_duration_seconds INT NOT NULL,
      designing_seconds INT,
      training_seconds INT,
      backtesting_seconds INT,
      assessing_seconds INT,
      training_accuracy NUMERIC(7, 4),
      training_final_loss NUMERIC(14, 6),
      training_loss_reduction NUMERIC(10, 4),
      training_epochs_completed INT,
      training_early_stopped BOOLEAN,
      backtest_sharpe NUMERIC(14, 4),
      backtest_win_rate NUMERIC(7, 4),
      backtest_max_drawdown NUMERIC(7, 4),
      backtest_total_trades INT,
      backtest_profit_factor NUMERIC(14, 4),
      total_tokens_input BIGINT NOT NULL DEFAULT 0,
      total_tokens_output BIGINT NOT NULL DEFAULT 0,
      total_tokens_cache_read BIGINT NOT NULL DEFAULT 0,
      total_tokens_cache_write BIGINT NOT NULL DEFAULT 0,
      estimated_cost_usd NUMERIC(14, 6) NOT NULL DEFAULT 0,
      outcome VARCHAR(30) NOT NULL,
      gate_failed VARCHAR(30),
      gate_reason TEXT
    )`.execute(db);
  await sql`CREATE INDEX idx_metrics_outcome ON agent_metrics (outcome)`.execute(db);
  await sql`CREATE INDEX idx_metrics_date ON agent_metrics (cycle_completed_at DESC)`.execute(db);

  await sql`
    CREATE TABLE agent_budget (
      date DATE PRIMARY KEY,
      budget_limit_usd NUMERIC(14, 6) NOT NULL,
      budget_used_usd NUMERIC(14, 6) NOT NULL DEFAULT 0,
      budget_reserved_usd NUMERIC(14, 6) NOT NULL DEFAULT 0,
      invocations_count INT NOT NULL DEFAULT 0,
      cycles_started INT NOT NULL DEFAULT 0,
      cycles_completed INT NOT NULL DEFAULT 0,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT budget_non_negative CHECK (budget_used_usd >= 0 AND budget_reserved_usd >= 0)
    )`.execute(db);

  await sql`
    CREATE TABLE agent_budget_reservations (
      id BIGSERIAL PRIMARY KEY,
      date DATE NOT NULL REFERENCES agent_budget(date),
      session_id INT REFERENCES agent_sessions(id) ON DELETE SET NULL,
      amount_usd NUMERIC(14, 6) NOT NULL,
      settled_usd NUMERIC(14, 6),
      status VARCHAR(10) NOT NULL DEFAULT 'reserved',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      settled_at TIMESTAMPTZ,
      CONSTRAINT valid_reservation_status CHECK (status IN ('reserved', 'settled'))
    )`.execute(db);
  await sql`CREATE INDEX idx_reservations_open ON agent_budget_reservations (created_at) WHERE status = 'reserved'`.execute(db);

  await sql`
    CREATE TABLE agent_control (
      id INT PRIMARY KEY DEFAULT 1,
      paused BOOLEAN NOT NULL DEFAULT FALSE,
      paused_at TIMESTAMPTZ,
      budget_limit_usd NUMERIC(14, 6),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT single_row CHECK (id = 1)
    )`.execute(db);
  await sql`INSERT INTO agent_control (id) VALUES (1)`.execute(db);

  await sql`
    CREATE TABLE agent_ticks (
      id VARCHAR(64) PRIMARY KEY,
      started_at TIMESTAMPTZ NOT NULL,
      finished_at TIMESTAMPTZ,
      host VARCHAR(200) NOT NULL,
      status VARCHAR(10) NOT NULL,
      summary JSONB,
      error_message TEXT
    )`.execute(db);
  await sql`CREATE INDEX idx_ticks_started ON agent_ticks (started_at DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'agent_ticks',
    'agent_control',
    'agent_budget_reservations',
    'agent_budget',
    'agent_metrics',
    'agent_triggers',
    'agent_actions',
    'agent_sessions',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
