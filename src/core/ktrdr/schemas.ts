/**
 * Zod schemas of the KTRDR responses the agent reads (CONTRACT §2). Objects are loose: KTRDR adds fields over
 * time and the agent must not break on them, but a field the agent relies on must be there with the right type.
 * Payloads keep KTRDR's snake_case names so they read against the contract.
 */
import * as z from 'zod/mini';

const optionalText = z.nullish(z.string());
const optionalNumber = z.nullish(z.number());
const record = z.record(z.string(), z.unknown());

export const operationStatuses = ['pending', 'resuming', 'running', 'completed', 'failed', 'cancelled'] as const;
export const operationStatusSchema = z.enum(operationStatuses);
export type OperationStatus = z.infer<typeof operationStatusSchema>;
export const terminalOperationStatuses: readonly OperationStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminalStatus(status: OperationStatus): boolean {
  return terminalOperationStatuses.includes(status);
}

export const healthSchema = z.looseObject({
  status: z.string(),
  version: optionalText,
});
export type Health = z.infer<typeof healthSchema>;

export const trainingStartResponseSchema = z.looseObject({
  success: z.optional(z.boolean()),
  task_id: z.string().check(z.minLength(1)),
  status: optionalText,
  message: optionalText,
  symbols: z.nullish(z.array(z.string())),
  timeframes: z.nullish(z.array(z.string())),
  strategy_name: optionalText,
  estimated_duration_minutes: optionalNumber,
});
export type TrainingStartResponse = z.infer<typeof trainingStartResponseSchema>;

export const backtestStartResponseSchema = z.looseObject({
  success: z.optional(z.boolean()),
  operation_id: z.string().check(z.minLength(1)),
  status: optionalText,
  message: optionalText,
  symbol: optionalText,
  timeframe: optionalText,
  mode: optionalText,
});
export type BacktestStartResponse = z.infer<typeof backtestStartResponseSchema>;

export const operationProgressSchema = z.looseObject({
  percentage: z.number(),
  current_step: optionalText,
  steps_completed: optionalNumber,
  steps_total: optionalNumber,
  items_processed: optionalNumber,
  items_total: optionalNumber,
  current_item: optionalText,
  context: z.nullish(record),
});
export type OperationProgress = z.infer<typeof operationProgressSchema>;

export const operationMetadataSchema = z.looseObject({
  symbol: optionalText,
  timeframe: optionalText,
  mode: optionalText,
  start_date: optionalText,
  end_date: optionalText,
  parameters: z.nullish(record),
});

export const operationInfoSchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  parent_operation_id: optionalText,
  operation_type: z.string(),
  status: operationStatusSchema,
  created_at: z.string(),
  started_at: optionalText,
  completed_at: optionalText,
  progress: operationProgressSchema,
  metadata: z.nullish(operationMetadataSchema),
  error_message: optionalText,
  warnings: z.nullish(z.array(z.unknown())),
  errors: z.nullish(z.array(z.unknown())),
  result_summary: z.nullish(record),
  metrics: z.nullish(record),
});
export type OperationInfo = z.infer<typeof operationInfoSchema>;

export const operationEnvelopeSchema = z.looseObject({ data: operationInfoSchema });

export const operationSummarySchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  operation_type: z.string(),
  status: operationStatusSchema,
  created_at: z.string(),
  progress_percentage: optionalNumber,
  current_step: optionalText,
  symbol: optionalText,
  duration_seconds: optionalNumber,
});
export type OperationSummary = z.infer<typeof operationSummarySchema>;

export const operationListSchema = z.looseObject({
  data: z.array(operationSummarySchema),
  total_count: z.number(),
  active_count: z.number(),
});

export const cancelResultSchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  status: z.string(),
  cancelled_at: optionalText,
  cancellation_reason: optionalText,
  children_cancelled: z.optional(z.unknown()),
});
export type CancelResult = z.infer<typeof cancelResultSchema>;
export const cancelResponseSchema = z.looseObject({ data: cancelResultSchema });

export const operationResultsSchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  operation_type: z.string(),
  status: operationStatusSchema,
  results: record,
});
export type OperationResults = z.infer<typeof operationResultsSchema>;

/**
 * `/metrics` may answer `metrics: {}` before the first epoch. KTRDR at 2c5c7173 also answers a NESTED LIST: its
 * backend appends each (new_metrics, cursor) pair it reads from the worker (operations_service.py
 * `_refresh_from_bridge`), so `metrics` comes back as `[[[{epoch…}, …], 3], 2]`, and `GET /operations/{id}` as
 * `metrics.epochs: [[{epoch…}], 3]`. Both shapes are accepted here and read by `epochMetricsOf`.
 */
export const operationMetricsSchema = z.looseObject({
  operation_id: optionalText,
  operation_type: optionalText,
  metrics: z.nullish(
    z.union([
      z.looseObject({
        epochs: z.optional(z.array(z.unknown())),
        best_epoch: optionalNumber,
        is_overfitting: z.nullish(z.boolean()),
        is_plateaued: z.nullish(z.boolean()),
        total_epochs_completed: optionalNumber,
      }),
      z.array(z.unknown()),
    ]),
  ),
});
export type OperationMetrics = z.infer<typeof operationMetricsSchema>;
export const operationMetricsResponseSchema = z.looseObject({ data: operationMetricsSchema });

export const resumeResultSchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  status: z.string(),
  resumed_from: z.nullish(
    z.looseObject({
      checkpoint_type: optionalText,
      created_at: optionalText,
      epoch: optionalNumber,
    }),
  ),
});
export type ResumeResult = z.infer<typeof resumeResultSchema>;
export const resumeResponseSchema = z.looseObject({ data: resumeResultSchema });

export const checkpointSummarySchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  checkpoint_type: z.string(),
  created_at: z.string(),
  state_summary: z.nullish(record),
  artifacts_size_bytes: optionalNumber,
});
export type CheckpointSummary = z.infer<typeof checkpointSummarySchema>;
export const checkpointListSchema = z.looseObject({
  data: z.array(checkpointSummarySchema),
  total_count: z.optional(z.number()),
});

export const checkpointDetailSchema = z.looseObject({
  operation_id: z.string().check(z.minLength(1)),
  checkpoint_type: z.string(),
  created_at: z.string(),
  state: z.nullish(record),
  artifacts_path: optionalText,
});
export type CheckpointDetail = z.infer<typeof checkpointDetailSchema>;
export const checkpointResponseSchema = z.looseObject({ data: checkpointDetailSchema });

export const indicatorParameterSchema = z.looseObject({
  name: z.string(),
  type: optionalText,
  default: z.optional(z.unknown()),
  min_value: optionalNumber,
  max_value: optionalNumber,
  options: z.nullish(z.array(z.unknown())),
});

export const indicatorInfoSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  description: optionalText,
  type: optionalText,
  parameters: z.nullish(z.array(indicatorParameterSchema)),
});
export type IndicatorInfo = z.infer<typeof indicatorInfoSchema>;
export const indicatorListSchema = z.looseObject({ data: z.array(indicatorInfoSchema) });

export const symbolInfoSchema = z.looseObject({
  symbol: z.string().check(z.minLength(1)),
  name: optionalText,
  type: optionalText,
  exchange: optionalText,
  currency: optionalText,
  available_timeframes: z.array(z.string()),
  trading_hours: z.optional(z.unknown()),
});
export type SymbolInfo = z.infer<typeof symbolInfoSchema>;
export const symbolListSchema = z.looseObject({ data: z.array(symbolInfoSchema) });

export const dataRangeSchema = z.looseObject({
  symbol: optionalText,
  timeframe: optionalText,
  start_date: z.string(),
  end_date: z.string(),
  point_count: z.number(),
});
export type DataRange = z.infer<typeof dataRangeSchema>;
export const dataRangeResponseSchema = z.looseObject({ data: dataRangeSchema });

export const workerSchema = z.looseObject({
  worker_id: z.string().check(z.minLength(1)),
  worker_type: optionalText,
  status: z.string(),
  current_operation_id: optionalText,
  capabilities: z.nullish(record),
});
export type Worker = z.infer<typeof workerSchema>;
/** `/workers` is the one list KTRDR returns bare, without the `{success,data}` envelope. */
export const workerListSchema = z.array(workerSchema);

export const validationIssueSchema = z.looseObject({
  severity: z.string(),
  category: optionalText,
  message: z.string(),
  details: z.optional(z.unknown()),
});
export type StrategyValidationIssue = z.infer<typeof validationIssueSchema>;

export const strategyValidationSchema = z.looseObject({
  success: z.optional(z.boolean()),
  valid: z.boolean(),
  strategy_name: optionalText,
  issues: z.nullish(z.array(validationIssueSchema)),
  available_indicators: z.nullish(z.array(z.unknown())),
  message: optionalText,
});
export type StrategyValidation = z.infer<typeof strategyValidationSchema>;
