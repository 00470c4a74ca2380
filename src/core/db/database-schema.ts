import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** pg returns NUMERIC and INT8 as strings, PGlite returns INT8 as numbers: repositories normalise both. */
type Numeric = ColumnType<string | number, number | string, number | string>;
type NullableNumeric = ColumnType<string | number | null, number | string | null | undefined, number | string | null>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
type NumericDefault = ColumnType<string | number, number | string | undefined, number | string>;
type JsonDefault<T> = ColumnType<T, string | undefined, string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T = unknown> = ColumnType<T, string | undefined, string>;
type NullableJson<T = unknown> = ColumnType<T | null, string | null | undefined, string | null>;

export const sessionPhases = ['idle', 'designing', 'training', 'backtesting', 'assessing'] as const;
export type SessionPhase = (typeof sessionPhases)[number];

export const sessionOutcomes = [
  'success',
  'failed_design',
  'failed_training',
  'failed_training_gate',
  'failed_backtest',
  'failed_backtest_gate',
  'failed_assessment',
  'cancelled',
] as const;
export type SessionOutcome = (typeof sessionOutcomes)[number];

export interface AgentSessionsTable {
  id: Generated<number>;
  phase: SessionPhase;
  designer: string;
  strategy_name: string | null;
  strategy_config: NullableJson;
  strategy_file_path: string | null;
  training_operation_id: string | null;
  backtest_operation_id: string | null;
  training_params: NullableJson;
  backtest_params: NullableJson;
  training_results: NullableJson;
  backtest_results: NullableJson;
  training_gate: NullableJson;
  backtest_gate: NullableJson;
  assessment: NullableJson;
  outcome: SessionOutcome | null;
  failure_reason: string | null;
  operation_progress: NullableJson;
  progress_changed_at: NullableTimestamp;
  resume_attempts: Generated<number>;
  invocation_attempts: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: NullableTimestamp;
  tokens_input: NumericDefault;
  tokens_output: NumericDefault;
  tokens_cache_read: NumericDefault;
  tokens_cache_write: NumericDefault;
  cost_usd: NumericDefault;
  phase_started_at: Timestamp;
  phase_history: JsonDefault<PhaseChange[]>;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
  completed_at: NullableTimestamp;
}

export interface PhaseChange {
  phase: SessionPhase;
  at: string;
}

export interface AgentActionsTable {
  id: NumericDefault;
  session_id: number;
  action_at: TimestampDefault;
  phase: string;
  tool_name: string;
  tool_args: NullableJson;
  tool_result: NullableJson;
  success: boolean;
  error_message: string | null;
  duration_ms: number | null;
  turn: number | null;
  tokens_input: number | null;
  tokens_output: number | null;
}

export interface AgentTriggersTable {
  id: NumericDefault;
  triggered_at: TimestampDefault;
  tick_id: string | null;
  trigger_reason: string;
  session_id: number | null;
  context: NullableJson;
  agent_invoked: boolean;
  skip_reason: string | null;
  budget_used_today_usd: NullableNumeric;
  budget_remaining_usd: NullableNumeric;
}

export interface AgentMetricsTable {
  id: Generated<number>;
  session_id: number;
  cycle_started_at: Timestamp;
  cycle_completed_at: Timestamp;
  cycle_duration_seconds: number;
  designing_seconds: number | null;
  training_seconds: number | null;
  backtesting_seconds: number | null;
  assessing_seconds: number | null;
  training_accuracy: NullableNumeric;
  training_final_loss: NullableNumeric;
  training_loss_reduction: NullableNumeric;
  training_epochs_completed: number | null;
  training_early_stopped: boolean | null;
  backtest_sharpe: NullableNumeric;
  backtest_win_rate: NullableNumeric;
  backtest_max_drawdown: NullableNumeric;
  backtest_total_trades: number | null;
  backtest_profit_factor: NullableNumeric;
  total_tokens_input: Numeric;
  total_tokens_output: Numeric;
  total_tokens_cache_read: Numeric;
  total_tokens_cache_write: Numeric;
  estimated_cost_usd: Numeric;
  outcome: SessionOutcome;
  gate_failed: string | null;
  gate_reason: string | null;
}

export interface AgentBudgetTable {
  date: string;
  budget_limit_usd: Numeric;
  budget_used_usd: NumericDefault;
  budget_reserved_usd: NumericDefault;
  invocations_count: Generated<number>;
  cycles_started: Generated<number>;
  cycles_completed: Generated<number>;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
}

export interface AgentBudgetReservationsTable {
  id: NumericDefault;
  date: string;
  session_id: number | null;
  amount_usd: Numeric;
  settled_usd: NullableNumeric;
  status: 'reserved' | 'settled';
  created_at: TimestampDefault;
  settled_at: NullableTimestamp;
}

export interface AgentControlTable {
  id: number;
  paused: boolean;
  paused_at: NullableTimestamp;
  budget_limit_usd: NullableNumeric;
  updated_at: TimestampDefault;
  fault_class: string | null;
  fault_cause: string | null;
  fault_since: NullableTimestamp;
  fault_last_at: NullableTimestamp;
  fault_streak: Generated<number>;
  fault_key_fingerprint: string | null;
  ktrdr_unreachable_since: NullableTimestamp;
  ktrdr_fault_cause: string | null;
}

export interface AgentTicksTable {
  id: string;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  host: string;
  status: 'running' | 'ok' | 'error' | 'paused' | 'skipped' | 'degraded';
  summary: NullableJson;
  error_message: string | null;
}

export interface Database {
  agent_sessions: AgentSessionsTable;
  agent_actions: AgentActionsTable;
  agent_triggers: AgentTriggersTable;
  agent_metrics: AgentMetricsTable;
  agent_budget: AgentBudgetTable;
  agent_budget_reservations: AgentBudgetReservationsTable;
  agent_control: AgentControlTable;
  agent_ticks: AgentTicksTable;
}

export type { JSONColumnType };
