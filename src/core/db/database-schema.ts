import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { HypothesisStatus, SessionOutcome, SessionPhase, ToolErrorKind } from '../session/model.ts';
import type { DesignFailureKind } from '../research/design-failure.ts';

/** pg returns NUMERIC and INT8 as strings, PGlite returns INT8 as numbers: repositories normalise both. */
type Numeric = ColumnType<string | number, number | string, number | string>;
type NullableNumeric = ColumnType<string | number | null, number | string | null | undefined, number | string | null>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
type NumericDefault = ColumnType<string | number, number | string | undefined, number | string>;
type JsonDefault<T> = ColumnType<T, string | undefined, string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type NullableJson<T = unknown> = ColumnType<T | null, string | null | undefined, string | null>;

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
  /** Research lineage, set by save_strategy_config and copied into the session's experiment when it ends. */
  design_model: ColumnType<string | null, string | null | undefined, string | null>;
  tests_hypothesis_id: ColumnType<number | null, number | null | undefined, number | null>;
  exploration: ColumnType<boolean, boolean | undefined, boolean>;
  parent_experiment_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** The status of the hypothesis under test as the assessing model was shown it (migration 20261207T105100000Z). */
  hypothesis_status_shown: ColumnType<HypothesisStatus | null, HypothesisStatus | null | undefined, HypothesisStatus | null>;
  /** The allocation policy's directive for the cycle (migrations/20261207T110000000Z-search-directive.ts). */
  search_mode: ColumnType<string | null, string | null | undefined, string | null>;
  search_target_experiment_id: ColumnType<number | null, number | null | undefined, number | null>;
  search_directive: NullableJson;
  search_declined: ColumnType<string | null, string | null | undefined, string | null>;
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
  /** The API request id of the response that asked for this call. */
  request_id: string | null;
  tokens_thinking: number | null;
  /** A failed call's kind (migration 20261206T123000000Z), the label of `agent_tool_errors_total`. */
  error_kind: ColumnType<ToolErrorKind | null, ToolErrorKind | null | undefined, ToolErrorKind | null>;
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
  /** True when the settled amount is a kept reservation, not a cost confirmed by the API's usage. */
  estimated: Generated<boolean>;
  request_id: string | null;
  /** `usage.inference_geo` and `usage.service_tier` of the answered call (migration 20261206T120000000Z). */
  inference_geo: ColumnType<string | null, string | null | undefined, string | null>;
  service_tier: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A model call sent as a Message Batch (migration 20261201T093000000Z-message-batches). */
export interface AgentMessageBatchesTable {
  id: NumericDefault;
  session_id: number;
  purpose: 'design' | 'backtest' | 'assess';
  custom_id: string;
  batch_id: string | null;
  status: 'submitting' | 'in_progress' | 'canceling' | 'ended';
  model: string;
  first_message: string;
  reservation_id: string;
  reserved_usd: Numeric;
  created_at: TimestampDefault;
  submitted_at: NullableTimestamp;
  expires_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  result_type: 'succeeded' | 'errored' | 'canceled' | 'expired' | 'lost' | null;
  settled_usd: NullableNumeric;
  detail: string | null;
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
  /** The class of that KTRDR fault (migration 20261206T122000000Z): `ktrdr_unreachable` or `ktrdr_auth`. */
  ktrdr_fault_class: ColumnType<string | null, string | null | undefined, string | null>;
  /** The last `anthropic-ratelimit-*` headers seen (migration 20261201T093000000Z-message-batches). */
  anthropic_quota: NullableJson;
  /** KTRDR's clock offset (ms, ahead of ours when positive) as a pass last measured it (migration 20261207T120000000Z). */
  ktrdr_clock_offset_ms: ColumnType<number | null, number | null | undefined, number | null>;
  ktrdr_clock_measured_at: NullableTimestamp;
}

/** The statuses a tick is written with (db/repositories/ticks.ts): `running` until it finishes, then one of the others. */
export const tickStatuses = ['running', 'ok', 'error', 'paused', 'degraded'] as const;
export type TickStatus = (typeof tickStatuses)[number];

export interface AgentTicksTable {
  id: string;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  host: string;
  status: TickStatus;
  summary: NullableJson;
  error_message: string | null;
}

type NullableDouble = ColumnType<number | null, number | null | undefined, number | null>;
type TextArray = ColumnType<string[], string[] | undefined, string[]>;

export interface AgentExperimentsTable {
  id: Generated<number>;
  session_id: number;
  outcome: SessionOutcome;
  designer: string;
  model: string | null;
  strategy_name: string | null;
  strategy: NullableJson;
  canonical: NullableJson;
  fingerprint: string | null;
  indicator_types: TextArray;
  indicator_key: string | null;
  label_source: string | null;
  label_threshold: NullableDouble;
  architecture: string | null;
  symbol: string | null;
  timeframe: string | null;
  symbols: TextArray;
  timeframes: TextArray;
  training_start: string | null;
  training_end: string | null;
  backtest_start: string | null;
  backtest_end: string | null;
  training_gate: NullableJson;
  backtest_gate: NullableJson;
  gate_failed: string | null;
  failed_checks: TextArray;
  failure_reason: string | null;
  training_metrics: NullableJson;
  backtest_metrics: NullableJson;
  accuracy: NullableDouble;
  final_loss: NullableDouble;
  loss_reduction: NullableDouble;
  sharpe: NullableDouble;
  win_rate: NullableDouble;
  max_drawdown: NullableDouble;
  total_trades: number | null;
  total_return_pct: NullableDouble;
  deflated_sharpe: NullableDouble;
  dsr_trials: number | null;
  score: NullableDouble;
  assessment: NullableJson;
  verdict: string | null;
  tokens_input: NumericDefault;
  tokens_output: NumericDefault;
  cost_usd: NumericDefault;
  hypothesis_id: number | null;
  exploration: ColumnType<boolean, boolean | undefined, boolean>;
  parent_experiment_id: number | null;
  started_at: NullableTimestamp;
  completed_at: Timestamp;
  created_at: TimestampDefault;
  /** Why a design never reached training (migration 20261207T105300000Z; research/design-failure.ts). */
  design_failure_kind: ColumnType<DesignFailureKind | null, DesignFailureKind | null | undefined, DesignFailureKind | null>;
  design_failure: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AgentExperimentTalliesTable {
  /** 'total', 'indicators', 'labels', 'architecture' or 'failure' (value: gate|checks|indicators). */
  dimension: string;
  value: string;
  tried: Generated<number>;
  passed: Generated<number>;
  best: NullableDouble;
}

export interface AgentHypothesesTable {
  id: Generated<number>;
  text: string;
  rationale: string | null;
  status: HypothesisStatus;
  source: 'model' | 'operator' | 'designer';
  proposed_by_experiment_id: number | null;
  retired_at: NullableTimestamp;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
}

export interface AgentHypothesisEventsTable {
  id: NumericDefault;
  hypothesis_id: number;
  status: HypothesisStatus | 'retired';
  evidence: string | null;
  experiment_id: number | null;
  via: string;
  at: TimestampDefault;
  /** False for an event that records without moving the status (migration 20261207T105000000Z). */
  moved: ColumnType<boolean, boolean | undefined, boolean>;
}

/** A live session's claim on a design (migration 20261207T105200000Z): held while the session has no outcome. */
export interface AgentDesignClaimsTable {
  session_id: number;
  fingerprint: string;
  symbol: string | null;
  timeframe: string | null;
  /** The training window, once known (save_strategy_config's training_window, or start_training). Null: any window. */
  training_start: string | null;
  training_end: string | null;
  claimed_at: Timestamp;
}

export interface Database {
  agent_sessions: AgentSessionsTable;
  agent_actions: AgentActionsTable;
  agent_triggers: AgentTriggersTable;
  agent_metrics: AgentMetricsTable;
  agent_budget: AgentBudgetTable;
  agent_budget_reservations: AgentBudgetReservationsTable;
  agent_message_batches: AgentMessageBatchesTable;
  agent_control: AgentControlTable;
  agent_ticks: AgentTicksTable;
  agent_experiments: AgentExperimentsTable;
  agent_experiment_tallies: AgentExperimentTalliesTable;
  agent_hypotheses: AgentHypothesesTable;
  agent_hypothesis_events: AgentHypothesisEventsTable;
  agent_lockboxes: AgentLockboxesTable;
  agent_promotions: AgentPromotionsTable;
  agent_validation_backtests: AgentValidationBacktestsTable;
  agent_design_claims: AgentDesignClaimsTable;
}

type NullableText = ColumnType<string | null, string | null | undefined, string | null>;

/** A symbol and timeframe's held-back data (migration 20261207T100000000Z): dates are UTC days, YYYY-MM-DD. */
export interface AgentLockboxesTable {
  id: Generated<number>;
  symbol: string;
  timeframe: string;
  start_date: string;
  months: number;
  data_start: NullableText;
  data_end: string;
  fixed_at: Timestamp;
  burned_at: NullableTimestamp;
  burned_reason: NullableText;
}

export interface AgentPromotionsTable {
  id: Generated<number>;
  experiment_id: number;
  /** not_candidate (screened, DSR below the bar: shown as no promotion), pending, promoted, rejected. */
  status: string;
  reason: NullableText;
  dsr_at_decision: NullableDouble;
  trials_at_decision: ColumnType<number | null, number | null | undefined, number | null>;
  expected_max_sharpe: NullableDouble;
  search_sharpe: NullableDouble;
  symbol: NullableText;
  timeframe: NullableText;
  strategy_name: NullableText;
  model_path: NullableText;
  lockbox_id: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
  decided_at: NullableTimestamp;
}

export interface AgentValidationBacktestsTable {
  id: Generated<number>;
  promotion_id: number;
  kind: 'robustness' | 'lockbox';
  ordinal: number;
  symbol: string;
  timeframe: string;
  start_date: string;
  end_date: string;
  lockbox_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** planned, starting (a start was sent), running, completed, held (a fault that retries could not clear). */
  status: string;
  operation_id: NullableText;
  started_at: NullableTimestamp;
  progress: NullableJson<{ percentage: number | null; currentStep: string | null; status: string | null; seenAt: string }>;
  progress_changed_at: NullableTimestamp;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: NullableText;
  results: NullableJson;
  gate: NullableJson;
  sharpe: NullableDouble;
  psr: NullableDouble;
  completed_at: NullableTimestamp;
}

export type { JSONColumnType };
