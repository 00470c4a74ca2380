import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { FaultClass } from '../kernel/faults.ts';
import { unsentErrorClass } from './unsent-errors.ts';

export interface AnthropicClientOptions {
  apiKey: string;
  /** Only for tests and proxies; without it the SDK uses ANTHROPIC_BASE_URL or the public API. */
  baseURL?: string;
  /** Per HTTP attempt; the invocation's own deadline bounds the whole call across attempts. */
  timeoutMs: number;
  /**
   * SDK retries, default 0. Only for unbudgeted calls such as `doctor`'s model check: a budgeted call retries in
   * the invocation's loop, one reservation per attempt.
   */
  maxRetries?: number;
}

/**
 * The one place the SDK is constructed. Callers import this module lazily (`await import(...)`) so that commands
 * which never call Claude, such as `tick` when nothing is due, do not load the SDK.
 *
 * The SDK never retries (`maxRetries: 0`): the invocation retries in its own loop, so that every HTTP attempt is
 * reserved against the budget before it is sent (an attempt cut off after the server started may be billed).
 */
export function createAnthropicClient(options: AnthropicClientOptions): Anthropic {
  if (options.apiKey.trim() === '') {
    throw new Error('The Anthropic API key is empty. Set ANTHROPIC_API_KEY to a key from the Claude Console.');
  }
  return new Anthropic({
    apiKey: options.apiKey,
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeoutMs,
    ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
  });
}

/**
 * What one failed HTTP attempt means for money and for the next step.
 * - `billing`: `not_billed` when the request provably never reached the API or was answered without usage (an
 *   error answer, an HTML page); `unknown` when it was cut off after it was sent, so it may have been billed.
 * - `retryable`: the SDK's own rules (x-should-retry, 408, 409, 429, 5xx, connection failures).
 * - `fault`: the fault of the world this is once retries are exhausted; absent for errors of our own request.
 */
export interface AttemptFailure {
  kind: 'api_error' | 'timeout' | 'aborted';
  reason: string;
  billing: 'not_billed' | 'unknown';
  retryable: boolean;
  /** The server's requested wait (retry-after-ms, retry-after), when it gave a usable one. */
  retryAfterMs?: number;
  faultClass?: FaultClass;
  requestId?: string;
  /** The HTTP status of an answered error. */
  status?: number;
}

/** Codes and messages down an error's cause chain, where network errors keep the useful part. */
function causeChain(error: unknown): { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (depth > 0) messages.push(current.message);
  }
  return { codes, messages };
}

/** The SDK's retry rule for an answered error (client.js `shouldRetry`): the server's header wins. */
function shouldRetryStatus(status: number, headers: Headers | undefined): boolean {
  const header = headers?.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** retry-after-ms (float milliseconds) first, then retry-after (seconds or an HTTP date), as the SDK reads them. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const millis = headers?.get('retry-after-ms');
  let wait: number | undefined;
  if (millis) {
    const parsed = Number.parseFloat(millis);
    if (!Number.isNaN(parsed)) wait = parsed;
  }
  const after = headers?.get('retry-after');
  if (after && wait === undefined) {
    const seconds = Number.parseFloat(after);
    wait = Number.isNaN(seconds) ? Date.parse(after) - now : seconds * 1000;
  }
  return wait !== undefined && wait > 0 && wait <= 2 ** 31 - 1 ? wait : undefined;
}

function faultOfStatus(status: number): FaultClass | undefined {
  if (status === 401 || status === 403) return 'anthropic_auth';
  if (status === 429) return 'anthropic_rate_limited';
  if (status >= 500) return 'anthropic_unreachable';
  return undefined;
}

/**
 * Classifies a failed `messages.create` attempt by the SDK's own error classes. The reason is built from the
 * status, error type, API message and network codes only: headers and request options are never printed, so no
 * credential can reach it.
 */
export function classifyAttemptFailure(error: unknown): AttemptFailure {
  if (error instanceof APIUserAbortError) {
    return { kind: 'aborted', reason: 'the request was aborted', billing: 'unknown', retryable: false };
  }
  if (error instanceof APIConnectionTimeoutError) {
    return {
      kind: 'timeout',
      reason: `the Anthropic API did not answer in time (${error.message})`,
      billing: 'unknown',
      retryable: true,
      faultClass: 'anthropic_unreachable',
    };
  }
  if (error instanceof APIConnectionError) {
    const { codes, messages } = causeChain(error.cause);
    const unsent = unsentErrorClass(error.cause);
    const detail = [...new Set([...codes, ...messages])].join(': ');
    return {
      kind: 'api_error',
      reason:
        `could not reach the Anthropic API: ${error.message}${detail ? ` (${detail})` : ''}; ` +
        `${unsent ? `${unsent.hint}; ` : ''}check the network and ANTHROPIC_BASE_URL`,
      billing: unsent ? 'not_billed' : 'unknown',
      retryable: unsent?.retryable ?? true,
      faultClass: 'anthropic_unreachable',
    };
  }
  const unsent = unsentErrorClass(error);
  if (unsent !== null) {
    // Raised while the SDK built the request (an ANTHROPIC_BASE_URL that is not a URL): it never left the process.
    return {
      kind: 'api_error',
      reason: `the request to the Anthropic API was never sent (${unsent.label}: ${error instanceof Error ? error.message : String(error)}); ${unsent.hint}; check ANTHROPIC_BASE_URL`,
      billing: 'not_billed',
      retryable: unsent.retryable,
      faultClass: 'anthropic_unreachable',
    };
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const body = error.error as { error?: { type?: unknown; message?: unknown } } | undefined;
    const type = typeof body?.error?.type === 'string' ? body.error.type : 'error';
    const apiMessage = typeof body?.error?.message === 'string' ? body.error.message : summarizeBody(error.message);
    const requestId = typeof error.requestID === 'string' ? error.requestID : undefined;
    const headers = error.headers instanceof Headers ? error.headers : undefined;
    const wait = retryAfterMs(headers);
    return {
      kind: 'api_error',
      reason: `the Anthropic API answered ${status} ${type}: ${apiMessage}${requestId ? ` (request ${requestId})` : ''}`,
      // An error answer carries no usage: nothing was billed for it.
      billing: 'not_billed',
      retryable: shouldRetryStatus(status, headers),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      ...(faultOfStatus(status) ? { faultClass: faultOfStatus(status) } : {}),
      ...(requestId ? { requestId } : {}),
      status,
    };
  }
  if (error instanceof SyntaxError) {
    // The SDK parses a JSON content type and fails on what is not JSON: an answer without usage, so not billed.
    return {
      kind: 'api_error',
      reason: `the Anthropic API answered with a body that is not valid JSON (${error.message}); it carries no usage`,
      billing: 'not_billed',
      retryable: false,
      faultClass: 'anthropic_unbilled',
    };
  }
  const name = error instanceof Error ? `${error.name}: ` : '';
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'api_error', reason: `the Anthropic API call failed: ${name}${message}`, billing: 'unknown', retryable: false };
}

/** An HTML error page says little in its first characters; keep a short, single-line excerpt. */
function summarizeBody(message: string): string {
  const flat = message
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 160 ? `${flat.slice(0, 160)}...` : flat;
}
