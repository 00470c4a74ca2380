export { KtrdrClient } from './client.ts';
export { newTrainingTaskId, parseServerTime } from './starts.ts';
export { nodeHttpTransport } from './http-transport.ts';
export type { KtrdrTransport, TransportInit, TransportResponse } from './http-transport.ts';
export type {
  CancelOptions,
  KtrdrClientOptions,
  KtrdrRequestInfo,
  ListOperationsParams,
  ListWorkersParams,
  OperationList,
  RetryPolicy,
  StartBacktestParams,
  StartedOperation,
  StartTrainingParams,
} from './client.ts';
export { errorFromResponse, invalidResponseError, isRetryableStatus, KtrdrError, timeoutError, transportError } from './errors.ts';
export type { KtrdrErrorInit, KtrdrErrorKind } from './errors.ts';
export { flattenBacktestResult, flattenTrainingOperation, flattenTrainingResult, operationProgress } from './results.ts';
export type { BacktestResult, OperationProgressView, TrainingResult } from './results.ts';
export { isTerminalStatus, operationStatuses, terminalOperationStatuses } from './schemas.ts';
export type {
  BacktestStartResponse,
  CancelResult,
  CheckpointDetail,
  CheckpointSummary,
  DataRange,
  Health,
  IndicatorInfo,
  OperationInfo,
  OperationMetrics,
  OperationResults,
  OperationStatus,
  OperationSummary,
  ResumeResult,
  StrategyValidation,
  StrategyValidationIssue,
  SymbolInfo,
  TrainingStartResponse,
  Worker,
} from './schemas.ts';
