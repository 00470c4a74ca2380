import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as z from 'zod/mini';
import { abortedError, errorFromResponse, invalidResponseError, KtrdrError, responseTooLargeError, timeoutError, transportError } from './errors.ts';
import { nodeHttpTransport, ResponseTooLargeError, type KtrdrTransport } from './http-transport.ts';
import { epochMetricsOf, type EpochMetric } from './results.ts';

/** A few MiB: KTRDR's largest answers (an operation with its training history) are tens of KiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
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

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  backoffBaseSeconds: number;
}

export interface KtrdrRequestInfo {
  method: string;
  /** The route template (`/operations/{id}`), so metrics keep a low cardinality. */
  route: string;
  /** HTTP status, or null when no response came back. */
  status: number | null;
  durationMs: number;
  attempt: number;
  error?: KtrdrError;
}

export interface KtrdrClientOptions {
  /** Base URL including the API prefix, e.g. http://127.0.0.1:8000/api/v1. */
  baseUrl: string;
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** The HTTP transport; node:http by default (global `fetch` works too, without the body bound). */
  fetch?: KtrdrTransport;
  /** The largest response body accepted; a larger one is a KTRDR fault. Default 8 MiB. */
  maxResponseBytes?: number;
  /** Called once per HTTP attempt, after it ends; for logs, metrics and spans. */
  onRequest?: (info: KtrdrRequestInfo) => void;
  /** Extra headers per attempt, e.g. a W3C traceparent from telemetry. */
  headers?: () => Record<string, string>;
  /**
   * Runs each HTTP attempt inside the caller's code, e.g. a tracing span, so the attempt is timed by it and the
   * `headers()` it sends (a traceparent) belong to it.
   */
  around?: <T>(info: { method: string; route: string; attempt: number }, send: () => Promise<T>) => Promise<T>;
  /** Clock, for generated task ids and for matching a backtest created after a lost start. */
  now?: () => number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

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

type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * How a request may be repeated after a failure:
 * - `idempotent`: reads, and calls whose repetition is harmless; retried on transport errors, timeouts and 5xx;
 * - `unsent_only`: calls that create something (resume, retry); retried only when the connection was refused,
 *   which proves KTRDR never saw the request.
 */
type RetryClass = 'idempotent' | 'unsent_only';

interface RequestSpec {
  method: HttpMethod;
  route: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

const defaultRetry: RetryPolicy = { maxAttempts: 3, backoffBaseSeconds: 2 };
/** How far apart KTRDR's clock and ours may be when matching a backtest started by a lost request. */
const clockSkewAllowanceMs = 120_000;
/** How many recent backtests to look through for one started by a lost request. */
const recentBacktestWindow = 100;

/** An operation id in KTRDR's own format: `op_training_<yyyymmdd_hhmmss>_<8 hex>` (UTC). */
export function newTrainingTaskId(nowMs: number = Date.now()): string {
  const iso = new Date(nowMs).toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `op_training_${stamp}_${randomBytes(4).toString('hex')}`;
}

/**
 * KTRDR writes naive timestamps (no zone) in places; its documented zone is UTC (ktrdr/api/models/operations.py's
 * examples end in `Z`, and ktrdr/api/services/operations_service.py stamps `datetime.now(timezone.utc)`), so they
 * are read as UTC, never as this host's local time.
 */
export function parseServerTime(value: string | null | undefined): number | null {
  if (!value) return null;
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const normalized = hasZone ? value : `${value}Z`;
  const ms = Date.parse(normalized);
  return Number.isNaN(ms) ? null : ms;
}

function datePart(value: unknown): string | null {
  return typeof value === 'string' && value.length >= 10 ? value.slice(0, 10) : null;
}

function strategyNameOf(parameters: Record<string, unknown>): string | null {
  if (typeof parameters.strategy_name === 'string') return parameters.strategy_name;
  const path = parameters.strategy_config_path;
  if (typeof path !== 'string') return null;
  const file = path.split(/[\\/]/).pop() ?? '';
  return file.replace(/\.ya?ml$/i, '');
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export class KtrdrClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly #fetch: KtrdrTransport;
  readonly #onRequest: ((info: KtrdrRequestInfo) => void) | undefined;
  readonly #headers: (() => Record<string, string>) | undefined;
  readonly #around: KtrdrClientOptions['around'];
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #maxResponseBytes: number;
  readonly #options: KtrdrClientOptions;
  /** Set on a client bound to one invocation: its requests, retries and backoffs end when the invocation does. */
  #signal: AbortSignal | undefined;
  /** KTRDR's clock as last measured; shared with the clients `withSignal` makes, which send for this one. */
  #clock: { offsetMs: number | null } = { offsetMs: null };

  constructor(options: KtrdrClientOptions) {
    this.#options = options;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retry = options.retry ?? defaultRetry;
    if (!Number.isInteger(this.retry.maxAttempts) || this.retry.maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${this.retry.maxAttempts}`);
    }
    this.#fetch = options.fetch ?? nodeHttpTransport;
    this.#onRequest = options.onRequest;
    this.#headers = options.headers;
    this.#around = options.around;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** The same client, with every request, retry and backoff ending when `signal` aborts. */
  withSignal(signal: AbortSignal): KtrdrClient {
    const bound = new KtrdrClient(this.#options);
    bound.#signal = signal;
    bound.#clock = this.#clock;
    return bound;
  }

  /**
   * How far KTRDR's clock is ahead of ours (negative: behind), in ms, from the `Date` header of its last answer;
   * null before any answer carried one. KTRDR's times (an operation's created_at) are compared with ours only after
   * this offset is taken off: this host's clock is not trusted to agree with KTRDR's.
   */
  clockOffsetMs(): number | null {
    return this.#clock.offsetMs;
  }

  health(): Promise<Health> {
    return this.#call({ method: 'GET', route: '/health', path: '/health' }, healthSchema);
  }

  /**
   * Starts a training. The request always carries a `task_id`, so when an attempt's outcome is unknown the client
   * first asks KTRDR whether that operation exists and only starts again when it does not.
   */
  async startTraining(params: StartTrainingParams): Promise<StartedOperation<TrainingStartResponse>> {
    const taskId = params.taskId ?? newTrainingTaskId(this.#now());
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
    return this.#startOnce(
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
      const existing = await this.#findStartedBacktest(params, params.adoptStartedSince);
      if (existing) return { operationId: existing, recovered: true, response: null };
    }
    const firstAttemptAt = this.#now();
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
    return this.#startOnce(
      spec,
      backtestStartResponseSchema,
      (response) => response.operation_id,
      () => this.#findStartedBacktest(params, firstAttemptAt),
      (error) => error.kind === 'http' || error.code === 'ECONNREFUSED',
    );
  }

  async getOperation(operationId: string): Promise<OperationInfo> {
    const envelope = await this.#call(
      { method: 'GET', route: '/operations/{id}', path: `/operations/${encodeURIComponent(operationId)}` },
      operationEnvelopeSchema,
    );
    return envelope.data;
  }

  async listOperations(params: ListOperationsParams = {}): Promise<OperationList> {
    const body = await this.#call(
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
        const body = await this.#send(spec, attempt, cancelResponseSchema);
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
        if (!this.#mayRetry(failure, 'idempotent', attempt)) throw failure;
        earlierAttemptFailed = true;
        await this.#backoff(attempt);
      }
    }
  }

  /** Per-epoch metrics, read out of whichever nesting KTRDR answers with (see `operationMetricsSchema`). */
  async getOperationMetrics(operationId: string): Promise<OperationMetricsView> {
    const body = await this.#call(
      { method: 'GET', route: '/operations/{id}/metrics', path: `/operations/${encodeURIComponent(operationId)}/metrics` },
      operationMetricsResponseSchema,
    );
    const data: OperationMetrics = body.data;
    return { operationId: data.operation_id ?? operationId, operationType: data.operation_type ?? null, epochs: epochMetricsOf(data.metrics) };
  }

  /** Resumes a failed or cancelled operation from its checkpoint; repeated only if KTRDR surely never saw it. */
  async resumeOperation(operationId: string): Promise<ResumeResult> {
    const body = await this.#call(
      { method: 'POST', route: '/operations/{id}/resume', path: `/operations/${encodeURIComponent(operationId)}/resume` },
      resumeResponseSchema,
      'unsent_only',
    );
    return body.data;
  }

  async listIndicators(): Promise<IndicatorInfo[]> {
    // The trailing slash matters: without it FastAPI answers with a redirect.
    const body = await this.#call({ method: 'GET', route: '/indicators/', path: '/indicators/' }, indicatorListSchema);
    return body.data;
  }

  async listSymbols(): Promise<SymbolInfo[]> {
    const body = await this.#call({ method: 'GET', route: '/symbols', path: '/symbols' }, symbolListSchema);
    return body.data;
  }

  async getDataRange(symbol: string, timeframe: string): Promise<DataRange> {
    const body = await this.#call({ method: 'POST', route: '/data/range', path: '/data/range', body: { symbol, timeframe } }, dataRangeResponseSchema);
    return body.data;
  }

  listWorkers(params: ListWorkersParams = {}): Promise<Worker[]> {
    return this.#call(
      { method: 'GET', route: '/workers', path: '/workers', query: { worker_type: params.workerType, status: params.status } },
      workerListSchema,
    );
  }

  /** Validates `strategies/<name>.yaml` on KTRDR's side; an invalid strategy is a 200 with `valid: false`. */
  validateStrategy(name: string): Promise<StrategyValidation> {
    return this.#call(
      { method: 'POST', route: '/strategies/validate/{name}', path: `/strategies/validate/${encodeURIComponent(name)}` },
      strategyValidationSchema,
    );
  }

  async #call<S extends z.ZodMiniType>(spec: RequestSpec, schema: S, retryClass: RetryClass = 'idempotent'): Promise<z.output<S>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#send(spec, attempt, schema);
      } catch (error) {
        const failure = error as KtrdrError;
        if (!this.#mayRetry(failure, retryClass, attempt)) throw failure;
        await this.#backoff(attempt);
      }
    }
  }

  /**
   * One start with at-most-once semantics: an attempt whose outcome is unknown is followed, before any new attempt,
   * by `findExisting`; an operation found there is the answer. When the check itself fails the start is not
   * repeated, since a second operation is worse than a reported error.
   */
  async #startOnce<S extends z.ZodMiniType>(
    spec: RequestSpec,
    schema: S,
    idOf: (response: z.output<S>) => string,
    findExisting: () => Promise<string | null>,
    /** Whether a failed attempt proves nothing was started, so another may be sent when the list shows none. */
    surelyNotStarted: (error: KtrdrError) => boolean = () => true,
  ): Promise<StartedOperation<z.output<S>>> {
    let lastError: KtrdrError | null = null;
    for (let attempt = 1; ; attempt++) {
      if (lastError !== null) {
        let existing: string | null;
        try {
          existing = await findExisting();
        } catch {
          throw lastError;
        }
        if (existing !== null) return { operationId: existing, recovered: true, response: null };
        if (!surelyNotStarted(lastError)) throw lastError;
      }
      try {
        const response = await this.#send(spec, attempt, schema);
        return { operationId: idOf(response), recovered: false, response };
      } catch (error) {
        lastError = error as KtrdrError;
        if (!this.#mayRetry(lastError, 'idempotent', attempt)) throw lastError;
        await this.#backoff(attempt);
      }
    }
  }

  async #findOperation(operationId: string): Promise<OperationInfo | null> {
    try {
      return await this.getOperation(operationId);
    } catch (error) {
      if (error instanceof KtrdrError && error.isNotFound) return null;
      throw error;
    }
  }

  async #findStartedBacktest(params: StartBacktestParams, firstAttemptAt: number): Promise<string | null> {
    const [active, recent] = await Promise.all([
      this.listOperations({ operationType: 'backtesting', activeOnly: true, limit: recentBacktestWindow }),
      this.listOperations({ operationType: 'backtesting', limit: recentBacktestWindow }),
    ]);
    const candidates = new Map<string, OperationSummary>();
    for (const summary of [...active.operations, ...recent.operations]) {
      const createdAt = parseServerTime(summary.created_at);
      // On our clock: KTRDR's time less its measured offset.
      if (createdAt !== null && createdAt - (this.#clock.offsetMs ?? 0) >= firstAttemptAt - clockSkewAllowanceMs) candidates.set(summary.operation_id, summary);
    }
    const newestFirst = [...candidates.values()].sort((a, b) => (parseServerTime(b.created_at) ?? 0) - (parseServerTime(a.created_at) ?? 0));
    for (const summary of newestFirst) {
      const operation = await this.#findOperation(summary.operation_id);
      if (operation && backtestMatches(operation, params)) return operation.operation_id;
    }
    return null;
  }

  #mayRetry(error: KtrdrError, retryClass: RetryClass, attempt: number): boolean {
    if (attempt >= this.retry.maxAttempts || !error.retryable || this.#signal?.aborted) return false;
    if (retryClass === 'unsent_only') return error.kind === 'transport' && error.code === 'ECONNREFUSED';
    return error.kind === 'transport' || error.kind === 'timeout' || error.kind === 'http';
  }

  /** Exponential backoff with equal jitter: half the delay fixed, half random, so retries of many clients spread. */
  async #backoff(attempt: number): Promise<void> {
    const delayMs = this.retry.backoffBaseSeconds * 1000 * 2 ** (attempt - 1);
    if (delayMs <= 0) return;
    await sleep(delayMs / 2 + (delayMs / 2) * this.#random(), undefined, this.#signal ? { signal: this.#signal } : {}).catch((error: unknown) => {
      throw this.#signal?.aborted ? abortedError(this.#signal.reason, { method: 'retry', route: 'backoff' }) : error;
    });
  }

  #url(spec: RequestSpec): string {
    let url = `${this.baseUrl}${spec.path}`;
    if (spec.query) {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(spec.query)) {
        if (value !== undefined) search.set(key, String(value));
      }
      const text = search.toString();
      if (text) url += `?${text}`;
    }
    return url;
  }

  #send<S extends z.ZodMiniType>(spec: RequestSpec, attempt: number, schema: S): Promise<z.output<S>> {
    if (!this.#around) return this.#sendAttempt(spec, attempt, schema);
    return this.#around({ method: spec.method, route: spec.route, attempt }, () => this.#sendAttempt(spec, attempt, schema));
  }

  async #sendAttempt<S extends z.ZodMiniType>(spec: RequestSpec, attempt: number, schema: S): Promise<z.output<S>> {
    const context = { method: spec.method, route: spec.route };
    const started = performance.now();
    let status: number | null = null;
    const sentAt = this.#now();
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...(this.#headers?.() ?? {}) };
      let body: string | undefined;
      if (spec.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(spec.body);
      }
      const response = await this.#fetch(this.#url(spec), {
        method: spec.method,
        headers,
        body,
        signal: this.#signal ? AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.#signal]) : AbortSignal.timeout(this.timeoutMs),
        maxBodyBytes: this.#maxResponseBytes,
      });
      status = response.status;
      this.#measureClock(response.headers?.get('date') ?? null, sentAt, this.#now());
      const text = await response.text();
      if (!response.ok) throw errorFromResponse(response.status, text, context);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw invalidResponseError(response.status, '', `expected JSON, got ${JSON.stringify(text.slice(0, 80))}`, context);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue ? formatIssuePath(issue.path) : '';
        throw invalidResponseError(response.status, path, issue?.message ?? 'invalid', context, { issues: parsed.error.issues });
      }
      this.#report({ ...context, status, durationMs: performance.now() - started, attempt });
      return parsed.data;
    } catch (error) {
      const failure = this.#toKtrdrError(error, context);
      this.#report({ ...context, status, durationMs: performance.now() - started, attempt, error: failure });
      throw failure;
    }
  }

  /**
   * The `Date` header (RFC 9110: the time the answer was generated, to the second) against the middle of our
   * request: half a second is added for the truncated fraction, so the estimate is off by at most half the round
   * trip plus half a second.
   */
  #measureClock(date: string | null, sentAt: number, receivedAt: number): void {
    if (date === null) return;
    const serverMs = Date.parse(date);
    if (Number.isNaN(serverMs)) return;
    this.#clock.offsetMs = Math.round(serverMs + 500 - (sentAt + receivedAt) / 2);
  }

  #toKtrdrError(error: unknown, context: { method: string; route: string }): KtrdrError {
    if (error instanceof KtrdrError) return error;
    if (this.#signal?.aborted) return abortedError(this.#signal.reason, context);
    if (error instanceof ResponseTooLargeError) return responseTooLargeError(error.status, error.limitBytes, context);
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return timeoutError(this.timeoutMs, context, error);
    }
    return transportError(error, this.baseUrl, context);
  }

  #report(info: KtrdrRequestInfo): void {
    if (!this.#onRequest) return;
    try {
      this.#onRequest(info);
    } catch {
      // A failing observer (telemetry) must not fail the call it observes.
    }
  }
}

function backtestMatches(operation: OperationInfo, params: StartBacktestParams): boolean {
  const metadata = operation.metadata ?? {};
  const parameters = (metadata.parameters ?? {}) as Record<string, unknown>;
  if (strategyNameOf(parameters) !== params.strategyName) return false;
  const startDate = datePart(metadata.start_date ?? parameters.start_date);
  const endDate = datePart(metadata.end_date ?? parameters.end_date);
  if (startDate !== datePart(params.startDate) || endDate !== datePart(params.endDate)) return false;
  if (params.symbol && metadata.symbol && metadata.symbol !== params.symbol) return false;
  if (params.timeframe && metadata.timeframe && metadata.timeframe !== params.timeframe) return false;
  if (typeof parameters.model_path === 'string' && parameters.model_path !== params.modelPath) return false;
  return true;
}
