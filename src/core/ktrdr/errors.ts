import type { InfrastructureFault } from '../kernel/faults.ts';
import { maskUrlCredentials } from '../kernel/secrets.ts';
import { isRecord } from '../kernel/records.ts';
/**
 * Every failure of a KTRDR call becomes one `KtrdrError`. KTRDR has no single error envelope (CONTRACT §1), so
 * `errorFromResponse` reads the four shapes it uses and keeps a `code` a caller can branch on.
 */

export type KtrdrErrorKind = 'transport' | 'timeout' | 'http' | 'invalid_response';

export interface KtrdrErrorInit {
  kind: KtrdrErrorKind;
  /** HTTP status, or null when no response came back (transport failure or timeout). */
  status: number | null;
  code: string;
  message: string;
  details?: unknown;
  /** Whether the failure is transient. Whether a request is actually retried also depends on its idempotence. */
  retryable: boolean;
  method?: string;
  route?: string;
  cause?: unknown;
}

export class KtrdrError extends Error {
  override readonly name = 'KtrdrError';
  readonly kind: KtrdrErrorKind;
  readonly status: number | null;
  readonly code: string;
  readonly details: unknown;
  readonly retryable: boolean;
  readonly method: string | undefined;
  readonly route: string | undefined;

  constructor(init: KtrdrErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? null;
    this.retryable = init.retryable;
    this.method = init.method;
    this.route = init.route;
  }

  /** True for a 404: the operation, checkpoint, file or data asked for does not exist. */
  get isNotFound(): boolean {
    return this.status === 404;
  }

  /** The one 503 that means "no worker could take this": retrying later may succeed. */
  get isWorkerUnavailable(): boolean {
    return this.code === 'WORKER_UNAVAILABLE';
  }

  /** KTRDR did not answer, or failed on its side (5xx). A call abandoned because its caller ended says nothing of KTRDR. */
  get isUnreachable(): boolean {
    return this.code !== 'ABORTED' && (this.kind === 'transport' || this.kind === 'timeout' || (this.status !== null && this.status >= 500));
  }
}

/**
 * The fault of the world a KTRDR failure is: refused credentials, up but busy (429, or a 503 with no free worker),
 * or not reachable at all.
 */
export function ktrdrFaultOf(error: unknown): InfrastructureFault & { faultClass: 'ktrdr_auth' | 'ktrdr_busy' | 'ktrdr_unreachable' } {
  const ktrdr = error instanceof KtrdrError ? error : null;
  const message = (error as Error).message;
  if (ktrdr && (ktrdr.status === 401 || ktrdr.status === 403)) return { faultClass: 'ktrdr_auth', cause: `KTRDR: ${message}` };
  if (ktrdr && (ktrdr.status === 429 || ktrdr.isWorkerUnavailable)) return { faultClass: 'ktrdr_busy', cause: `KTRDR busy: ${message}` };
  return { faultClass: 'ktrdr_unreachable', cause: `KTRDR: ${message}` };
}

/**
 * The fault of the world a failed KTRDR call was (down, 5xx, refused credentials, busy), or null when KTRDR answered
 * about the request itself (a 4xx such as a validation error): that one is a research result.
 */
export function ktrdrFaultIn(error: unknown): ReturnType<typeof ktrdrFaultOf> | null {
  if (!(error instanceof KtrdrError)) return null;
  const fault = error.isUnreachable || error.status === 401 || error.status === 403 || error.status === 429 || error.isWorkerUnavailable;
  return fault ? ktrdrFaultOf(error) : null;
}

/**
 * For a call whose answer the system needs to decide anything (a lockbox boundary, a validation window), not one a
 * model reads as a tool result: an answer out of contract (too large, malformed) is KTRDR misbehaving, a fault of the
 * world like an outage, so the work waits for KTRDR instead of failing a session or the pass.
 */
export function ktrdrFaultForDecision(error: unknown): ReturnType<typeof ktrdrFaultOf> | null {
  const fault = ktrdrFaultIn(error);
  if (fault) return fault;
  if (error instanceof KtrdrError && error.kind === 'invalid_response')
    return { faultClass: 'ktrdr_unreachable', cause: `KTRDR answered out of contract: ${error.message}` };
  return null;
}

interface RequestContext {
  method: string;
  route: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const statusCodes: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'VALIDATION_ERROR',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

function codeForStatus(status: number): string {
  return statusCodes[status] ?? `HTTP_${status}`;
}

/** 5xx are transient (server trouble, no worker); 4xx say the request itself is wrong and will fail again. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500;
}

function describeValidationItems(items: unknown[]): string {
  return items
    .map((item) => {
      if (!isRecord(item)) return String(item);
      // KTRDR's handler writes {field,message,type}; FastAPI's default writes {loc,msg,type}.
      const field = text(item.field) ?? (Array.isArray(item.loc) ? item.loc.join(' -> ') : undefined);
      const message = text(item.message) ?? text(item.msg) ?? 'invalid';
      return field ? `${field}: ${message}` : message;
    })
    .join('; ');
}

function configurationErrorMessage(detail: Record<string, unknown>): string {
  const parts = [text(detail.message) ?? 'configuration error'];
  const details = detail.details;
  if (isRecord(details) && Array.isArray(details.errors) && details.errors.length > 0) {
    parts.push(details.errors.map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry))).join('; '));
  }
  const suggestion = text(detail.suggestion);
  if (suggestion) parts.push(`Suggestion: ${suggestion}`);
  return parts.join('. ');
}

function workerUnavailableMessage(detail: Record<string, unknown>): string {
  const parts = [text(detail.error) ?? 'no worker available'];
  const facts: string[] = [];
  if (text(detail.worker_type)) facts.push(`worker type ${String(detail.worker_type)}`);
  if (typeof detail.registered_workers === 'number') facts.push(`${detail.registered_workers} registered`);
  if (facts.length > 0) parts[0] += ` (${facts.join(', ')})`;
  const hint = text(detail.hint);
  if (hint) parts.push(hint);
  return parts.join('. ');
}

interface ParsedBody {
  code: string;
  message: string;
  details: unknown;
}

function parseErrorBody(status: number, body: unknown, rawText: string): ParsedBody {
  if (isRecord(body)) {
    // Shape 1: KTRDR's global handlers.
    if (body.success === false && isRecord(body.error)) {
      const error = body.error;
      const code = text(error.code) ?? codeForStatus(status);
      let message = text(error.message) ?? 'request failed';
      if (code === 'VALIDATION_ERROR' && Array.isArray(error.details) && error.details.length > 0) {
        message = `${message}: ${describeValidationItems(error.details)}`;
      }
      return { code, message, details: error.details ?? null };
    }
    // Shape 2: FastAPI HTTPException.
    if ('detail' in body) {
      const detail = body.detail;
      if (typeof detail === 'string') return { code: codeForStatus(status), message: detail, details: null };
      if (Array.isArray(detail)) {
        return { code: 'VALIDATION_ERROR', message: `request validation failed: ${describeValidationItems(detail)}`, details: detail };
      }
      if (isRecord(detail)) {
        if (text(detail.error_code) || 'suggestion' in detail) {
          return { code: text(detail.error_code) ?? 'CONFIGURATION_ERROR', message: configurationErrorMessage(detail), details: detail };
        }
        if ('worker_type' in detail || 'registered_workers' in detail || 'hint' in detail) {
          return { code: 'WORKER_UNAVAILABLE', message: workerUnavailableMessage(detail), details: detail };
        }
        const message = text(detail.message) ?? text(detail.error) ?? JSON.stringify(detail);
        return { code: text(detail.code) ?? codeForStatus(status), message, details: detail };
      }
    }
    // Shape 3: agent endpoints answer {reason} (e.g. budget_exhausted, at_capacity).
    const reason = text(body.reason);
    if (reason) {
      const message = text(body.message) ? `${reason}: ${String(body.message)}` : reason;
      return { code: reason, message, details: body };
    }
    const message = text(body.message) ?? text(body.error) ?? JSON.stringify(body);
    return { code: codeForStatus(status), message, details: body };
  }
  const trimmed = rawText.trim();
  const message = trimmed.length > 0 ? trimmed.slice(0, 500) : `HTTP ${status} with an empty body`;
  return { code: codeForStatus(status), message, details: null };
}

/** Builds the error for a non-2xx response; `rawText` is the body as received (it may not be JSON). */
export function errorFromResponse(status: number, rawText: string, context: RequestContext): KtrdrError {
  let body: unknown = null;
  try {
    body = rawText.length > 0 ? JSON.parse(rawText) : null;
  } catch {
    body = null;
  }
  const parsed = parseErrorBody(status, body, rawText);
  return new KtrdrError({
    kind: 'http',
    status,
    code: parsed.code,
    message: `KTRDR answered ${context.method} ${context.route} with HTTP ${status} (${parsed.code}): ${parsed.message}`,
    details: parsed.details,
    retryable: isRetryableStatus(status),
    method: context.method,
    route: context.route,
  });
}

/** A failure before any response: connection refused or reset, DNS, socket closed mid-response. */
export function transportError(cause: unknown, baseUrl: string, context: RequestContext): KtrdrError {
  const inner = isRecord(cause) && 'cause' in cause ? (cause as { cause?: unknown }).cause : undefined;
  const innerCode = isRecord(inner) ? text(inner.code) : undefined;
  const innerMessage = inner instanceof Error ? inner.message : undefined;
  const outerMessage = cause instanceof Error ? cause.message : String(cause);
  const reason = innerMessage ?? outerMessage;
  return new KtrdrError({
    kind: 'transport',
    status: null,
    code: innerCode ?? 'TRANSPORT_ERROR',
    message: `Could not reach KTRDR for ${context.method} ${context.route} at ${maskUrlCredentials(baseUrl)}: ${reason}. Check that the backend is running and that KTRDR_API_URL points at it.`,
    retryable: true,
    method: context.method,
    route: context.route,
    cause,
  });
}

export function timeoutError(timeoutMs: number, context: RequestContext, cause: unknown): KtrdrError {
  return new KtrdrError({
    kind: 'timeout',
    status: null,
    code: 'TIMEOUT',
    message: `KTRDR did not answer ${context.method} ${context.route} within ${timeoutMs} ms. The backend may be overloaded; raise KTRDR_TIMEOUT_SECONDS if this persists.`,
    retryable: true,
    method: context.method,
    route: context.route,
    cause,
  });
}

/** A 2xx whose body is not what the contract promises; `fieldPath` names the first field that is wrong. */
export function invalidResponseError(status: number, fieldPath: string, problem: string, context: RequestContext, details?: unknown): KtrdrError {
  return new KtrdrError({
    kind: 'invalid_response',
    status,
    code: 'INVALID_RESPONSE',
    message: `KTRDR's answer to ${context.method} ${context.route} does not match the contract: ${fieldPath === '' ? '(body)' : fieldPath}: ${problem}. The backend version may differ from the one this agent was built for.`,
    details: { field: fieldPath, ...(typeof details === 'object' && details !== null ? details : {}) },
    retryable: false,
    method: context.method,
    route: context.route,
  });
}

/** A body over the client's bound (KTRDR_MAX_RESPONSE_MIB): KTRDR's fault, refused before it fills the memory. */
export function responseTooLargeError(status: number, limitBytes: number, context: RequestContext): KtrdrError {
  return new KtrdrError({
    kind: 'invalid_response',
    status,
    code: 'RESPONSE_TOO_LARGE',
    message: `KTRDR's answer to ${context.method} ${context.route} is larger than ${limitBytes} bytes, the most this agent reads (KTRDR_MAX_RESPONSE_MIB). KTRDR is misbehaving, or raise the setting if such answers are expected.`,
    retryable: false,
    method: context.method,
    route: context.route,
  });
}

/** The caller gave up (its invocation ended): the request, or the wait before its retry, was abandoned. */
export function abortedError(reason: unknown, context: RequestContext): KtrdrError {
  return new KtrdrError({
    kind: 'timeout',
    status: null,
    code: 'ABORTED',
    message: `The KTRDR call ${context.method} ${context.route} was abandoned: the invocation it belonged to ended.`,
    retryable: false,
    method: context.method,
    route: context.route,
    cause: reason,
  });
}
