import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A content block as a script writes it; the server fills ids, signatures and citations. */
export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string }
  | { type: 'redacted_thinking' }
  | { type: 'tool_use'; name: string; input: unknown; id?: string };

export interface ScriptedResponse {
  content: ScriptedBlock[];
  stop_reason: string;
  stop_sequence?: string;
  stop_details?: { type: 'refusal'; category: string | null; explanation: string | null };
  /** Usage fields that replace the computed ones (e.g. `speed: 'fast'`, `service_tier: 'priority'`). */
  usage?: Record<string, unknown>;
  /** Extra response headers, e.g. `anthropic-ratelimit-requests-remaining`. */
  headers?: Record<string, string>;
}

export interface ScriptedError {
  status: number;
  /** Defaults to the type the API uses for the status (rate_limit_error, overloaded_error, ...). */
  errorType?: string;
  message?: string;
  /** Seconds, sent as `retry-after`. */
  retryAfter?: number;
  /** Milliseconds, sent as `retry-after-ms`. */
  retryAfterMs?: number;
  /** Sent as `x-should-retry`, which the SDK obeys over the status. */
  shouldRetry?: boolean;
  /** Answer with an HTML page (as a proxy or load balancer does) instead of the API's JSON error. */
  html?: boolean;
}

/** A 200 whose body is JSON cut short. */
export interface ScriptedMalformed {
  malformed: true;
}

/** A 200 with exactly this JSON body (for shapes the API should never send). */
export interface ScriptedRawBody {
  rawBody: string;
}

/** A 200 whose body is an HTML page: answered, but without a message or usage. */
export interface ScriptedHtml {
  htmlPage: true;
}

/**
 * The connection is dropped after the request was read, as when a network fails after the server started
 * generating: the API may bill the request, and the client never sees an answer.
 */
export interface ScriptedDrop {
  drop: true;
}

export type ScriptReaction = (request: RecordedRequest, context: { signal: AbortSignal }) => ScriptStep | Promise<ScriptStep>;

export type ScriptStep = ScriptedResponse | ScriptedError | ScriptedMalformed | ScriptedRawBody | ScriptedHtml | ScriptedDrop | ScriptReaction;

export interface WireBlock {
  type: string;
  [field: string]: unknown;
}

export interface WireMessage {
  role: string;
  content: string | WireBlock[];
}

/** The request body as sent; only trustworthy in shape once the server answered anything but 400. */
export interface WireRequest {
  model: string;
  max_tokens: number;
  messages: WireMessage[];
  system?: string | WireBlock[];
  tools?: WireBlock[];
  tool_choice?: { type: string; [field: string]: unknown };
  thinking?: { type: string; [field: string]: unknown };
  cache_control?: { type: string; ttl?: string };
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  rawBody: string;
  body: WireRequest | undefined;
  response?: { status: number; body: string };
  /** Set when the server dropped the connection after reading the request (it may have billed it). */
  dropped?: boolean;
}

export interface FakeAnthropicOptions {
  /** When set, requests must carry exactly this key. */
  apiKey?: string;
  /** Where inference runs when a request does not say (a workspace default); `global` unless set. */
  workspaceInferenceGeo?: 'us' | 'global';
  /** When false, `count_tokens` answers 500 (to test the fallback). Default true. */
  countTokens?: boolean;
}

/** A Message Batch as the fake server holds it. */
export interface FakeBatch {
  id: string;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  cancel_initiated_at: string | null;
  processing_status: 'in_progress' | 'canceling' | 'ended';
  requests: { custom_id: string; params: WireRequest }[];
  /** One JSONL line per request, once the batch ended. */
  results: { custom_id: string; result: Record<string, unknown> }[];
  /** Counts the batch reports instead of those of its lines (a batch that lost lines). */
  countsOverride?: Partial<Record<'succeeded' | 'errored' | 'canceled' | 'expired', number>>;
}

export interface FakeAnthropic {
  /** Base URL for the SDK's `baseURL`. */
  url: string;
  /** Message Batches API requests (create, retrieve, list, cancel, results). */
  batchRequests: RecordedRequest[];
  batches: Map<string, FakeBatch>;
  /**
   * Processes every open batch as the API does when it ends: each request is validated and answered by the next
   * script step (a scripted error becomes an `errored` result); a canceling batch ends with `canceled` results.
   */
  endBatches(): Promise<void>;
  /** Ends every open batch as expired (24 hours passed before it was processed). */
  expireBatches(): void;
  /** The next create call makes its batch but drops the connection before answering (a crash between the two). */
  dropNextBatchCreate(): void;
  /** The next `count` Message Batches API calls answer 529 overloaded_error. */
  overloadBatchCalls(count: number): void;
  /** Every Message Batches call answers this status (404 or 405: a gateway or proxy without the endpoint); null undoes it. */
  batchesAnswer(status: 404 | 405 | null): void;
  /**
   * Ends every open batch with no result line at all; `billed` makes its counts say the request succeeded (the
   * script step is consumed, as a processed request would), otherwise the counts hold nothing.
   */
  endBatchesWithoutResults(options: { billed: boolean }): Promise<void>;
  /** Leaves every open batch in progress but moves its expires_at `ms` into the past (an API that never ends it). */
  overstayBatches(ms: number): void;
  /** Messages requests (count_tokens requests are in `countRequests`). */
  requests: RecordedRequest[];
  countRequests: RecordedRequest[];
  /** Appends steps; each request that passes validation consumes one. */
  script(steps: ScriptStep[]): void;
  remainingSteps(): number;
  /** Errors thrown by script reactions (also sent back as a non-retryable 500). */
  scriptErrors: unknown[];
  /** Fails unless `apiKey` appears only in the auth header of requests, and nowhere in `elsewhere`. */
  assertApiKeyConfined(apiKey: string, ...elsewhere: unknown[]): void;
  close(): Promise<void>;
}

export function text(value: string): ScriptedBlock {
  return { type: 'text', text: value };
}

export function thinking(value: string): ScriptedBlock {
  return { type: 'thinking', thinking: value };
}

export function redactedThinking(): ScriptedBlock {
  return { type: 'redacted_thinking' };
}

export function toolUse(name: string, input: unknown): ScriptedBlock {
  return { type: 'tool_use', name, input };
}

/** Models on which thinking cannot be turned off and forced tool use is refused (Opus 5.5, Fable 5.x). */
const ALWAYS_THINKING_MODELS = new Set(['claude-opus-5-5', 'claude-fable-5-1', 'claude-fable-5-2']);
/** Models released before Opus 4.6 answer 400 to `inference_geo` (data residency docs). */
const NO_INFERENCE_GEO_MODELS = new Set(['claude-haiku-4-5', 'claude-haiku-4-5-20251001', 'claude-opus-4-5', 'claude-opus-4-5-20251101']);
/** Retired models: requests fail (model deprecations page). */
const RETIRED_MODELS = new Set(['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929']);
const AUTH_HEADERS = new Set(['x-api-key', 'authorization']);
const MAX_CACHE_BREAKPOINTS = 4;
/** The API looks for an earlier cache entry at most this many blocks before each breakpoint. */
const CACHE_LOOKBACK_BLOCKS = 20;
const CHARS_PER_TOKEN = 4;

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  429: 'Number of request tokens has exceeded your per-minute rate limit',
  500: 'Internal server error',
  529: 'Overloaded',
};

class RequestRejection extends Error {
  readonly status: number;
  readonly errorType: string;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.errorType = ERROR_TYPES[status] ?? 'api_error';
  }
}

function reject(message: string): never {
  throw new RequestRejection(400, message);
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const secret = randomBytes(32);
  const queue: ScriptStep[] = [];
  const requests: RecordedRequest[] = [];
  const countRequests: RecordedRequest[] = [];
  const scriptErrors: unknown[] = [];
  const issuedSignatures = new Set<string>();
  const issuedRedactedData = new Set<string>();
  /** For each tool_use id issued: the thinking blocks (signature or data) of the response that issued it, in order. */
  const thinkingOfToolUse = new Map<string, string[]>();
  const cachedPrefixes = new Set<string>();
  const batchRequests: RecordedRequest[] = [];
  const batches = new Map<string, FakeBatch>();
  let dropCreate = false;
  let overloadedBatchCalls = 0;
  let unsupportedBatchStatus: 404 | 405 | null = null;
  let baseUrl = '';

  const signThinking = (model: string, conversationKey: string, thought: string): string =>
    createHmac('sha256', secret).update(`${model}\0${conversationKey}\0${thought}`).digest('base64');

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      scriptErrors.push(error);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json', 'x-should-retry': 'false' });
        res.end(errorBody('api_error', `fake-anthropic failed: ${String(error)}`, newId('req_011C')));
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const requestId = newId('req_011C');
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: flattenHeaders(req),
      rawBody,
      body: undefined,
    };
    const path = record.path.split('?')[0]!;
    const batchPath = path.startsWith('/v1/messages/batches');
    (path === '/v1/messages/count_tokens' ? countRequests : batchPath ? batchRequests : requests).push(record);

    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      // A client that gave up (timeout) gets nothing, and nothing is recorded as answered.
      if (res.destroyed) return;
      record.response = { status, body };
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, ...headers });
      res.end(body);
    };
    const fail = (status: number, errorType: string, message: string, headers: Record<string, string> = {}): void =>
      send(status, errorBody(errorType, message, requestId), headers);

    if (batchPath) return handleBatch(record, path, send, fail, res);
    if (record.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return fail(404, 'not_found_error', `Not found: ${record.method} ${record.path}`);
    }
    const presentedKey = presentedApiKey(record.headers);
    if (presentedKey === undefined) return fail(401, 'authentication_error', 'x-api-key header is required');
    if (options.apiKey !== undefined && presentedKey !== options.apiKey) {
      return fail(401, 'authentication_error', 'invalid x-api-key');
    }
    const version = record.headers['anthropic-version'];
    if (version === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
      return fail(400, 'invalid_request_error', 'anthropic-version: header is required and must be a date like 2023-06-01');
    }

    let body: WireRequest;
    try {
      body = JSON.parse(rawBody) as WireRequest;
    } catch {
      return fail(400, 'invalid_request_error', 'The request body is not valid JSON.');
    }
    record.body = body;
    const counting = path === '/v1/messages/count_tokens';
    try {
      validateRequest(body, counting);
    } catch (error) {
      if (error instanceof RequestRejection) return fail(error.status, error.errorType, error.message);
      throw error;
    }
    if (counting) {
      if (options.countTokens === false) return fail(500, 'api_error', 'count_tokens is unavailable', { 'x-should-retry': 'false' });
      // The same tokens the request is billed for: count_tokens counts what messages would bill as input.
      return send(200, JSON.stringify({ input_tokens: segmentsOf(body).reduce((sum, segment) => sum + segment.tokens, 0) }));
    }

    let step = queue.shift();
    if (step === undefined) {
      return fail(500, 'api_error', 'fake-anthropic: the script has no step left for this request', {
        'x-should-retry': 'false',
      });
    }
    if (typeof step === 'function') {
      const disconnected = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) disconnected.abort();
      });
      try {
        step = await step(record, { signal: disconnected.signal });
      } catch (error) {
        scriptErrors.push(error);
        return fail(500, 'api_error', `fake-anthropic: a script reaction threw: ${String(error)}`, {
          'x-should-retry': 'false',
        });
      }
      if (typeof step === 'function') step = await step(record, { signal: disconnected.signal });
    }
    if (typeof step === 'function') throw new Error('a script reaction returned a reaction that returned another');

    if ('malformed' in step) return send(200, '{"id":"msg_01","type":"message","content":[{"type":"te');
    if ('rawBody' in step) return send(200, step.rawBody);
    if ('htmlPage' in step) {
      if (res.destroyed) return;
      record.response = { status: 200, body: HTML_PAGE };
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(HTML_PAGE);
    }
    if ('drop' in step) {
      record.dropped = true;
      res.socket?.destroy();
      return;
    }
    if ('status' in step) {
      const headers: Record<string, string> = {};
      if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
      if (step.retryAfterMs !== undefined) headers['retry-after-ms'] = String(step.retryAfterMs);
      if (step.shouldRetry !== undefined) headers['x-should-retry'] = String(step.shouldRetry);
      if (step.html) {
        if (res.destroyed) return;
        record.response = { status: step.status, body: HTML_PAGE };
        res.writeHead(step.status, { 'content-type': 'text/html', ...headers });
        return void res.end(HTML_PAGE);
      }
      return fail(
        step.status,
        step.errorType ?? ERROR_TYPES[step.status] ?? 'api_error',
        step.message ?? ERROR_MESSAGES[step.status] ?? `Error ${step.status}`,
        headers,
      );
    }
    send(200, JSON.stringify(respond(body, step)), step.headers ?? {});
  }

  function validateRequest(body: WireRequest, counting: boolean): void {
    if (!isObject(body)) reject('The request body must be a JSON object.');
    if (typeof body.model !== 'string' || body.model === '') reject('model: Field required');
    if (RETIRED_MODELS.has(body.model)) throw new RequestRejection(404, `model: ${body.model} has been retired`);
    if (!counting && (!Number.isInteger(body.max_tokens) || body.max_tokens < 1)) {
      reject('max_tokens: Field required and must be an integer of at least 1');
    }
    if (counting && body.max_tokens !== undefined) reject('max_tokens: Extra inputs are not permitted');
    if (body.inference_geo !== undefined) {
      if (body.inference_geo !== 'us' && body.inference_geo !== 'global') reject('inference_geo: Input should be "us" or "global"');
      if (NO_INFERENCE_GEO_MODELS.has(body.model)) reject(`inference_geo: not supported on ${body.model}`);
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) reject('messages: at least one message is required');
    if (body.stream === true) reject('stream: this fake serves only non-streaming requests');

    const alwaysThinking = ALWAYS_THINKING_MODELS.has(body.model);
    const toolChoice = body.tool_choice?.type;
    if (alwaysThinking && (toolChoice === 'any' || toolChoice === 'tool')) {
      reject(`tool_choice: forced tool use ("${toolChoice}") is not supported with ${body.model}; use "auto" or "none".`);
    }
    const thinkingType = body.thinking?.type;
    if (alwaysThinking && (thinkingType === 'disabled' || thinkingType === 'enabled')) {
      reject(
        `"thinking.type.${thinkingType}" is not supported for this model. Use "thinking.type.adaptive" and ` +
          '"output_config.effort" to control thinking behavior.',
      );
    }

    let breakpoints = isObject(body.cache_control) ? 1 : 0;
    const countBreakpoint = (block: WireBlock): void => {
      if (isObject(block.cache_control)) breakpoints += 1;
    };

    if (body.tools !== undefined) {
      if (!Array.isArray(body.tools)) reject('tools: must be a list');
      const names = new Set<string>();
      body.tools.forEach((tool, index) => {
        if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
          reject(`tools.${index}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
        }
        if (names.has(tool.name)) reject(`tools: Tool names must be unique (${tool.name})`);
        names.add(tool.name);
        if (!isObject(tool.input_schema) || tool.input_schema.type !== 'object') {
          reject(`tools.${index}.input_schema.type: Input should be 'object'`);
        }
        countBreakpoint(tool);
      });
    }
    if (body.system !== undefined && typeof body.system !== 'string') {
      if (!Array.isArray(body.system)) reject('system: must be a string or a list of text blocks');
      body.system.forEach((block, index) => {
        if (block.type !== 'text') reject(`system.${index}.type: only text blocks are allowed in system`);
        if (typeof block.text !== 'string' || block.text === '') reject(`system.${index}.text: text content blocks must be non-empty`);
        countBreakpoint(block);
      });
    }

    // Thinking only appears in assistant messages, after the first message has been checked.
    const conversationKey = (): string => conversationKeyOf(body);
    const seenToolUseIds = new Set<string>();
    body.messages.forEach((message, index) => {
      if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant')) {
        reject(`messages.${index}.role: Input should be 'user' or 'assistant'`);
      }
      if (index === 0 && message.role !== 'user') reject('messages.0.role: the first message must use the "user" role');
      if (index > 0 && body.messages[index - 1]!.role === message.role) {
        reject(`messages.${index}.role: roles must alternate between "user" and "assistant"`);
      }
      if (typeof message.content === 'string') {
        if (message.content === '') reject(`messages.${index}.content: text content must be non-empty`);
        return;
      }
      if (!Array.isArray(message.content) || message.content.length === 0) {
        reject(`messages.${index}.content: must be a non-empty string or list of content blocks`);
      }
      message.content.forEach((block, blockIndex) => {
        const at = `messages.${index}.content.${blockIndex}`;
        if (!isObject(block) || typeof block.type !== 'string') reject(`${at}: a content block needs a type`);
        countBreakpoint(block);
        if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) {
          reject(`${at}.text: text content blocks must be non-empty`);
        }
        if (block.type === 'thinking' || block.type === 'redacted_thinking' || block.type === 'tool_use') {
          if (message.role !== 'assistant') reject(`${at}: ${block.type} blocks may only appear in assistant messages`);
        }
        if (block.type === 'thinking') {
          if (typeof block.thinking !== 'string' || typeof block.signature !== 'string') {
            reject(`${at}: thinking blocks need "thinking" and "signature" strings`);
          }
          const expected = signThinking(body.model, conversationKey(), block.thinking);
          if (block.signature !== expected || !issuedSignatures.has(block.signature)) {
            reject(`${at}: Invalid \`signature\` in \`thinking\` block`);
          }
        }
        if (block.type === 'redacted_thinking' && (typeof block.data !== 'string' || !issuedRedactedData.has(block.data))) {
          reject(`${at}: Invalid \`data\` in \`redacted_thinking\` block`);
        }
        if (block.type === 'tool_use') {
          if (typeof block.id !== 'string' || typeof block.name !== 'string') reject(`${at}: tool_use blocks need an id and a name`);
          if (seenToolUseIds.has(block.id)) reject(`${at}: tool_use ids must be unique (${block.id})`);
          seenToolUseIds.add(block.id);
        }
      });
    });
    if (breakpoints > MAX_CACHE_BREAKPOINTS) {
      reject(`A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`);
    }
    validateToolPairing(body.messages);
    validateThinkingOrder(body.messages);
  }

  function validateToolPairing(messages: WireMessage[]): void {
    messages.forEach((message, index) => {
      const blocks = blocksOf(message);
      if (message.role === 'assistant') {
        const ids = blocks.filter((block) => block.type === 'tool_use').map((block) => block.id as string);
        if (ids.length === 0) return;
        const next = messages[index + 1];
        const answered = new Set(
          next === undefined
            ? []
            : blocksOf(next)
                .filter((block) => block.type === 'tool_result')
                .map((block) => block.tool_use_id),
        );
        const unanswered = ids.filter((id) => !answered.has(id));
        if (unanswered.length > 0) {
          reject(
            `messages.${index + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ` +
              `${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
          );
        }
        return;
      }
      const previous = messages[index - 1];
      const offered = new Set(
        previous === undefined
          ? []
          : blocksOf(previous)
              .filter((block) => block.type === 'tool_use')
              .map((block) => block.id),
      );
      let seenOtherBlock = false;
      blocks.forEach((block, blockIndex) => {
        const at = `messages.${index}.content.${blockIndex}`;
        if (block.type !== 'tool_result') {
          seenOtherBlock = true;
          return;
        }
        if (seenOtherBlock) reject(`${at}: tool_result blocks must come before any other content in a user message`);
        if (!offered.has(block.tool_use_id)) {
          reject(
            `${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. ` +
              'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
          );
        }
        if (block.is_error !== undefined && typeof block.is_error !== 'boolean') reject(`${at}.is_error: Input should be a boolean`);
      });
    });
  }

  /** Thinking must come back in the order it was issued, next to the tool calls it led to. */
  function validateThinkingOrder(messages: WireMessage[]): void {
    messages.forEach((message, index) => {
      if (message.role !== 'assistant') return;
      const blocks = blocksOf(message);
      const present = blocks
        .filter((block) => block.type === 'thinking' || block.type === 'redacted_thinking')
        .map((block) => String(block.type === 'thinking' ? block.signature : block.data));
      for (const block of blocks) {
        if (block.type !== 'tool_use') continue;
        const expected = thinkingOfToolUse.get(String(block.id));
        if (expected === undefined) continue;
        let cursor = 0;
        for (const identity of present) if (identity === expected[cursor]) cursor += 1;
        if (cursor < expected.length) {
          reject(
            `messages.${index}.content: thinking blocks must be passed back unmodified and in their original order ` +
              `(the turn that called ${String(block.name)} had ${expected.length}, ${cursor} found in order)`,
          );
        }
      }
    });
  }

  function respond(request: WireRequest, step: ScriptedResponse): Record<string, unknown> {
    const conversationKey = conversationKeyOf(request);
    const thinkingIdentities: string[] = [];
    const content = step.content.map((block): Record<string, unknown> => {
      switch (block.type) {
        case 'text':
          return { type: 'text', text: block.text, citations: null };
        case 'thinking': {
          const signature = signThinking(request.model, conversationKey, block.thinking);
          issuedSignatures.add(signature);
          thinkingIdentities.push(signature);
          return { type: 'thinking', thinking: block.thinking, signature };
        }
        case 'redacted_thinking': {
          const data = `EmwK${randomBytes(48).toString('base64')}`;
          issuedRedactedData.add(data);
          thinkingIdentities.push(data);
          return { type: 'redacted_thinking', data };
        }
        case 'tool_use':
          return { type: 'tool_use', id: block.id ?? newId('toolu_01'), name: block.name, input: block.input, caller: { type: 'direct' } };
      }
    });
    for (const block of content) {
      if (block.type === 'tool_use') thinkingOfToolUse.set(String(block.id), thinkingIdentities);
    }
    return {
      id: newId('msg_01'),
      type: 'message',
      role: 'assistant',
      model: request.model,
      content,
      stop_reason: step.stop_reason,
      stop_sequence: step.stop_sequence ?? null,
      stop_details: step.stop_details ?? null,
      container: null,
      diagnostics: null,
      usage: { ...usageFor(request, step), ...step.usage },
    };
  }

  /**
   * Input tokens by prefix caching as the API does it: each breakpoint's prefix is remembered by hash; a request
   * reads the longest remembered prefix (looking back from each breakpoint), writes the rest up to its last
   * breakpoint, and pays full input only for what follows.
   */
  function usageFor(request: WireRequest, step: ScriptedResponse): Record<string, unknown> {
    const segments = segmentsOf(request);
    const hashes: string[] = [];
    let running = digest(`model:${request.model}`);
    for (const segment of segments) {
      running = digest(`${running}\n${segment.canonical}`);
      hashes.push(running);
    }
    const breakpoints = segments.flatMap((segment, index) => (segment.ttl === undefined ? [] : [index]));
    const lastBreakpoint = breakpoints.at(-1) ?? -1;
    let readEnd = -1;
    for (const breakpoint of breakpoints) {
      for (let index = breakpoint; index >= Math.max(0, breakpoint - CACHE_LOOKBACK_BLOCKS + 1); index -= 1) {
        if (cachedPrefixes.has(hashes[index]!)) {
          readEnd = Math.max(readEnd, index);
          break;
        }
      }
    }
    let cacheRead = 0;
    let write5m = 0;
    let write1h = 0;
    let input = 0;
    segments.forEach((segment, index) => {
      if (index <= readEnd) {
        cacheRead += segment.tokens;
      } else if (index <= lastBreakpoint) {
        const coveringBreakpoint = breakpoints.find((breakpoint) => breakpoint >= index)!;
        if (segments[coveringBreakpoint]!.ttl === '1h') write1h += segment.tokens;
        else write5m += segment.tokens;
      } else {
        input += segment.tokens;
      }
    });
    for (const breakpoint of breakpoints) cachedPrefixes.add(hashes[breakpoint]!);

    let thinkingTokens = 0;
    let output = 0;
    for (const block of step.content) {
      if (block.type === 'text') output += tokensIn(block.text);
      if (block.type === 'tool_use') output += tokensIn(JSON.stringify({ name: block.name, input: block.input }));
      if (block.type === 'thinking') thinkingTokens += tokensIn(block.thinking);
      if (block.type === 'redacted_thinking') thinkingTokens += 64;
    }
    output = Math.max(1, output + thinkingTokens);
    // A response never outgrows max_tokens, and one cut off by it used all of them.
    if (step.stop_reason === 'max_tokens' || output > request.max_tokens) output = request.max_tokens;
    return {
      input_tokens: input,
      output_tokens: output,
      cache_creation_input_tokens: write5m + write1h,
      cache_read_input_tokens: cacheRead,
      cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
      inference_geo: typeof request.inference_geo === 'string' ? request.inference_geo : (options.workspaceInferenceGeo ?? 'global'),
      output_tokens_details: { thinking_tokens: Math.min(thinkingTokens, output) },
      server_tool_use: null,
      service_tier: 'standard',
      speed: 'standard',
    };
  }

  function batchObject(batch: FakeBatch): Record<string, unknown> {
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    if (batch.processing_status !== 'ended') counts.processing = batch.requests.length;
    for (const line of batch.results) counts[line.result.type as 'succeeded' | 'errored' | 'canceled' | 'expired'] += 1;
    Object.assign(counts, batch.countsOverride ?? {});
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: batch.processing_status,
      request_counts: counts,
      created_at: batch.created_at,
      expires_at: batch.expires_at,
      ended_at: batch.ended_at,
      cancel_initiated_at: batch.cancel_initiated_at,
      archived_at: null,
      results_url: batch.processing_status === 'ended' ? `${baseUrl}/v1/messages/batches/${batch.id}/results` : null,
    };
  }

  function handleBatch(
    record: RecordedRequest,
    path: string,
    send: (status: number, body: string, headers?: Record<string, string>) => void,
    fail: (status: number, errorType: string, message: string) => void,
    res: ServerResponse,
  ): void {
    const presentedKey = presentedApiKey(record.headers);
    if (presentedKey === undefined) return fail(401, 'authentication_error', 'x-api-key header is required');
    if (options.apiKey !== undefined && presentedKey !== options.apiKey) return fail(401, 'authentication_error', 'invalid x-api-key');
    if (overloadedBatchCalls > 0) {
      overloadedBatchCalls -= 1;
      return fail(529, 'overloaded_error', 'Overloaded');
    }
    if (unsupportedBatchStatus !== null) return fail(unsupportedBatchStatus, 'not_found_error', `Not found: ${record.method} ${record.path}`);
    const parts = path.split('/').slice(4);
    if (record.method === 'POST' && parts.length === 0) {
      let body: { requests?: unknown };
      try {
        body = JSON.parse(record.rawBody) as { requests?: unknown };
      } catch {
        return fail(400, 'invalid_request_error', 'The request body is not valid JSON.');
      }
      if (!Array.isArray(body.requests) || body.requests.length === 0) return fail(400, 'invalid_request_error', 'requests: at least one request is required');
      const seen = new Set<string>();
      for (const item of body.requests as { custom_id?: unknown; params?: unknown }[]) {
        if (typeof item.custom_id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(item.custom_id)) {
          return fail(400, 'invalid_request_error', 'requests.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$');
        }
        if (seen.has(item.custom_id)) return fail(400, 'invalid_request_error', `requests: custom_id ${item.custom_id} is not unique`);
        seen.add(item.custom_id);
        if (!isObject(item.params)) return fail(400, 'invalid_request_error', 'requests.params: Field required');
        if ('stream' in item.params) return fail(400, 'invalid_request_error', 'requests.params.stream: not supported in a batch');
      }
      const created = new Date();
      const batch: FakeBatch = {
        id: newId('msgbatch_01'),
        created_at: created.toISOString(),
        expires_at: new Date(created.getTime() + 24 * 3_600_000).toISOString(),
        ended_at: null,
        cancel_initiated_at: null,
        processing_status: 'in_progress',
        requests: body.requests as FakeBatch['requests'],
        results: [],
      };
      batches.set(batch.id, batch);
      if (dropCreate) {
        dropCreate = false;
        record.dropped = true;
        res.socket?.destroy();
        return;
      }
      return send(200, JSON.stringify(batchObject(batch)));
    }
    if (record.method === 'GET' && parts.length === 0) {
      const data = [...batches.values()].reverse().map(batchObject);
      return send(200, JSON.stringify({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }));
    }
    const batch = batches.get(parts[0] ?? '');
    if (batch === undefined) return fail(404, 'not_found_error', `batch ${parts[0]} not found`);
    if (record.method === 'GET' && parts.length === 1) return send(200, JSON.stringify(batchObject(batch)));
    if (record.method === 'POST' && parts[1] === 'cancel') {
      if (batch.processing_status === 'in_progress') {
        batch.processing_status = 'canceling';
        batch.cancel_initiated_at = new Date().toISOString();
      }
      return send(200, JSON.stringify(batchObject(batch)));
    }
    if (record.method === 'GET' && parts[1] === 'results') {
      if (batch.processing_status !== 'ended') return fail(400, 'invalid_request_error', `batch ${batch.id} has not ended`);
      if (res.destroyed) return;
      const jsonl = batch.results.map((line) => `${JSON.stringify(line)}\n`).join('');
      record.response = { status: 200, body: jsonl };
      res.writeHead(200, { 'content-type': 'application/binary' });
      return void res.end(jsonl);
    }
    return fail(404, 'not_found_error', `Not found: ${record.method} ${record.path}`);
  }

  async function processBatchRequest(params: WireRequest): Promise<Record<string, unknown>> {
    try {
      validateRequest(params, false);
    } catch (error) {
      if (error instanceof RequestRejection) return { type: 'errored', error: { type: 'error', error: { type: error.errorType, message: error.message } } };
      throw error;
    }
    let step = queue.shift();
    if (step === undefined) return { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'fake-anthropic: no script step left' } } };
    if (typeof step === 'function')
      step = await step(
        { method: 'POST', path: '/v1/messages', headers: {}, rawBody: JSON.stringify(params), body: params },
        { signal: new AbortController().signal },
      );
    if (typeof step === 'function') throw new Error('a batch step cannot be a reaction returning a reaction');
    if ('status' in step) {
      return {
        type: 'errored',
        error: { type: 'error', error: { type: step.errorType ?? ERROR_TYPES[step.status] ?? 'api_error', message: step.message ?? `Error ${step.status}` } },
      };
    }
    if (!('content' in step)) throw new Error('a batch step must be a scripted response or error');
    const message = respond(params, step);
    return { type: 'succeeded', message: { ...message, usage: { ...(message.usage as Record<string, unknown>), service_tier: 'batch', ...step.usage } } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    batchRequests,
    batches,
    async endBatches() {
      for (const batch of batches.values()) {
        if (batch.processing_status === 'ended') continue;
        const canceled = batch.processing_status === 'canceling';
        batch.results = [];
        for (const item of batch.requests) {
          batch.results.push({ custom_id: item.custom_id, result: canceled ? { type: 'canceled' } : await processBatchRequest(item.params) });
        }
        batch.processing_status = 'ended';
        batch.ended_at = new Date().toISOString();
      }
    },
    expireBatches() {
      for (const batch of batches.values()) {
        if (batch.processing_status === 'ended') continue;
        batch.results = batch.requests.map((item) => ({ custom_id: item.custom_id, result: { type: 'expired' } }));
        batch.processing_status = 'ended';
        batch.ended_at = new Date().toISOString();
      }
    },
    dropNextBatchCreate() {
      dropCreate = true;
    },
    overloadBatchCalls(count) {
      overloadedBatchCalls = count;
    },
    batchesAnswer(status) {
      unsupportedBatchStatus = status;
    },
    async endBatchesWithoutResults({ billed }) {
      for (const batch of batches.values()) {
        if (batch.processing_status === 'ended') continue;
        if (billed) for (const item of batch.requests) await processBatchRequest(item.params);
        batch.results = [];
        batch.countsOverride = billed ? { succeeded: batch.requests.length } : {};
        batch.processing_status = 'ended';
        batch.ended_at = new Date().toISOString();
      }
    },
    overstayBatches(ms) {
      for (const batch of batches.values()) {
        if (batch.processing_status !== 'ended') batch.expires_at = new Date(Date.now() - ms).toISOString();
      }
    },
    requests,
    countRequests,
    scriptErrors,
    script(steps) {
      queue.push(...steps);
    },
    remainingSteps() {
      return queue.length;
    },
    assertApiKeyConfined(apiKey, ...elsewhere) {
      assert.ok(apiKey.length >= 8, 'use a distinctive API key so that a leak can be recognised');
      const leaks: string[] = [];
      requests.forEach((request, index) => {
        for (const [name, value] of Object.entries(request.headers)) {
          if (!AUTH_HEADERS.has(name) && value.includes(apiKey)) leaks.push(`request ${index}: header ${name}`);
        }
        if (request.path.includes(apiKey)) leaks.push(`request ${index}: path`);
        if (request.rawBody.includes(apiKey)) leaks.push(`request ${index}: body`);
        if (request.response?.body.includes(apiKey)) leaks.push(`request ${index}: response`);
      });
      elsewhere.forEach((value, index) => {
        if (deepText(value).includes(apiKey)) leaks.push(`elsewhere[${index}]`);
      });
      assert.deepEqual(leaks, [], `the API key leaked outside the auth header: ${leaks.join('; ')}`);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, rejectClose) => server.close((error) => (error ? rejectClose(error) : resolve())));
    },
  };
}

interface Segment {
  canonical: string;
  tokens: number;
  /** Set when the block carries a cache breakpoint. */
  ttl?: '5m' | '1h';
}

/** The prompt in the order the API caches it: tools, then system, then messages. */
function segmentsOf(request: WireRequest): Segment[] {
  const segments: Segment[] = [];
  const add = (kind: string, block: WireBlock): void => {
    const { cache_control: cacheControl, ...rest } = block;
    const serialized = canonical(rest);
    const segment: Segment = { canonical: `${kind}|${serialized}`, tokens: tokensIn(serialized) };
    if (isObject(cacheControl)) segment.ttl = cacheControl.ttl === '1h' ? '1h' : '5m';
    segments.push(segment);
  };
  for (const tool of request.tools ?? []) add('tool', tool);
  if (typeof request.system === 'string') add('system', { type: 'text', text: request.system });
  else for (const block of request.system ?? []) add('system', block);
  request.messages.forEach((message, index) => {
    blocksOf(message).forEach((block, blockIndex) => add(`${index}:${message.role}:${blockIndex}`, block));
  });
  // Top-level cache_control marks the last cacheable block.
  const last = segments.at(-1);
  if (last !== undefined && isObject(request.cache_control) && last.ttl === undefined) {
    last.ttl = request.cache_control.ttl === '1h' ? '1h' : '5m';
  }
  return segments;
}

/** Thinking is bound to the conversation it was produced in, identified here by its first message. */
function conversationKeyOf(request: WireRequest): string {
  return digest(canonical(stripCacheControl(blocksOf(request.messages[0]!))));
}

function blocksOf(message: WireMessage): WireBlock[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function stripCacheControl(blocks: WireBlock[]): WireBlock[] {
  return blocks.map(({ cache_control: _ignored, ...rest }) => rest as WireBlock);
}

function tokensIn(value: string): number {
  return Math.max(1, Math.ceil(value.length / CHARS_PER_TOKEN));
}

/** JSON with sorted keys, so that equal content hashes equally whatever order its keys were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

const HTML_PAGE = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function newId(prefix: string): string {
  const bytes = randomBytes(22);
  return prefix + Array.from(bytes, (byte) => BASE62[byte % BASE62.length]).join('');
}

function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
}

function presentedApiKey(headers: Readonly<Record<string, string>>): string | undefined {
  const apiKey = headers['x-api-key'];
  if (apiKey !== undefined && apiKey !== '') return apiKey;
  // SDK 1.x sends the API key as a bearer token.
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '');
  return bearer?.[1];
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Everything a value could print: errors with their stacks and causes, nested objects, maps and sets. */
function deepText(value: unknown, seen = new WeakSet<object>()): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  const parts: string[] = [];
  if (value instanceof Error) parts.push(value.name, value.message, value.stack ?? '', deepText(value.cause, seen));
  if (value instanceof Map) for (const [key, entry] of value) parts.push(deepText(key, seen), deepText(entry, seen));
  if (value instanceof Set) for (const entry of value) parts.push(deepText(entry, seen));
  for (const key of Reflect.ownKeys(value)) {
    parts.push(String(key), deepText((value as Record<PropertyKey, unknown>)[key], seen));
  }
  return parts.join('\n');
}
