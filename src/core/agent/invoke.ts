import type Anthropic from '@anthropic-ai/sdk';
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
import { costOfUsage, estimateInputTokensUpperBound, worstCaseCost, type ModelPrice } from './pricing.ts';
import { isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';

export type ToolOutcome = { ok: true; content: unknown } | { ok: false; error: string; fault?: InfrastructureFault };

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

export interface InvocationBudget {
  /** Holds `amountUsd` against the limit, or returns null when the limit cannot cover it. */
  reserve(amountUsd: number): Promise<{ id: string } | null>;
  /** Replaces the held amount with what was actually spent. */
  /**
   * Replaces the held amount with what was actually spent, with the tokens behind it (zero for a call that failed),
   * so the spend and the session's own usage can be recorded together.
   */
  settle(reservationId: string, actualUsd: number, usage: TokenUsage): Promise<void>;
}

export interface ResponseInfo {
  turn: number;
  usage: TokenUsage;
  costUsd: number;
  stopReason: string | null;
  durationMs: number;
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
  budget: InvocationBudget;
  onResponse?(info: ResponseInfo): Promise<void> | void;
  onToolCall?(info: ToolCallInfo): Promise<void> | void;
  /** True once the phase's required effect happened (e.g. training started); the loop then stops. */
  isDone?(): boolean;
  /** Consecutive failed tool calls (unknown tool, invalid input, tool failure) tolerated; default 5. */
  maxToolErrors?: number;
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
  | 'infrastructure_fault';

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

  try {
    for (;;) {
      if (deps.isDone?.()) return end('completed', "the phase's required effect happened");
      if (timeLimit.signal.aborted) return end('timeout', `the invocation reached its time limit of ${deps.timeoutMs} ms`);
      if (turns >= deps.maxTurns) {
        return end('max_turns', `the model was still working after ${deps.maxTurns} API calls (maxTurns)`);
      }

      const request = buildRequest(deps, conversation);
      const reservedUsd = worstCaseCost(deps.price, {
        inputTokensUpperBound: estimateInputTokensUpperBound(request),
        maxTokens: deps.maxTokens,
      });
      const reservation = await deps.budget.reserve(reservedUsd);
      if (reservation === null) {
        return end(
          'budget_exhausted',
          `the budget cannot cover the next request (worst case $${reservedUsd.toFixed(4)}), so it was not sent`,
        );
      }

      turns += 1;
      const turn = turns;
      const callStartedAt = Date.now();
      let message: Message;
      try {
        message = await deps.client.messages.create(request, {
          signal: timeLimit.signal,
          timeout: Math.max(1, deadline - Date.now()),
        });
      } catch (error) {
        const failure = describeCallFailure(error, timeLimit.signal.aborted, deps.timeoutMs);
        // An answered error is not billed; a call cut off in flight may have been, so it keeps its reservation.
        const settledUsd = failure.billing === 'not_billed' ? 0 : reservedUsd;
        await deps.budget.settle(reservation.id, settledUsd, noTokens());
        costUsd += settledUsd;
        return end(failure.status, failure.reason);
      }
      const durationMs = Date.now() - callStartedAt;

      const malformation = malformationOf(message);
      if (malformation !== null) {
        await deps.budget.settle(reservation.id, reservedUsd, noTokens());
        costUsd += reservedUsd;
        return end(
          'api_error',
          `the API returned a malformed message (${malformation}); its cost is unknown, so the reservation of ` +
            `$${reservedUsd.toFixed(4)} was kept as spent`,
        );
      }

      const turnCostUsd = costOfUsage(deps.price, message.usage);
      const turnUsage = tokenUsageOf(message.usage);
      await deps.budget.settle(reservation.id, turnCostUsd, turnUsage);
      costUsd += turnCostUsd;
      usage.input += turnUsage.input;
      usage.output += turnUsage.output;
      usage.cacheWrite += turnUsage.cacheWrite;
      usage.cacheRead += turnUsage.cacheRead;
      await deps.onResponse?.({ turn, usage: turnUsage, costUsd: turnCostUsd, stopReason: message.stop_reason, durationMs });

      appendAssistantContent(conversation, message.content);
      lastText = lastWordsOf(message.content) ?? lastText;

      switch (message.stop_reason) {
        case 'tool_use':
          break;
        case 'pause_turn':
          // The API paused a long turn; sending the conversation back as it is lets the model resume.
          continue;
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
            `the API returned an unrecognised stop_reason ${JSON.stringify(message.stop_reason)}; ` +
              'the agent stops rather than guess what it means',
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
        // Later calls in the same response are not run once the phase is done: they could repeat its effect.
        if (deps.isDone?.()) break;
      }
      conversation.push({ role: 'user', content: results });

      if (!deps.isDone?.() && consecutiveToolErrors >= maxToolErrors) {
        return end(
          'tool_error_limit',
          `${consecutiveToolErrors} tool calls in a row failed (limit ${maxToolErrors}); last: ${lastToolError}`,
        );
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function buildRequest(deps: InvocationDeps, conversation: readonly ConversationTurn[]): MessageCreateParamsNonStreaming {
  const caching = deps.promptCaching ?? true;
  // Three breakpoints, under the API's limit of four: tools and system form the stable prefix, and the newest user
  // message caches the conversation so far (earlier breakpoints are found again by the API's lookback).
  const tools: Tool[] = deps.tools.map((tool, index) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.inputSchema as Tool.InputSchema,
    ...(caching && index === deps.tools.length - 1 ? { cache_control: { type: 'ephemeral' } } : {}),
  }));
  const system: TextBlockParam[] =
    deps.system === '' ? [] : [{ type: 'text', text: deps.system, ...(caching ? { cache_control: { type: 'ephemeral' } } : {}) }];
  return {
    model: deps.model,
    max_tokens: deps.maxTokens,
    ...(system.length > 0 ? { system } : {}),
    ...(tools.length > 0 ? { tools } : {}),
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

async function runTool(
  toolsByName: ReadonlyMap<string, ToolDefinition>,
  call: ToolUseBlock,
  signal: AbortSignal,
): Promise<ToolOutcome> {
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

interface CallFailure {
  status: 'api_error' | 'timeout';
  reason: string;
  billing: 'not_billed' | 'unknown';
}

const RETRIED_STATUSES = new Set([408, 409, 429]);

/**
 * Builds the reason from the SDK error's status, type and API message only: its headers and request options are
 * never read, so no credential can reach the reason.
 */
function describeCallFailure(error: unknown, timedOut: boolean, timeoutMs: number): CallFailure {
  if (timedOut) {
    return {
      status: 'timeout',
      reason: `the invocation reached its time limit of ${timeoutMs} ms while waiting for the API`,
      billing: 'unknown',
    };
  }
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    status?: unknown;
    type?: unknown;
    apiMessage?: unknown;
    requestID?: unknown;
    cause?: unknown;
  };
  const message = typeof fields.message === 'string' ? fields.message : String(error);
  if (typeof fields.status === 'number') {
    const status = fields.status;
    const type = typeof fields.type === 'string' ? fields.type : 'error';
    const apiMessage = typeof fields.apiMessage === 'string' ? fields.apiMessage : message;
    const requestId = typeof fields.requestID === 'string' ? ` (request ${fields.requestID})` : '';
    const retried = RETRIED_STATUSES.has(status) || status >= 500 ? ' after the client retried it' : '';
    return {
      status: 'api_error',
      reason: `the Anthropic API answered ${status} ${type}${retried}: ${apiMessage}${requestId}`,
      billing: 'not_billed',
    };
  }
  if (fields.name === 'APIConnectionTimeoutError') {
    return { status: 'timeout', reason: `the Anthropic API did not answer in time (${message})`, billing: 'unknown' };
  }
  if (fields.name === 'APIConnectionError') {
    const causes = causeMessages(fields.cause);
    return {
      status: 'api_error',
      reason:
        `could not reach the Anthropic API: ${message}${causes.length > 0 ? ` (${causes.join(': ')})` : ''}; ` +
        'check the network and ANTHROPIC_BASE_URL',
      billing: 'unknown',
    };
  }
  if (error instanceof SyntaxError) {
    return {
      status: 'api_error',
      reason: `the Anthropic API answered with a body that is not valid JSON (${message}); its cost is unknown`,
      billing: 'unknown',
    };
  }
  const name = typeof fields.name === 'string' ? `${fields.name}: ` : '';
  return { status: 'api_error', reason: `the Anthropic API call failed: ${name}${message}`, billing: 'unknown' };
}

/** Messages down an error's cause chain, where network errors keep the useful part (e.g. ECONNREFUSED). */
function causeMessages(cause: unknown): string[] {
  const messages: string[] = [];
  for (let current = cause, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1) {
    messages.push(current.message);
  }
  return messages;
}
