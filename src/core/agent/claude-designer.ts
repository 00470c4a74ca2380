import type { Kysely } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { effectiveDailyLimit, ensureBudgetDay, reserveBudget, settleReservation } from '../db/repositories/budget.ts';
import { utcDay } from '../db/values.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import type { Tracer } from '../telemetry/tracing.ts';
import { createAnthropicClient } from './anthropic-client.ts';
import { firstMessage, systemPrompt } from './context.ts';
import type { Designer, InvocationReport, InvocationRequest } from './designer.ts';
import { invokeAgent } from './invoke.ts';
import { priceFor } from './pricing.ts';
import { toolsFor, type ToolContext } from './tools.ts';

export interface ClaudeDesignerOptions {
  db: Kysely<Database>;
  config: AgentConfig;
  ktrdr: KtrdrClient;
  now: () => Date;
  tracer: Tracer;
  toolContext: (sessionId: number) => ToolContext;
}

/** Claude through the Anthropic SDK: one tool-use invocation per creative decision, every call budgeted first. */
export class ClaudeDesigner implements Designer {
  readonly kind = 'claude' as const;
  private readonly options: ClaudeDesignerOptions;

  constructor(options: ClaudeDesignerOptions) {
    this.options = options;
  }

  async invoke(request: InvocationRequest): Promise<InvocationReport> {
    const { db, config, ktrdr, now, tracer } = this.options;
    const settings = config.settings;
    if (!settings.ANTHROPIC_API_KEY) {
      return { status: 'error', reason: 'ANTHROPIC_API_KEY is not set (or set AGENT_DESIGNER=baseline)', lastText: '', costUsd: 0 };
    }
    const price = priceFor(settings.AGENT_MODEL, settings.AGENT_MODEL_PRICES);
    const context = this.options.toolContext(request.sessionId);
    const tools = toolsFor(request.purpose, context);
    const client = createAnthropicClient({
      apiKey: settings.ANTHROPIC_API_KEY,
      ...(settings.ANTHROPIC_BASE_URL ? { baseURL: settings.ANTHROPIC_BASE_URL } : {}),
      maxRetries: settings.AGENT_RETRY_MAX_ATTEMPTS,
      timeoutMs: settings.AGENT_INVOCATION_TIMEOUT_SECONDS * 1000,
    });
    const message = await tracer.span('prepare_context', { 'agent.purpose': request.purpose }, async (span) => {
      const text = await firstMessage({
        db,
        ktrdr,
        sessionId: request.sessionId,
        purpose: request.purpose,
        recentCount: settings.AGENT_RECENT_STRATEGIES_COUNT,
        today: utcDay(now()),
      });
      span.setAttributes({ 'prompt.first_message_chars': text.length });
      return text;
    });
    let effectDone = false;
    const result = await invokeAgent({
      client,
      model: settings.AGENT_MODEL,
      maxTokens: settings.AGENT_MAX_TOKENS,
      maxTurns: settings.AGENT_MAX_TURNS,
      timeoutMs: settings.AGENT_INVOCATION_TIMEOUT_SECONDS * 1000,
      price,
      system: systemPrompt(),
      tools,
      firstMessage: message,
      promptCaching: settings.AGENT_PROMPT_CACHING,
      budget: {
        reserve: async (amountUsd) => {
          // An invocation can run past midnight UTC: the new day's row must exist before it can be reserved against.
          const date = utcDay(now());
          await ensureBudgetDay(db, date, await effectiveDailyLimit(db, settings.AGENT_BUDGET_DAILY_USD));
          return reserveBudget(db, {
            date,
            amountUsd,
            bufferUsd: settings.AGENT_BUDGET_BUFFER_USD,
            enforce: settings.AGENT_BUDGET_ENFORCEMENT,
            sessionId: request.sessionId,
          });
        },
        settle: (id, actualUsd, usage) => settleReservation(db, id, actualUsd, { id: request.sessionId, ...usage }),
      },
      onResponse: async (info) => {
        context.turn.index = info.turn;
        context.turn.tokensInput = info.usage.input + info.usage.cacheRead + info.usage.cacheWrite;
        context.turn.tokensOutput = info.usage.output;
        await tracer.span(
          'llm_request',
          {
            'gen_ai.request.model': settings.AGENT_MODEL,
            'gen_ai.usage.input_tokens': info.usage.input,
            'gen_ai.usage.output_tokens': info.usage.output,
            'gen_ai.usage.cache_read_tokens': info.usage.cacheRead,
            'gen_ai.usage.cache_write_tokens': info.usage.cacheWrite,
            'llm.cost_usd': info.costUsd,
            'llm.stop_reason': info.stopReason ?? 'none',
            'llm.turn': info.turn,
            'llm.duration_ms': info.durationMs,
          },
          async () => undefined,
        );
      },
      onToolCall: async (info) => {
        await tracer.span('tool_call', { 'tool.name': info.name, 'tool.success': info.outcome.ok, 'tool.duration_ms': info.durationMs }, async () => undefined);
        if (info.outcome.ok && ['start_training', 'start_backtest', 'save_assessment'].includes(info.name)) effectDone = true;
      },
      isDone: () => effectDone,
    });
    // Bridge until invoke() classifies Anthropic errors itself (issue #14): a refused key is a fault, not a design.
    const refusedKey = result.status === 'api_error' && /^the Anthropic API answered (401|403) /.test(result.reason);
    const fault = result.fault ?? (refusedKey ? { faultClass: 'anthropic_auth' as const, cause: result.reason } : undefined);
    return {
      status: context.ktrdrUnreachable && !effectDone ? 'ktrdr_unreachable' : fault ? 'infrastructure_fault' : result.status,
      reason: result.reason,
      lastText: result.lastText,
      costUsd: result.costUsd,
      ...(fault ? { fault } : {}),
    };
  }
}
