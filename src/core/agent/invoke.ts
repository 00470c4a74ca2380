import type {
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { InfrastructureFault } from '../kernel/faults.ts';
import type { Effort } from '../config/schema.ts';
import { budgetedCall, sizeCall, tokenUsageOf, type CallBudgetDeps, type RateLimitState, type TokenUsage } from './budgeted-call.ts';
import { isToolUse, runTool, toolResultBlock, type ToolDefinition, type ToolOutcome } from './tool-dispatch.ts';

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

export interface ToolCallInfo {
  turn: number;
  name: string;
  input: unknown;
  outcome: ToolOutcome;
  durationMs: number;
  /** Usage of the response that asked for this call. */
  usage: TokenUsage;
}

/** The call's budget, price, retries and quota come from `CallBudgetDeps` (budgeted-call.ts). */
export interface InvocationDeps extends CallBudgetDeps {
  model: string;
  /** Cap on API calls, pause_turn continuations included. */
  maxTurns: number;
  /** Wall time for the whole invocation, retries and tool runs included. */
  timeoutMs: number;
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
  onResponse?(info: ResponseInfo): Promise<void> | void;
  onToolCall?(info: ToolCallInfo): Promise<void> | void;
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

type UserBlock = TextBlockParam | ToolResultBlockParam;
type ConversationTurn = { role: 'user'; content: UserBlock[] } | { role: 'assistant'; content: ContentBlock[] };

/**
 * The tool round: the conversation with the model, one budgeted call per turn (budgeted-call.ts), the tools each
 * answer asks for run in order (tool-dispatch.ts), until the model ends its turn, the phase's effect happens, or a
 * limit (turns, time, budget, failed tools, an operator) stops it.
 */
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

  /** Runs the tools an answer asked for, in order; null to send the results back, or how the invocation ends. */
  const runToolCalls = async (message: Message, turnUsage: TokenUsage, turn: number): Promise<InvocationResult | null> => {
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

  /** What follows an answered call: null to send the next call, or how the invocation ends. */
  const afterAnswer = async (message: Message, turnUsage: TokenUsage, turn: number): Promise<InvocationResult | null> => {
    appendAssistantContent(conversation, message.content);
    lastText = lastWordsOf(message.content) ?? lastText;
    const stopped = stopOf(message, deps.maxTokens);
    if (stopped === 'tools') return runToolCalls(message, turnUsage, turn);
    // The API paused a long turn; sending the conversation back as it is lets the model resume.
    if (stopped === 'resume') return null;
    return end(stopped.status, stopped.reason);
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
      const call = await budgetedCall(deps, buildRequest(deps, conversation, turn), {
        signal: timeLimit.signal,
        deadline,
        timeoutMs: deps.timeoutMs,
        rateLimit,
      });
      costUsd += call.costUsd;
      rateLimit = call.rateLimit;
      // A turn counts as an API call once its first attempt is sent.
      if (call.kind === 'stopped') {
        if (call.sent) turns = turn;
        return end(call.status, call.reason, call.fault);
      }
      turns = turn;
      const turnUsage = await recordAnswer(call.message, {
        turn,
        costUsd: call.answerUsd,
        durationMs: call.durationMs,
        attempts: call.attempts,
        requestId: call.requestId,
        inputCounted: call.inputCounted,
      });
      const next = await afterAnswer(call.message, turnUsage, turn);
      if (next !== null) return next;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** How an answer's stop_reason moves the conversation on: run its tools, resume a paused turn, or end. */
function stopOf(message: Message, maxTokens: number): 'tools' | 'resume' | { status: InvocationStatus; reason: string } {
  switch (message.stop_reason) {
    case 'tool_use':
      return 'tools';
    case 'pause_turn':
      return 'resume';
    case 'end_turn':
      return { status: 'completed', reason: 'the model ended its turn' };
    case 'stop_sequence':
      return { status: 'completed', reason: `the model produced the stop sequence ${JSON.stringify(message.stop_sequence)}` };
    case 'max_tokens':
      return { status: 'max_tokens', reason: maxTokensReason(message.content, maxTokens) };
    case 'model_context_window_exceeded':
      return { status: 'max_tokens', reason: "the conversation filled the model's context window before the model finished" };
    case 'refusal':
      return { status: 'refusal', reason: refusalReason(message) };
    default:
      return {
        status: 'api_error',
        reason: `the API returned an unrecognised stop_reason ${JSON.stringify(message.stop_reason)}; the agent stops rather than guess what it means`,
      };
  }
}

/**
 * The invocation's first request and the most it can cost at full price, for sending it as a Message Batch; the
 * input is counted as a direct call would count it.
 */
export async function firstCallOf(deps: InvocationDeps, signal: AbortSignal): Promise<{ request: MessageCreateParamsNonStreaming; worstCaseUsd: number }> {
  const request = buildRequest(deps, [{ role: 'user', content: [{ type: 'text', text: deps.firstMessage }] }], 1);
  const { worstCaseUsd } = await sizeCall(deps, request, signal);
  return { request, worstCaseUsd };
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

/** A pause_turn continuation extends the paused assistant turn rather than starting a second one in a row. */
function appendAssistantContent(conversation: ConversationTurn[], content: ContentBlock[]): void {
  const last = conversation.at(-1);
  if (last?.role === 'assistant') {
    last.content.push(...content);
  } else {
    conversation.push({ role: 'assistant', content: [...content] });
  }
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
