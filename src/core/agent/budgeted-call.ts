import type Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming, Usage } from '@anthropic-ai/sdk/resources/messages';
import type { AttemptFailure } from './anthropic-client.ts';
import { costOfUsage, estimateInputTokensUpperBound, UnpricedUsageError, worstCaseCost, type ModelPrice } from '../budget/pricing.ts';
import { formatUsd } from '../budget/money.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';

export interface TokenUsage {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface SettlementDetails {
  /**
   * True when the amount is the reservation kept for an attempt of unknown outcome (cut off after it was sent, or
   * answered with usage that has no price): an estimate, not a confirmed charge.
   */
  estimated: boolean;
  /** The API's request id, when the attempt was answered. */
  requestId?: string;
  /** Where the answered call ran (`usage.inference_geo`) and its service tier (`usage.service_tier`), as reported. */
  inferenceGeo?: string;
  serviceTier?: string;
}

export interface InvocationBudget {
  /** Holds `amountUsd` against the limit, or returns null when the limit cannot cover it. */
  reserve(amountUsd: number): Promise<{ id: string } | null>;
  /**
   * Replaces the held amount with what was actually spent, with the tokens behind it (zero for a call that failed),
   * so the spend and the session's own usage can be recorded together.
   */
  settle(reservationId: string, actualUsd: number, usage: TokenUsage, details: SettlementDetails): Promise<void>;
}

/** How a Messages API call is retried (the KTRDR client has its own rule, `RetryPolicy` in ktrdr/client.ts). */
export interface CallRetry {
  /** HTTP attempts per API call, the first included (AGENT_RETRY_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** First wait when the server names none; doubled per retry up to 8 s, with up to 25% jitter (the SDK's rule). */
  initialDelayMs?: number;
  /** For tests: how a wait is made. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

/** What the last answer's `anthropic-ratelimit-*` headers said is left (rate limits docs). */
export interface RateLimitState {
  requestsRemaining: number | null;
  inputTokensRemaining: number | null;
  outputTokensRemaining: number | null;
  resetAt: string | null;
}

/** What sizes a call's reservation and pays for it. */
export interface CallBudgetDeps {
  client: Anthropic;
  price: ModelPrice;
  maxTokens: number;
  /** `global` lets the reservation drop the 1.1x US rate. */
  inferenceGeo?: 'us' | 'global';
  /** Reserve from `messages.countTokens` (default true); the byte heuristic is the fallback. */
  countTokens?: boolean;
  budget: InvocationBudget;
  /** Defaults to one attempt per call. */
  retry?: CallRetry;
  /** Told what each answer's `anthropic-ratelimit-*` headers say is left (not called when it sent none). */
  onRateLimit?(state: RateLimitState): Promise<void> | void;
}

/** The most a request can cost: its input counted (null when counting failed or is off) and its worst case. */
export interface CallSize {
  counted: number | null;
  worstCaseUsd: number;
}

export interface CallLimits {
  /** Aborted when the invocation's time limit is reached. */
  signal: AbortSignal;
  /** When the invocation's time runs out (epoch ms), and its length, for the reason given. */
  deadline: number;
  timeoutMs: number;
  /** What the previous answer said is left of the quota; a call it cannot cover is not sent. */
  rateLimit: RateLimitState | null;
}

export type CallStop = 'budget_exhausted' | 'timeout' | 'api_error' | 'infrastructure_fault';

export type BudgetedCallResult =
  | {
      kind: 'answered';
      message: Message;
      requestId: string | null;
      /** What was booked for the call, its failed attempts included. */
      costUsd: number;
      /** Booked for the answered attempt alone. */
      answerUsd: number;
      attempts: number;
      durationMs: number;
      inputCounted: boolean;
      rateLimit: RateLimitState | null;
    }
  | {
      kind: 'stopped';
      status: CallStop;
      reason: string;
      fault?: InfrastructureFault;
      costUsd: number;
      /** Whether an attempt went out (the call then counts as one of the invocation's). */
      sent: boolean;
      rateLimit: RateLimitState | null;
    };

/** The request's input counted as a direct call counts it, and the most the call can cost at full price. */
export async function sizeCall(deps: CallBudgetDeps, request: MessageCreateParamsNonStreaming, signal: AbortSignal): Promise<CallSize> {
  const counted = deps.countTokens === false ? null : await countInputTokens(deps.client, request, signal);
  const worstCaseUsd = worstCaseCost(deps.price, {
    inputTokensUpperBound: counted ?? estimateInputTokensUpperBound(request),
    maxTokens: deps.maxTokens,
    cacheWrite: hasBreakpoint(request) ? '5m' : 'none',
    mayRunInUs: deps.inferenceGeo !== 'global',
  });
  return { counted, worstCaseUsd };
}

/**
 * One paid call: sized, reserved against the budget, sent, and settled, each attempt under its own reservation
 * (retried under `deps.retry`). Every reservation made is settled exactly once before this returns.
 */
export async function budgetedCall(deps: CallBudgetDeps, request: MessageCreateParamsNonStreaming, limits: CallLimits): Promise<BudgetedCallResult> {
  const { counted, worstCaseUsd: reservedUsd } = await sizeCall(deps, request, limits.signal);
  let rateLimit = limits.rateLimit;
  let costUsd = 0;
  let sent = false;
  const stop = (status: CallStop, reason: string, fault?: InfrastructureFault): BudgetedCallResult => ({
    kind: 'stopped',
    status,
    reason,
    ...(fault ? { fault } : {}),
    costUsd,
    sent,
    rateLimit,
  });
  if (rateLimit !== null) {
    // The last answer said how much quota is left: a call it cannot cover would only come back as a 429.
    const shortage = rateLimitShortage(rateLimit, counted ?? 0);
    if (shortage !== null) return stop('infrastructure_fault', shortage, { faultClass: 'anthropic_rate_limited', cause: shortage });
  }
  const retry = deps.retry ?? { maxAttempts: 1 };
  const maxAttempts = Math.max(1, Math.floor(retry.maxAttempts));

  let answered: { message: Message; requestId: string | null; headers: Headers; attempts: number; durationMs: number; reservationId: string } | null = null;
  for (let attempt = 1; answered === null; attempt += 1) {
    const reservation = await deps.budget.reserve(reservedUsd);
    if (reservation === null) {
      return stop('budget_exhausted', `the budget cannot cover the next request (worst case ${formatUsd(reservedUsd, 4)}), so it was not sent`);
    }
    sent = true;
    const attemptStartedAt = Date.now();
    try {
      const { data, response, request_id } = await deps.client.messages
        .create(request, { signal: limits.signal, timeout: Math.max(1, limits.deadline - Date.now()), maxRetries: 0 })
        .withResponse();
      // The reservation stays open until the usage is priced below.
      answered = {
        message: data,
        requestId: request_id ?? null,
        headers: response.headers,
        attempts: attempt,
        durationMs: Date.now() - attemptStartedAt,
        reservationId: reservation.id,
      };
    } catch (error) {
      const failure = await classify(error);
      const timedOut = limits.signal.aborted || Date.now() >= limits.deadline;
      // Nothing reached the API, or it answered without usage: $0. Cut off after sending: the reservation stays.
      const settledUsd = failure.billing === 'not_billed' ? 0 : reservedUsd;
      await deps.budget.settle(reservation.id, settledUsd, noTokens(), {
        estimated: failure.billing !== 'not_billed',
        ...(failure.requestId ? { requestId: failure.requestId } : {}),
      });
      costUsd += settledUsd;
      if (timedOut || failure.kind === 'aborted') {
        return stop('timeout', `the invocation reached its time limit of ${limits.timeoutMs} ms while waiting for the API`);
      }
      const wait = failure.retryable && attempt < maxAttempts ? retryDelayMs(failure, attempt, retry) : null;
      if (wait !== null && Date.now() + wait < limits.deadline) {
        try {
          await (retry.sleep ?? sleep)(wait, limits.signal);
        } catch {
          return stop('timeout', `the invocation reached its time limit of ${limits.timeoutMs} ms while waiting to retry`);
        }
        continue;
      }
      const tried = attempt > 1 ? ` (after ${attempt} attempts)` : '';
      const reason = `${failure.reason}${tried}`;
      if (failure.faultClass !== undefined) return stop('infrastructure_fault', reason, { faultClass: failure.faultClass, cause: reason });
      return stop('api_error', reason);
    }
  }
  const { message, requestId, headers, durationMs, reservationId } = answered;
  rateLimit = rateLimitOf(headers);
  if (rateLimit !== null) await deps.onRateLimit?.(rateLimit);

  const malformation = messageProblem(message);
  if (malformation !== null) {
    if (hasUsage(message)) {
      // Billed (it carries usage) but unusable: book what the usage says, then stop.
      const booked = await settleAnsweredUsage(deps, reservationId, reservedUsd, message.usage, requestId);
      costUsd += booked.usd;
      return stop('api_error', `the API returned a malformed message (${malformation}); its usage was booked (${formatUsd(booked.usd, 6)})`);
    }
    // An answer without usage was not billed (an HTML page from a proxy, a body that is not a message).
    await deps.budget.settle(reservationId, 0, noTokens(), { estimated: false, ...(requestId ? { requestId } : {}) });
    const reason = `the Anthropic API answered with something that is not a message (${malformation}); it carries no usage, so nothing was booked`;
    return stop('infrastructure_fault', reason, { faultClass: 'anthropic_unbilled', cause: reason });
  }

  const booked = await settleAnsweredUsage(deps, reservationId, reservedUsd, message.usage, requestId);
  costUsd += booked.usd;
  if (booked.unpriced !== null) {
    return stop('api_error', `${booked.unpriced}; the reservation of ${formatUsd(reservedUsd, 4)} was kept as spent and the agent stops`);
  }
  return {
    kind: 'answered',
    message,
    requestId,
    costUsd,
    answerUsd: booked.usd,
    attempts: answered.attempts,
    durationMs,
    inputCounted: counted !== null,
    rateLimit,
  };
}

export function tokenUsageOf(usage: Usage): TokenUsage {
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheWrite: usage.cache_creation_input_tokens ?? 0,
    cacheRead: usage.cache_read_input_tokens ?? 0,
  };
}

/**
 * Why the next call would be refused for quota (so it is not sent), or null when the quota covers it: no request
 * left, no output tokens left, or fewer input tokens left than the call's counted input.
 */
export function rateLimitShortage(state: RateLimitState, inputTokens: number): string | null {
  const until = state.resetAt ? ` until ${state.resetAt}` : '';
  if (state.requestsRemaining !== null && state.requestsRemaining < 1) {
    return `the API rate limit has no request left${until} (anthropic-ratelimit-requests-remaining: 0)`;
  }
  if (state.outputTokensRemaining !== null && state.outputTokensRemaining < 1) {
    return `the API rate limit has no output tokens left${until} (anthropic-ratelimit-output-tokens-remaining: 0)`;
  }
  if (state.inputTokensRemaining !== null && state.inputTokensRemaining < Math.max(1, inputTokens)) {
    return (
      `the API rate limit has ${state.inputTokensRemaining} input tokens left${until}, fewer than the next call's ` +
      `${inputTokens} (anthropic-ratelimit-input-tokens-remaining)`
    );
  }
  return null;
}

function noTokens(): TokenUsage {
  return { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
}

function hasBreakpoint(request: MessageCreateParamsNonStreaming): boolean {
  const marked = (blocks: unknown): boolean =>
    Array.isArray(blocks) && blocks.some((block) => typeof block === 'object' && block !== null && 'cache_control' in block);
  return marked(request.system) || marked(request.tools) || request.messages.some((message) => marked(message.content));
}

/**
 * The exact input tokens of the request (same shape, tools included), plus a margin for what the count may leave
 * out; null when counting failed, so that the caller falls back to the byte heuristic.
 */
async function countInputTokens(client: Anthropic, request: MessageCreateParamsNonStreaming, signal: AbortSignal): Promise<number | null> {
  try {
    const { model, messages, system, tools, output_config: outputConfig } = request;
    const counted = await client.messages.countTokens(
      { model, messages, ...(system ? { system } : {}), ...(tools ? { tools } : {}), ...(outputConfig ? { output_config: outputConfig } : {}) },
      { signal, maxRetries: 0 },
    );
    if (!Number.isInteger(counted.input_tokens) || counted.input_tokens < 0) return null;
    return Math.ceil(counted.input_tokens * (1 + COUNT_MARGIN)) + COUNT_MARGIN_TOKENS;
  } catch {
    return null;
  }
}

/** The count is documented as an estimate: 5% and 256 tokens on top keep the reservation an upper bound. */
const COUNT_MARGIN = 0.05;
const COUNT_MARGIN_TOKENS = 256;

async function classify(error: unknown): Promise<AttemptFailure> {
  // Loaded on failure only: the client module (and the SDK) is already loaded by then.
  const { classifyAttemptFailure } = await import('./anthropic-client.ts');
  return classifyAttemptFailure(error);
}

/** The server's wait when it named one, else the SDK's backoff: 0.5 s doubling per retry, at most 8 s, 25% jitter. */
function retryDelayMs(failure: AttemptFailure, attempt: number, retry: CallRetry): number {
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs;
  const initial = retry.initialDelayMs ?? 500;
  return Math.min(initial * 2 ** (attempt - 1), 8_000) * (1 - Math.random() * 0.25);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function rateLimitOf(headers: Headers): RateLimitState | null {
  const number = (name: string): number | null => {
    const value = headers.get(name);
    if (value === null || value.trim() === '') return null;
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  };
  const state: RateLimitState = {
    requestsRemaining: number('anthropic-ratelimit-requests-remaining'),
    inputTokensRemaining: number('anthropic-ratelimit-input-tokens-remaining'),
    outputTokensRemaining: number('anthropic-ratelimit-output-tokens-remaining'),
    resetAt: headers.get('anthropic-ratelimit-requests-reset') ?? headers.get('anthropic-ratelimit-input-tokens-reset'),
  };
  return state.requestsRemaining === null && state.inputTokensRemaining === null && state.outputTokensRemaining === null ? null : state;
}

/**
 * Books an answered attempt from its usage. Usage without a known price (fast mode, an unknown tier) fails closed:
 * the whole reservation is kept, marked estimated, and `unpriced` says why.
 */
async function settleAnsweredUsage(
  deps: CallBudgetDeps,
  reservationId: string,
  reservedUsd: number,
  usage: Usage,
  requestId: string | null,
): Promise<{ usd: number; unpriced: string | null }> {
  const ids = {
    ...(requestId ? { requestId } : {}),
    ...(usage.inference_geo ? { inferenceGeo: usage.inference_geo } : {}),
    ...(usage.service_tier ? { serviceTier: usage.service_tier } : {}),
  };
  try {
    const usd = costOfUsage(deps.price, usage);
    await deps.budget.settle(reservationId, usd, tokenUsageOf(usage), { estimated: false, ...ids });
    return { usd, unpriced: null };
  } catch (error) {
    if (!(error instanceof UnpricedUsageError)) throw error;
    await deps.budget.settle(reservationId, reservedUsd, tokenUsageOf(usage), { estimated: true, ...ids });
    return { usd: reservedUsd, unpriced: error.message };
  }
}

function hasUsage(message: unknown): message is { usage: Usage } {
  const usage = (message as { usage?: { input_tokens?: unknown; output_tokens?: unknown } | null } | null)?.usage;
  return typeof usage?.input_tokens === 'number' && typeof usage.output_tokens === 'number';
}

/** Why a message cannot be used (null when it can): the checks a direct answer gets, and a batch's result too. */
export function messageProblem(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return 'the body is not an object';
  const candidate = message as { content?: unknown; usage?: { input_tokens?: unknown; output_tokens?: unknown } | null };
  if (!Array.isArray(candidate.content)) return 'content is not a list of blocks';
  if (!candidate.content.every((block) => typeof block === 'object' && block !== null && typeof block.type === 'string')) {
    return 'a content block has no type';
  }
  if (typeof candidate.usage?.input_tokens !== 'number' || typeof candidate.usage.output_tokens !== 'number') {
    return 'usage is missing';
  }
  return null;
}
