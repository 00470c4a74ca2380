import type Anthropic from '@anthropic-ai/sdk';
import type { ToolErrorKind } from '../session/model.ts';
import type {
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
  ToolUseBlock,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
import type { AttemptFailure } from './anthropic-client.ts';
import { costOfUsage, estimateInputTokensUpperBound, UnpricedUsageError, worstCaseCost, type ModelPrice } from '../budget/pricing.ts';
import { isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';
import type { Effort } from '../config/schema.ts';

/** A refused call may say its kind (`ktrdr_rejected`); without one it is the tool's own refusal, `rejected`. */
export type ToolOutcome = { ok: true; content: unknown } | { ok: false; error: string; fault?: InfrastructureFault; kind?: ToolErrorKind };

export interface ToolRunContext {
  /** Aborted when the invocation's time limit is reached. */
  signal: AbortSignal;
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON schema of the input, `{ type: 'object', ... }`; sent to the API as the tool's input_schema. */
  inputSchema: Readonly<Record<string, unknown>>;
  /** Validates its own input; an invalid input is `{ ok: false, error }` with a message the model can act on. */
  run(input: unknown, context: ToolRunContext): Promise<ToolOutcome>;
}

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

export interface ResponseInfo {
  turn: number;
  usage: TokenUsage;
  costUsd: number;
  stopReason: string | null;
  durationMs: number;
  /** HTTP attempts this turn took (1 when the first was answered). */
  attempts: number;
  requestId: string | null;
  /** Part of `usage.output` spent thinking (`usage.output_tokens_details.thinking_tokens`). */
  thinkingTokens: number;
  inferenceGeo: string | null;
  serviceTier: string | null;
  /** Whether the reservation was sized from `count_tokens` (else from the request's byte size). */
  inputCounted: boolean;
}

export interface RetryPolicy {
  /** HTTP attempts per API call, the first included (AGENT_RETRY_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** First wait when the server names none; doubled per retry up to 8 s, with up to 25% jitter (the SDK's rule). */
  initialDelayMs?: number;
  /** For tests: how a wait is made. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

export interface ToolCallInfo {
  turn: number;
  name: string;
  input: unknown;
  outcome: ToolOutcome;
  durationMs: number;
  /** Usage of the response that asked for this call. */
  usage: TokenUsage;
}

export interface InvocationDeps {
  client: Anthropic;
  model: string;
  maxTokens: number;
  /** Cap on API calls, pause_turn continuations included. */
  maxTurns: number;
  /** Wall time for the whole invocation, retries and tool runs included. */
  timeoutMs: number;
  price: ModelPrice;
  system: string;
  tools: ToolDefinition[];
  firstMessage: string;
  /** Defaults to true. */
  promptCaching?: boolean;
  /**
   * The first API call of the invocation that carries cache breakpoints (default 1). A breakpoint pays a 1.25x write
   * that only a later call reads, so a phase that usually ends after one call starts caching at call 2, once a
   * second call proves the conversation continues.
   */
  cacheFromTurn?: number;
  effort?: Effort;
  /** Sent as `inference_geo` when the model supports it; `global` also lets the reservation drop the 1.1x US rate. */
  inferenceGeo?: 'us' | 'global';
  /** Defaults to one attempt per call. */
  retry?: RetryPolicy;
  /** Reserve from `messages.countTokens` (default true); the byte heuristic is the fallback. */
  countTokens?: boolean;
  budget: InvocationBudget;
  onResponse?(info: ResponseInfo): Promise<void> | void;
  onToolCall?(info: ToolCallInfo): Promise<void> | void;
  /** Told what each answer's `anthropic-ratelimit-*` headers say is left (not called when it sent none). */
  onRateLimit?(state: RateLimitState): Promise<void> | void;
  /**
   * Why an operator stops the invocation (a `pause`, or a `cancel` that ended the session), else null: asked before
   * every paid call, so the conversation stops before its next one.
   */
  operatorStop?(): Promise<string | null>;
  /** True once the phase's required effect happened (e.g. training started); the loop then stops. */
  isDone?(): boolean;
  /** Consecutive failed tool calls (unknown tool, invalid input, tool failure) tolerated; default 5. */
  maxToolErrors?: number;
  /**
   * The answer to the first call, already obtained and booked (a Message Batch result, collected on a later tick
   * than it was sent): the loop starts from it, and any later call of the invocation is sent directly.
   */
  firstAnswer?: { message: Message; costUsd: number; requestId: string | null };
}

export type InvocationStatus =
  | 'completed'
  | 'budget_exhausted'
  | 'max_turns'
  | 'max_tokens'
  | 'refusal'
  | 'timeout'
  | 'api_error'
  | 'tool_error_limit'
  | 'infrastructure_fault'
  /** An operator paused the agent or ended the session while the invocation ran. */
  | 'operator_stopped';

export interface InvocationResult {
  status: InvocationStatus;
  reason: string;
  /** API calls made. */
  turns: number;
  usage: TokenUsage;
  /** What was settled against the budget: exact for answered calls, the reservation for calls of unknown outcome. */
  costUsd: number;
  /** The model's last words: its last text, or its last thinking when it wrote no text. */
  lastText: string;
  /** Set when the invocation stopped on a fault of the world rather than a research result. */
  fault?: InfrastructureFault;
}

const DEFAULT_MAX_TOOL_ERRORS = 5;

function addUsage(total: TokenUsage, turn: TokenUsage): void {
  total.input += turn.input;
  total.output += turn.output;
  total.cacheWrite += turn.cacheWrite;
  total.cacheRead += turn.cacheRead;
}

function noTokens(): TokenUsage {
  return { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
}

type UserBlock = TextBlockParam | ToolResultBlockParam;
type ConversationTurn = { role: 'user'; content: UserBlock[] } | { role: 'assistant'; content: ContentBlock[] };

export async function invokeAgent(deps: InvocationDeps): Promise<InvocationResult> {
  const maxToolErrors = deps.maxToolErrors ?? DEFAULT_MAX_TOOL_ERRORS;
  const toolsByName = new Map(deps.tools.map((tool) => [tool.name, tool]));
  const conversation: ConversationTurn[] = [{ role: 'user', content: [{ type: 'text', text: deps.firstMessage }] }];
  const usage: TokenUsage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
  let costUsd = 0;
  let turns = 0;
  let lastText = '';
  let consecutiveToolErrors = 0;
  let lastToolError = '';

  const retry = deps.retry ?? { maxAttempts: 1 };
  const maxAttempts = Math.max(1, Math.floor(retry.maxAttempts));
  let rateLimit: RateLimitState | null = null;
  const deadline = Date.now() + deps.timeoutMs;
  const timeLimit = new AbortController();
  const timer = setTimeout(() => timeLimit.abort(), deps.timeoutMs);
  const end = (status: InvocationStatus, reason: string, fault?: InfrastructureFault): InvocationResult => ({
    status,
    reason,
    turns,
    usage: { ...usage },
    costUsd,
    lastText,
    ...(fault ? { fault } : {}),
  });

  /** Adds an answered call's tokens to the invocation's and tells `onResponse`. */
  const recordAnswer = async (
    message: Message,
    info: Pick<ResponseInfo, 'turn' | 'costUsd' | 'durationMs' | 'attempts' | 'requestId' | 'inputCounted'>,
  ): Promise<TokenUsage> => {
    const turnUsage = tokenUsageOf(message.usage);
    addUsage(usage, turnUsage);
    await deps.onResponse?.({
      ...info,
      usage: turnUsage,
      stopReason: message.stop_reason,
      thinkingTokens: message.usage.output_tokens_details?.thinking_tokens ?? 0,
      inferenceGeo: message.usage.inference_geo ?? null,
      serviceTier: message.usage.service_tier ?? null,
    });
    return turnUsage;
  };

  /** What follows an answered call: null to send the next call, or how the invocation ends. */
  const afterAnswer = async (message: Message, turnUsage: TokenUsage, turn: number): Promise<InvocationResult | null> => {
    appendAssistantContent(conversation, message.content);
    lastText = lastWordsOf(message.content) ?? lastText;

    switch (message.stop_reason) {
      case 'tool_use':
        break;
      case 'pause_turn':
        // The API paused a long turn; sending the conversation back as it is lets the model resume.
        return null;
      case 'end_turn':
        return end('completed', 'the model ended its turn');
      case 'stop_sequence':
        return end('completed', `the model produced the stop sequence ${JSON.stringify(message.stop_sequence)}`);
      case 'max_tokens':
        return end('max_tokens', maxTokensReason(message.content, deps.maxTokens));
      case 'model_context_window_exceeded':
        return end('max_tokens', "the conversation filled the model's context window before the model finished");
      case 'refusal':
        return end('refusal', refusalReason(message));
      default:
        return end(
          'api_error',
          `the API returned an unrecognised stop_reason ${JSON.stringify(message.stop_reason)}; ` + 'the agent stops rather than guess what it means',
        );
    }

    const toolCalls = message.content.filter(isToolUse);
    if (toolCalls.length === 0) {
      return end('api_error', 'the API returned stop_reason "tool_use" without any tool_use block');
    }
    const results: ToolResultBlockParam[] = [];
    for (const call of toolCalls) {
      const startedAt = Date.now();
      const outcome = await runTool(toolsByName, call, timeLimit.signal);
      results.push(toolResultBlock(call.id, outcome));
      if (outcome.ok) {
        consecutiveToolErrors = 0;
      } else {
        consecutiveToolErrors += 1;
        lastToolError = `${call.name}: ${outcome.error}`;
      }
      await deps.onToolCall?.({
        turn,
        name: call.name,
        input: call.input,
        outcome,
        durationMs: Date.now() - startedAt,
        usage: turnUsage,
      });
      // A fault of the world (a full strategies directory, KTRDR refusing our credentials) ends the invocation:
      // retrying it in more paid turns cannot help, and it is not the design's fault.
      if (!outcome.ok && outcome.fault) return end('infrastructure_fault', outcome.fault.cause, outcome.fault);
      if (!outcome.ok && outcome.kind === 'operator_stopped') return end('operator_stopped', outcome.error);
      // Later calls in the same response are not run once the phase is done: they could repeat its effect.
      if (deps.isDone?.()) break;
    }
    conversation.push({ role: 'user', content: results });

    if (!deps.isDone?.() && consecutiveToolErrors >= maxToolErrors) {
      return end('tool_error_limit', `${consecutiveToolErrors} tool calls in a row failed (limit ${maxToolErrors}); last: ${lastToolError}`);
    }
    return null;
  };

  try {
    for (;;) {
      if (deps.isDone?.()) return end('completed', "the phase's required effect happened");
      const stopped = (await deps.operatorStop?.()) ?? null;
      if (stopped !== null) return end('operator_stopped', stopped);
      if (timeLimit.signal.aborted) return end('timeout', `the invocation reached its time limit of ${deps.timeoutMs} ms`);
      if (turns >= deps.maxTurns) {
        return end('max_turns', `the model was still working after ${deps.maxTurns} API calls (maxTurns)`);
      }

      const turn = turns + 1;
      if (turn === 1 && deps.firstAnswer) {
        turns = 1;
        const { message, costUsd: firstCostUsd, requestId } = deps.firstAnswer;
        costUsd += firstCostUsd;
        const turnUsage = await recordAnswer(message, { turn, costUsd: firstCostUsd, durationMs: 0, attempts: 1, requestId, inputCounted: true });
        const next = await afterAnswer(message, turnUsage, turn);
        if (next !== null) return next;
        continue;
      }
      const request = buildRequest(deps, conversation, turn);
      const counted = deps.countTokens === false ? null : await countInputTokens(deps.client, request, timeLimit.signal);
      const inputTokensUpperBound = counted ?? estimateInputTokensUpperBound(request);
      if (rateLimit !== null) {
        // The last answer said how much quota is left: a call it cannot cover would only come back as a 429.
        const shortage = rateLimitShortage(rateLimit, counted ?? 0);
        if (shortage !== null) {
          return end('infrastructure_fault', shortage, { faultClass: 'anthropic_rate_limited', cause: shortage });
        }
      }
      const reservedUsd = worstCaseCost(deps.price, {
        inputTokensUpperBound,
        maxTokens: deps.maxTokens,
        cacheWrite: hasBreakpoint(request) ? '5m' : 'none',
        mayRunInUs: deps.inferenceGeo !== 'global',
      });

      let answered: {
        message: Message;
        requestId: string | null;
        headers: Headers;
        attempts: number;
        durationMs: number;
        reservationId: string;
      } | null = null;
      for (let attempt = 1; answered === null; attempt += 1) {
        const reservation = await deps.budget.reserve(reservedUsd);
        if (reservation === null) {
          return end('budget_exhausted', `the budget cannot cover the next request (worst case $${reservedUsd.toFixed(4)}), so it was not sent`);
        }
        // A turn counts as an API call once its first attempt is sent.
        turns = turn;
        const attemptStartedAt = Date.now();
        try {
          const { data, response, request_id } = await deps.client.messages
            .create(request, { signal: timeLimit.signal, timeout: Math.max(1, deadline - Date.now()), maxRetries: 0 })
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
          const timedOut = timeLimit.signal.aborted || Date.now() >= deadline;
          // Nothing reached the API, or it answered without usage: $0. Cut off after sending: the reservation stays.
          const settledUsd = failure.billing === 'not_billed' ? 0 : reservedUsd;
          await deps.budget.settle(reservation.id, settledUsd, noTokens(), {
            estimated: failure.billing !== 'not_billed',
            ...(failure.requestId ? { requestId: failure.requestId } : {}),
          });
          costUsd += settledUsd;
          if (timedOut || failure.kind === 'aborted') {
            return end('timeout', `the invocation reached its time limit of ${deps.timeoutMs} ms while waiting for the API`);
          }
          const wait = failure.retryable && attempt < maxAttempts ? retryDelayMs(failure, attempt, retry) : null;
          if (wait !== null && Date.now() + wait < deadline) {
            try {
              await (retry.sleep ?? sleep)(wait, timeLimit.signal);
            } catch {
              return end('timeout', `the invocation reached its time limit of ${deps.timeoutMs} ms while waiting to retry`);
            }
            continue;
          }
          const tried = attempt > 1 ? ` (after ${attempt} attempts)` : '';
          const reason = `${failure.reason}${tried}`;
          if (failure.faultClass !== undefined) return end('infrastructure_fault', reason, { faultClass: failure.faultClass, cause: reason });
          return end('api_error', reason);
        }
      }
      const { message, requestId, headers, durationMs, reservationId } = answered;
      rateLimit = rateLimitOf(headers);
      if (rateLimit !== null) await deps.onRateLimit?.(rateLimit);

      const malformation = malformationOf(message);
      if (malformation !== null) {
        if (hasUsage(message)) {
          // Billed (it carries usage) but unusable: book what the usage says, then stop.
          const booked = await settleAnsweredUsage(deps, reservationId, reservedUsd, message.usage, requestId);
          costUsd += booked.usd;
          return end('api_error', `the API returned a malformed message (${malformation}); its usage was booked ($${booked.usd.toFixed(6)})`);
        }
        // An answer without usage was not billed (an HTML page from a proxy, a body that is not a message).
        await deps.budget.settle(reservationId, 0, noTokens(), { estimated: false, ...(requestId ? { requestId } : {}) });
        const reason = `the Anthropic API answered with something that is not a message (${malformation}); it carries no usage, so nothing was booked`;
        return end('infrastructure_fault', reason, { faultClass: 'anthropic_unbilled', cause: reason });
      }

      const booked = await settleAnsweredUsage(deps, reservationId, reservedUsd, message.usage, requestId);
      costUsd += booked.usd;
      if (booked.unpriced !== null) {
        return end('api_error', `${booked.unpriced}; the reservation of $${reservedUsd.toFixed(4)} was kept as spent and the agent stops`);
      }
      const turnUsage = await recordAnswer(message, {
        turn,
        costUsd: booked.usd,
        durationMs,
        attempts: answered.attempts,
        requestId,
        inputCounted: counted !== null,
      });
      const next = await afterAnswer(message, turnUsage, turn);
      if (next !== null) return next;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The invocation's first request and the most it can cost at full price, for sending it as a Message Batch; the
 * input is counted as a direct call would count it.
 */
export async function firstCallOf(deps: InvocationDeps, signal: AbortSignal): Promise<{ request: MessageCreateParamsNonStreaming; worstCaseUsd: number }> {
  const request = buildRequest(deps, [{ role: 'user', content: [{ type: 'text', text: deps.firstMessage }] }], 1);
  const counted = deps.countTokens === false ? null : await countInputTokens(deps.client, request, signal);
  const worstCaseUsd = worstCaseCost(deps.price, {
    inputTokensUpperBound: counted ?? estimateInputTokensUpperBound(request),
    maxTokens: deps.maxTokens,
    cacheWrite: hasBreakpoint(request) ? '5m' : 'none',
    mayRunInUs: deps.inferenceGeo !== 'global',
  });
  return { request, worstCaseUsd };
}

/** Why a message cannot be used (null when it can): the checks a direct answer gets. */
export function messageProblem(message: unknown): string | null {
  return malformationOf(message);
}

function buildRequest(deps: InvocationDeps, conversation: readonly ConversationTurn[], turn: number): MessageCreateParamsNonStreaming {
  // Breakpoints only where a later call reads them: the system block (tools and system form the prefix every call
  // of the phase shares) and the newest user message (the conversation so far, read by the next call; earlier
  // entries are found again by the API's lookback). No breakpoint on the tools alone: below the minimum cacheable
  // length (512 tokens on the 5.x models, prompt caching docs) it creates nothing and only uses up one of four.
  const caching = (deps.promptCaching ?? true) && turn >= (deps.cacheFromTurn ?? 1);
  const tools: Tool[] = deps.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.inputSchema as Tool.InputSchema,
  }));
  const system: TextBlockParam[] =
    deps.system === '' ? [] : [{ type: 'text', text: deps.system, ...(caching ? { cache_control: { type: 'ephemeral' } } : {}) }];
  // Thinking is never sent: adaptive thinking is the default on the 5.x models, and `disabled` or `budget_tokens`
  // is refused on the always-thinking ones (Opus 5.5, Fable 5.x). Effort exists only for adaptive thinking.
  const effort = deps.effort !== undefined && deps.price.thinking !== 'extended' ? deps.effort : undefined;
  return {
    model: deps.model,
    max_tokens: deps.maxTokens,
    ...(system.length > 0 ? { system } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(effort !== undefined ? { output_config: { effort } } : {}),
    ...(deps.inferenceGeo !== undefined && deps.price.inferenceGeo ? { inference_geo: deps.inferenceGeo } : {}),
    messages: toMessageParams(conversation, caching),
  };
}

function toMessageParams(conversation: readonly ConversationTurn[], caching: boolean): MessageParam[] {
  const newestUserTurn = conversation.findLastIndex((turn) => turn.role === 'user');
  return conversation.map((turn, index): MessageParam => {
    if (turn.role === 'assistant') {
      // Sent back exactly as received: thinking signatures are checked by the API.
      return { role: 'assistant', content: turn.content as ContentBlockParam[] };
    }
    if (!caching || index !== newestUserTurn) return { role: 'user', content: turn.content };
    const content = [...turn.content];
    const lastBlock = content.at(-1);
    if (lastBlock !== undefined) content[content.length - 1] = { ...lastBlock, cache_control: { type: 'ephemeral' } };
    return { role: 'user', content };
  });
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
function retryDelayMs(failure: AttemptFailure, attempt: number, retry: RetryPolicy): number {
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

/** What the last answer's `anthropic-ratelimit-*` headers said is left (rate limits docs). */
export interface RateLimitState {
  requestsRemaining: number | null;
  inputTokensRemaining: number | null;
  outputTokensRemaining: number | null;
  resetAt: string | null;
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

/** A pause_turn continuation extends the paused assistant turn rather than starting a second one in a row. */
function appendAssistantContent(conversation: ConversationTurn[], content: ContentBlock[]): void {
  const last = conversation.at(-1);
  if (last?.role === 'assistant') {
    last.content.push(...content);
  } else {
    conversation.push({ role: 'assistant', content: [...content] });
  }
}

function isToolUse(block: ContentBlock): block is ToolUseBlock {
  return block.type === 'tool_use';
}

async function runTool(toolsByName: ReadonlyMap<string, ToolDefinition>, call: ToolUseBlock, signal: AbortSignal): Promise<ToolOutcome> {
  const tool = toolsByName.get(call.name);
  if (tool === undefined) {
    return { ok: false, error: `Unknown tool "${call.name}". Available tools: ${[...toolsByName.keys()].join(', ')}.` };
  }
  try {
    const outcome: unknown = await tool.run(call.input, { signal });
    if (isToolOutcome(outcome)) return outcome;
    return { ok: false, error: `Tool "${call.name}" returned no valid outcome; this is a defect in the agent, not in the input.` };
  } catch (error) {
    if (isInfrastructureFault(error)) {
      return { ok: false, error: `Tool "${call.name}" could not run: ${error.fault.cause}`, fault: error.fault };
    }
    return { ok: false, error: `Tool "${call.name}" failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function isToolOutcome(value: unknown): value is ToolOutcome {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { ok?: unknown; error?: unknown };
  if (candidate.ok === true) return 'content' in candidate;
  return candidate.ok === false && typeof candidate.error === 'string';
}

function toolResultBlock(toolUseId: string, outcome: ToolOutcome): ToolResultBlockParam {
  if (!outcome.ok) {
    return {
      type: 'tool_result',
      tool_use_id: toolUseId,
      content: outcome.error.trim() === '' ? 'The tool failed without saying why.' : outcome.error,
      is_error: true,
    };
  }
  return { type: 'tool_result', tool_use_id: toolUseId, content: renderToolContent(outcome.content) };
}

function renderToolContent(content: unknown): string {
  if (typeof content === 'string') return content === '' ? '(empty result)' : content;
  if (content === undefined) return '(no result)';
  try {
    return JSON.stringify(content) ?? String(content);
  } catch {
    return String(content);
  }
}

/**
 * Books an answered attempt from its usage. Usage without a known price (fast mode, an unknown tier) fails closed:
 * the whole reservation is kept, marked estimated, and `unpriced` says why.
 */
async function settleAnsweredUsage(
  deps: InvocationDeps,
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

function tokenUsageOf(usage: Usage): TokenUsage {
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheWrite: usage.cache_creation_input_tokens ?? 0,
    cacheRead: usage.cache_read_input_tokens ?? 0,
  };
}

function malformationOf(message: unknown): string | null {
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

function lastWordsOf(content: readonly ContentBlock[]): string | undefined {
  const text = content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n')
    .trim();
  if (text !== '') return text;
  const thinking = content
    .flatMap((block) => (block.type === 'thinking' ? [block.thinking] : []))
    .join('\n')
    .trim();
  return thinking === '' ? undefined : thinking;
}

function maxTokensReason(content: readonly ContentBlock[], maxTokens: number): string {
  const lastBlock = content.at(-1);
  if (lastBlock?.type === 'tool_use') {
    return (
      `the response reached max_tokens (${maxTokens}) while writing a call to tool "${lastBlock.name}", so its ` +
      'input is incomplete and no tool was run; raise maxTokens'
    );
  }
  return `the response reached max_tokens (${maxTokens}) before the model finished; raise maxTokens`;
}

function refusalReason(message: Message): string {
  const details = message.stop_details;
  const category = details?.category ? ` (category: ${details.category})` : '';
  const explanation = details?.explanation ? `: ${details.explanation}` : '';
  return `the model declined to continue${category}${explanation}`;
}
