// One request to KTRDR: its attempts, which failures are repeated and after what backoff, KTRDR's clock read from
// each answer, and the answer checked against its schema. The endpoints themselves are in client.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type * as z from 'zod/mini';
import { abortedError, errorFromResponse, invalidResponseError, KtrdrError, responseTooLargeError, timeoutError, transportError } from './errors.ts';
import { nodeHttpTransport, ResponseTooLargeError, type KtrdrTransport } from './http-transport.ts';

/** A few MiB: KTRDR's largest answers (an operation with its training history) are tens of KiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

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

type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * How a request may be repeated after a failure:
 * - `idempotent`: reads, and calls whose repetition is harmless; retried on transport errors, timeouts and 5xx;
 * - `unsent_only`: calls that create something (resume, retry); retried only when the connection was refused,
 *   which proves KTRDR never saw the request.
 */
export type RetryClass = 'idempotent' | 'unsent_only';

export interface RequestSpec {
  method: HttpMethod;
  route: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

const defaultRetry: RetryPolicy = { maxAttempts: 3, backoffBaseSeconds: 2 };

function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Sends requests to one KTRDR, with the client's options; `withSignal` binds a copy to one invocation. */
export class KtrdrRequests {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly now: () => number;
  readonly #fetch: KtrdrTransport;
  readonly #onRequest: ((info: KtrdrRequestInfo) => void) | undefined;
  readonly #headers: (() => Record<string, string>) | undefined;
  readonly #around: KtrdrClientOptions['around'];
  readonly #random: () => number;
  readonly #maxResponseBytes: number;
  readonly #options: KtrdrClientOptions;
  /** Set on requests bound to one invocation: they, their retries and backoffs end when the invocation does. */
  #signal: AbortSignal | undefined;
  /** KTRDR's clock as last measured; shared with the copies `withSignal` makes, which send for this one. */
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
    this.now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  withSignal(signal: AbortSignal): KtrdrRequests {
    const bound = new KtrdrRequests(this.#options);
    bound.#signal = signal;
    bound.#clock = this.#clock;
    return bound;
  }

  /** How far KTRDR's clock is ahead of ours (negative: behind), in ms; null before any answer carried a `Date`. */
  clockOffsetMs(): number | null {
    return this.#clock.offsetMs;
  }

  /** A request, repeated as its retry class allows. */
  async call<S extends z.ZodMiniType>(spec: RequestSpec, schema: S, retryClass: RetryClass = 'idempotent'): Promise<z.output<S>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(spec, attempt, schema);
      } catch (error) {
        const failure = error as KtrdrError;
        if (!this.mayRetry(failure, retryClass, attempt)) throw failure;
        await this.backoff(attempt);
      }
    }
  }

  mayRetry(error: KtrdrError, retryClass: RetryClass, attempt: number): boolean {
    if (attempt >= this.retry.maxAttempts || !error.retryable || this.#signal?.aborted) return false;
    if (retryClass === 'unsent_only') return error.kind === 'transport' && error.code === 'ECONNREFUSED';
    return error.kind === 'transport' || error.kind === 'timeout' || error.kind === 'http';
  }

  /** Exponential backoff with equal jitter: half the delay fixed, half random, so retries of many clients spread. */
  async backoff(attempt: number): Promise<void> {
    const delayMs = this.retry.backoffBaseSeconds * 1000 * 2 ** (attempt - 1);
    if (delayMs <= 0) return;
    await sleep(delayMs / 2 + (delayMs / 2) * this.#random(), undefined, this.#signal ? { signal: this.#signal } : {}).catch((error: unknown) => {
      throw this.#signal?.aborted ? abortedError(this.#signal.reason, { method: 'retry', route: 'backoff' }) : error;
    });
  }

  /** One attempt, inside the caller's `around` when there is one. */
  send<S extends z.ZodMiniType>(spec: RequestSpec, attempt: number, schema: S): Promise<z.output<S>> {
    if (!this.#around) return this.#sendAttempt(spec, attempt, schema);
    return this.#around({ method: spec.method, route: spec.route, attempt }, () => this.#sendAttempt(spec, attempt, schema));
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

  async #sendAttempt<S extends z.ZodMiniType>(spec: RequestSpec, attempt: number, schema: S): Promise<z.output<S>> {
    const context = { method: spec.method, route: spec.route };
    const started = performance.now();
    let status: number | null = null;
    const sentAt = this.now();
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
      this.#measureClock(response.headers?.get('date') ?? null, sentAt, this.now());
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
