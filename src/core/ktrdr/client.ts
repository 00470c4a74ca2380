// The KTRDR endpoints the agent uses: operations (start, read, list, cancel, resume, metrics), then data, workers
// and strategy validation. How one request is sent and repeated is requests.ts; a start that happens at most once,
// starts.ts; the answers' shapes, schemas.ts.
import { KtrdrError } from './errors.ts';
import { KtrdrRequests, type KtrdrClientOptions, type RequestSpec, type RetryPolicy } from './requests.ts';
import { epochMetricsOf, type EpochMetric } from './results.ts';
import { findStartedBacktest, newTrainingTaskId, startOnce, type OperationLookup } from './starts.ts';
import {
  backtestStartResponseSchema,
  cancelResponseSchema,
  dataRangeResponseSchema,
  healthSchema,
  indicatorListSchema,
  operationEnvelopeSchema,
  operationListSchema,
  operationMetricsResponseSchema,
  resumeResponseSchema,
  strategyValidationSchema,
  symbolListSchema,
  trainingStartResponseSchema,
  workerListSchema,
} from './schemas.ts';
import type {
  BacktestStartResponse,
  CancelResult,
  DataRange,
  Health,
  IndicatorInfo,
  OperationInfo,
  OperationMetrics,
  OperationStatus,
  OperationSummary,
  ResumeResult,
  StrategyValidation,
  SymbolInfo,
  TrainingStartResponse,
  Worker,
} from './schemas.ts';

export type { KtrdrClientOptions, KtrdrRequestInfo, RetryPolicy } from './requests.ts';

export interface StartTrainingParams {
  strategyName: string;
  symbols?: string[];
  timeframes?: string[];
  startDate?: string;
  endDate?: string;
  /** Preset operation id; generated when absent so that a retried start cannot launch a second training. */
  taskId?: string;
  detailedAnalytics?: boolean;
}

export interface StartBacktestParams {
  strategyName: string;
  /** `result_summary.model_path` of the training: without it KTRDR fails the backtest asynchronously. */
  modelPath: string;
  startDate: string;
  endDate: string;
  symbol?: string;
  timeframe?: string;
  initialCapital?: number;
  commission?: number;
  slippage?: number;
  /**
   * Adopt a matching backtest (strategy, model, dates) created since this time (ms) instead of starting another:
   * for a caller retrying after a crash between KTRDR's start and its own record of it.
   */
  adoptStartedSince?: number;
}

export interface StartedOperation<Response> {
  operationId: string;
  /**
   * True when the start's answer was lost and the operation was found on KTRDR instead of being started again;
   * `response` is then null.
   */
  recovered: boolean;
  response: Response | null;
}

export interface OperationMetricsView {
  operationId: string;
  operationType: string | null;
  epochs: EpochMetric[];
}

export interface ListOperationsParams {
  status?: OperationStatus;
  operationType?: string;
  limit?: number;
  offset?: number;
  activeOnly?: boolean;
}

export interface OperationList {
  operations: OperationSummary[];
  totalCount: number;
  activeCount: number;
}

export interface CancelOptions {
  reason?: string;
  force?: boolean;
}

export interface ListWorkersParams {
  workerType?: string;
  status?: string;
}

export class KtrdrClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly #requests: KtrdrRequests;

  /** From options; or, for `withSignal`, from requests already bound to a signal. */
  constructor(options: KtrdrClientOptions | KtrdrRequests) {
    this.#requests = options instanceof KtrdrRequests ? options : new KtrdrRequests(options);
    this.baseUrl = this.#requests.baseUrl;
    this.timeoutMs = this.#requests.timeoutMs;
    this.retry = this.#requests.retry;
  }

  /** The same client, with every request, retry and backoff ending when `signal` aborts. */
  withSignal(signal: AbortSignal): KtrdrClient {
    return new KtrdrClient(this.#requests.withSignal(signal));
  }

  /**
   * How far KTRDR's clock is ahead of ours (negative: behind), in ms, from the `Date` header of its last answer;
   * null before any answer carried one. KTRDR's times (an operation's created_at) are compared with ours only after
   * this offset is taken off: this host's clock is not trusted to agree with KTRDR's.
   */
  clockOffsetMs(): number | null {
    return this.#requests.clockOffsetMs();
  }

  health(): Promise<Health> {
    return this.#requests.call({ method: 'GET', route: '/health', path: '/health' }, healthSchema);
  }

  /**
   * Starts a training. The request always carries a `task_id`, so when an attempt's outcome is unknown the client
   * first asks KTRDR whether that operation exists and only starts again when it does not.
   */
  async startTraining(params: StartTrainingParams): Promise<StartedOperation<TrainingStartResponse>> {
    const taskId = params.taskId ?? newTrainingTaskId(this.#requests.now());
    const spec: RequestSpec = {
      method: 'POST',
      route: '/trainings/start',
      path: '/trainings/start',
      body: {
        strategy_name: params.strategyName,
        symbols: params.symbols,
        timeframes: params.timeframes,
        start_date: params.startDate,
        end_date: params.endDate,
        task_id: taskId,
        detailed_analytics: params.detailedAnalytics,
      },
    };
    return startOnce(
      this.#requests,
      spec,
      trainingStartResponseSchema,
      (response) => response.task_id,
      async () => {
        const existing = await this.#findOperation(taskId);
        return existing ? existing.operation_id : null;
      },
    );
  }

  /**
   * Starts a backtest. KTRDR takes no preset id here, so after an unknown outcome the client looks for a backtest
   * of the same strategy and dates created since the first attempt, and accepts it rather than start a second.
   */
  async startBacktest(params: StartBacktestParams): Promise<StartedOperation<BacktestStartResponse>> {
    if (typeof params.modelPath !== 'string' || params.modelPath.trim() === '') {
      throw new TypeError('startBacktest needs modelPath: pass result_summary.model_path of the training (KTRDR fails a backtest started without it)');
    }
    if (params.adoptStartedSince !== undefined) {
      const existing = await findStartedBacktest(this.#lookup(), params, params.adoptStartedSince);
      if (existing) return { operationId: existing, recovered: true, response: null };
    }
    const firstAttemptAt = this.#requests.now();
    const spec: RequestSpec = {
      method: 'POST',
      route: '/backtests/start',
      path: '/backtests/start',
      body: {
        strategy_name: params.strategyName,
        model_path: params.modelPath,
        start_date: params.startDate,
        end_date: params.endDate,
        symbol: params.symbol,
        timeframe: params.timeframe,
        initial_capital: params.initialCapital,
        commission: params.commission,
        slippage: params.slippage,
      },
    };
    // A backtest has no idempotency key: after an attempt of unknown outcome (a timeout, a connection cut after the
    // request went out) that the list does not show yet, KTRDR may still start it later. Starting another would make
    // two live backtests, so the call fails instead; the next invocation adopts it if it appears (adoptStartedSince).
    return startOnce(
      this.#requests,
      spec,
      backtestStartResponseSchema,
      (response) => response.operation_id,
      () => findStartedBacktest(this.#lookup(), params, firstAttemptAt),
      (error) => error.kind === 'http' || error.code === 'ECONNREFUSED',
    );
  }

  async getOperation(operationId: string): Promise<OperationInfo> {
    const envelope = await this.#requests.call(
      { method: 'GET', route: '/operations/{id}', path: `/operations/${encodeURIComponent(operationId)}` },
      operationEnvelopeSchema,
    );
    return envelope.data;
  }

  async listOperations(params: ListOperationsParams = {}): Promise<OperationList> {
    const body = await this.#requests.call(
      {
        method: 'GET',
        route: '/operations',
        path: '/operations',
        query: {
          status: params.status,
          operation_type: params.operationType,
          limit: params.limit,
          offset: params.offset,
          active_only: params.activeOnly,
        },
      },
      operationListSchema,
    );
    return { operations: body.data, totalCount: body.total_count, activeCount: body.active_count };
  }

  /**
   * Cancels an operation. A repeated cancel is harmless, so it is retried; when a retry hears "already terminal"
   * because the first attempt did cancel, the operation's state is read and the cancellation reported.
   */
  async cancelOperation(operationId: string, options: CancelOptions = {}): Promise<CancelResult> {
    const spec: RequestSpec = {
      method: 'DELETE',
      route: '/operations/{id}',
      path: `/operations/${encodeURIComponent(operationId)}`,
      body: { reason: options.reason, force: options.force ?? false },
    };
    let earlierAttemptFailed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await this.#requests.send(spec, attempt, cancelResponseSchema);
        return body.data;
      } catch (error) {
        const failure = error as KtrdrError;
        if (earlierAttemptFailed && failure.status === 400) {
          const operation = await this.getOperation(operationId);
          if (operation.status === 'cancelled') {
            return {
              operation_id: operation.operation_id,
              status: 'cancelled',
              cancelled_at: operation.completed_at ?? null,
              cancellation_reason: options.reason ?? null,
            };
          }
        }
        if (!this.#requests.mayRetry(failure, 'idempotent', attempt)) throw failure;
        earlierAttemptFailed = true;
        await this.#requests.backoff(attempt);
      }
    }
  }

  /** Per-epoch metrics, read out of whichever nesting KTRDR answers with (see `operationMetricsSchema`). */
  async getOperationMetrics(operationId: string): Promise<OperationMetricsView> {
    const body = await this.#requests.call(
      { method: 'GET', route: '/operations/{id}/metrics', path: `/operations/${encodeURIComponent(operationId)}/metrics` },
      operationMetricsResponseSchema,
    );
    const data: OperationMetrics = body.data;
    return { operationId: data.operation_id ?? operationId, operationType: data.operation_type ?? null, epochs: epochMetricsOf(data.metrics) };
  }

  /** Resumes a failed or cancelled operation from its checkpoint; repeated only if KTRDR surely never saw it. */
  async resumeOperation(operationId: string): Promise<ResumeResult> {
    const body = await this.#requests.call(
      { method: 'POST', route: '/operations/{id}/resume', path: `/operations/${encodeURIComponent(operationId)}/resume` },
      resumeResponseSchema,
      'unsent_only',
    );
    return body.data;
  }

  async listIndicators(): Promise<IndicatorInfo[]> {
    // The trailing slash matters: without it FastAPI answers with a redirect.
    const body = await this.#requests.call({ method: 'GET', route: '/indicators/', path: '/indicators/' }, indicatorListSchema);
    return body.data;
  }

  async listSymbols(): Promise<SymbolInfo[]> {
    const body = await this.#requests.call({ method: 'GET', route: '/symbols', path: '/symbols' }, symbolListSchema);
    return body.data;
  }

  async getDataRange(symbol: string, timeframe: string): Promise<DataRange> {
    const body = await this.#requests.call({ method: 'POST', route: '/data/range', path: '/data/range', body: { symbol, timeframe } }, dataRangeResponseSchema);
    return body.data;
  }

  listWorkers(params: ListWorkersParams = {}): Promise<Worker[]> {
    return this.#requests.call(
      { method: 'GET', route: '/workers', path: '/workers', query: { worker_type: params.workerType, status: params.status } },
      workerListSchema,
    );
  }

  /** Validates `strategies/<name>.yaml` on KTRDR's side; an invalid strategy is a 200 with `valid: false`. */
  validateStrategy(name: string): Promise<StrategyValidation> {
    return this.#requests.call(
      { method: 'POST', route: '/strategies/validate/{name}', path: `/strategies/validate/${encodeURIComponent(name)}` },
      strategyValidationSchema,
    );
  }

  async #findOperation(operationId: string): Promise<OperationInfo | null> {
    try {
      return await this.getOperation(operationId);
    } catch (error) {
      if (error instanceof KtrdrError && error.isNotFound) return null;
      throw error;
    }
  }

  /** What finding a backtest started by a lost request reads of this client. */
  #lookup(): OperationLookup {
    return {
      listOperations: (params: ListOperationsParams) => this.listOperations(params),
      findOperation: (id: string) => this.#findOperation(id),
      clockOffsetMs: () => this.clockOffsetMs(),
    };
  }
}
