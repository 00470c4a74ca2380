import type { Kysely } from 'kysely';
import type { FaultClass, InfrastructureFault } from '../kernel/faults.ts';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { utcDay } from '../kernel/utc-day.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import type { Tracer } from '../kernel/tracer.ts';
import { createAnthropicClient } from './anthropic-client.ts';
import { databaseBudget } from './database-budget.ts';
import { firstMessage, systemPrompt } from './context.ts';
import type { Designer, InvocationReport, InvocationRequest } from './designer.ts';
import { firstCallOf, invokeAgent, type InvocationDeps, type InvocationResult } from './invoke.ts';
import { collectBatch, submitBatch, type BatchDeps } from './message-batch.ts';
import { findOpenBatch, listOpenBatches, type OpenBatch } from '../db/repositories/message-batches.ts';
import { BATCH_PRICE_FACTOR } from '../budget/pricing.ts';
import { saveQuota } from './quota.ts';
import { priceFor } from '../budget/pricing.ts';
import { formatUsd } from '../budget/money.ts';
import { phaseEffort, phaseModel } from '../config/model-checks.ts';
import { toolsFor, type ToolContext } from './tools.ts';
import { operatorStop } from './operator-control.ts';

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
  /**
   * Set once the Message Batches endpoint answered 404/405 in this pass (a gateway or proxy without it): the
   * pass's later invocations go out directly without asking again, and the warning is given once.
   */
  private batchesUnsupported: string | null = null;

  constructor(options: ClaudeDesignerOptions) {
    this.options = options;
  }

  async invoke(request: InvocationRequest): Promise<InvocationReport> {
    const { db, config, ktrdr, now, tracer } = this.options;
    const settings = config.settings;
    if (!settings.ANTHROPIC_API_KEY) {
      return { status: 'error', reason: 'ANTHROPIC_API_KEY is not set (or set AGENT_DESIGNER=baseline)', lastText: '', costUsd: 0 };
    }
    const model = phaseModel(settings, request.purpose);
    const price = priceFor(model, settings.AGENT_MODEL_PRICES);
    const context = this.options.toolContext(request.sessionId);
    const tools = toolsFor(request.purpose, context);
    const client = createAnthropicClient({
      apiKey: settings.ANTHROPIC_API_KEY,
      ...(settings.ANTHROPIC_BASE_URL ? { baseURL: settings.ANTHROPIC_BASE_URL } : {}),
      timeoutMs: settings.AGENT_INVOCATION_TIMEOUT_SECONDS * 1000,
    });
    const open = await findOpenBatch(db, request.sessionId);
    const message =
      open?.firstMessage ??
      (await tracer.span('prepare_context', { 'agent.purpose': request.purpose }, async (span) => {
        const text = await firstMessage({
          db,
          ktrdr,
          sessionId: request.sessionId,
          purpose: request.purpose,
          recentCount: settings.AGENT_RECENT_STRATEGIES_COUNT,
          memoryTokenBudget: settings.AGENT_MEMORY_TOKEN_BUDGET,
          today: utcDay(now()),
          lockboxMonths: settings.AGENT_LOCKBOX_MONTHS,
          now,
        });
        span.setAttributes({ 'prompt.first_message_chars': text.length });
        return text;
      }));
    let effectDone = false;
    const invocation: InvocationDeps = {
      client,
      model,
      maxTokens: settings.AGENT_MAX_TOKENS,
      maxTurns: settings.AGENT_MAX_TURNS,
      timeoutMs: settings.AGENT_INVOCATION_TIMEOUT_SECONDS * 1000,
      price,
      system: systemPrompt(),
      tools,
      firstMessage: message,
      promptCaching: settings.AGENT_PROMPT_CACHING,
      // Design is a conversation of several calls; starting a backtest or saving an assessment usually takes one,
      // so those phases cache only once a second call shows the conversation goes on.
      cacheFromTurn: request.purpose === 'design' ? 1 : 2,
      effort: phaseEffort(settings, request.purpose),
      ...(settings.AGENT_INFERENCE_GEO ? { inferenceGeo: settings.AGENT_INFERENCE_GEO } : {}),
      retry: { maxAttempts: settings.AGENT_RETRY_MAX_ATTEMPTS },
      budget: databaseBudget({
        db,
        dailyLimitUsd: settings.AGENT_BUDGET_DAILY_USD,
        bufferUsd: settings.AGENT_BUDGET_BUFFER_USD,
        enforce: settings.AGENT_BUDGET_ENFORCEMENT,
        sessionId: request.sessionId,
        now,
      }),
      onResponse: async (info) => {
        context.turn.index = info.turn;
        context.turn.tokensInput = info.usage.input + info.usage.cacheRead + info.usage.cacheWrite;
        context.turn.tokensOutput = info.usage.output;
        context.turn.requestId = info.requestId;
        context.turn.tokensThinking = info.thinkingTokens;
        await tracer.span(
          'llm_request',
          {
            'gen_ai.request.model': model,
            'gen_ai.request.effort': phaseEffort(settings, request.purpose),
            'gen_ai.response.id': info.requestId ?? '',
            'gen_ai.usage.thinking_tokens': info.thinkingTokens,
            'llm.inference_geo': info.inferenceGeo ?? 'unknown',
            'llm.service_tier': info.serviceTier ?? 'unknown',
            'llm.attempts': info.attempts,
            'llm.input_counted': info.inputCounted,
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
      operatorStop: () => operatorStop(db, request.sessionId),
      onRateLimit: (state) => saveQuota(db, state, now()),
    };
    const batching = settings.AGENT_BATCH_PHASES.includes(request.purpose) && this.batchesUnsupported === null;
    let result: InvocationResult;
    if (open !== null || batching) {
      const batchDeps = { db, client, budget: invocation.budget, price: open ? priceFor(open.model, settings.AGENT_MODEL_PRICES) : price, now };
      const step = await (open !== null ? this.collect(batchDeps, open, invocation) : this.submit(batchDeps, request, model, invocation)).catch(
        batchCallFailed,
      );
      if (step.kind === 'report') return step.report;
      result = step.result;
    } else {
      result = await invokeAgent(invocation);
    }
    return {
      status: context.ktrdrUnreachable && !effectDone ? 'ktrdr_unreachable' : result.status,
      reason: result.reason,
      lastText: result.lastText,
      costUsd: result.costUsd,
      ...(result.fault ? { fault: result.fault } : {}),
    };
  }

  async settleEndedSessionBatches(): Promise<number> {
    const { db, config, now } = this.options;
    const settings = config.settings;
    if (!settings.ANTHROPIC_API_KEY) return 0;
    const client = createAnthropicClient({
      apiKey: settings.ANTHROPIC_API_KEY,
      ...(settings.ANTHROPIC_BASE_URL ? { baseURL: settings.ANTHROPIC_BASE_URL } : {}),
      timeoutMs: settings.AGENT_INVOCATION_TIMEOUT_SECONDS * 1000,
    });
    let settled = 0;
    for (const open of await listOpenBatches(db, { endedSessionsOnly: true })) {
      const budget = databaseBudget({
        db,
        dailyLimitUsd: settings.AGENT_BUDGET_DAILY_USD,
        bufferUsd: settings.AGENT_BUDGET_BUFFER_USD,
        enforce: settings.AGENT_BUDGET_ENFORCEMENT,
        sessionId: open.sessionId,
        now,
      });
      // The answer is not used (the session ended); only what it cost is booked. An API that cannot be reached
      // now leaves the batch open for a later pass: its reservation stays held meanwhile.
      const collected = await collectBatch({ db, client, budget, price: priceFor(open.model, settings.AGENT_MODEL_PRICES), now }, open).catch(() => null);
      if (collected !== null && collected.kind !== 'pending') settled += 1;
    }
    return settled;
  }

  /** Sends the invocation's first call as a Message Batch; the session waits for it to a later pass. */
  private async submit(deps: BatchDeps, request: InvocationRequest, model: string, invocation: InvocationDeps): Promise<BatchStep> {
    const stopped = await operatorStop(deps.db, request.sessionId);
    if (stopped !== null) return report('operator_stopped', stopped);
    const { request: params, worstCaseUsd } = await firstCallOf(invocation, AbortSignal.timeout(invocation.timeoutMs));
    const reservedUsd = worstCaseUsd * BATCH_PRICE_FACTOR;
    const submitted = await submitBatch(deps, {
      sessionId: request.sessionId,
      purpose: request.purpose,
      model,
      firstMessage: invocation.firstMessage,
      request: params,
      reservedUsd,
    });
    switch (submitted.kind) {
      case 'submitted':
        return report(
          'batch_pending',
          `the first ${request.purpose} call went out as batch ${submitted.batchId} (${formatUsd(reservedUsd, 4)} held at the batch price); its result is collected on a later pass`,
        );
      case 'budget_exhausted':
        return report('budget_exhausted', `the budget cannot cover the batch's worst case (${formatUsd(reservedUsd, 4)}), so it was not sent`);
      case 'failed': {
        const { classifyAttemptFailure } = await import('./anthropic-client.ts');
        const failure = classifyAttemptFailure(submitted.error);
        if (failure.status === 404 || failure.status === 405) {
          // Infrastructure, not research: the phase's calls go out directly for the rest of this pass.
          // The warning is the batch row's detail, written once: later invocations of the pass make no row.
          this.batchesUnsupported = `the Message Batches endpoint answered ${failure.status}`;
          return { kind: 'result', result: await invokeAgent(invocation) };
        }
        const reason = `creating the batch failed: ${failure.reason}${submitted.billing === 'unknown' ? '; the batch may exist and is looked up by its custom_id on the next pass' : ''}`;
        if (failure.faultClass !== undefined || submitted.billing === 'unknown') {
          return report('infrastructure_fault', reason, { faultClass: failure.faultClass ?? 'anthropic_unreachable', cause: reason });
        }
        return report('api_error', reason);
      }
    }
  }

  /** Polls the session's batch; an answer continues the invocation from it (later calls go out directly). */
  private async collect(deps: BatchDeps, open: OpenBatch, invocation: InvocationDeps): Promise<BatchStep> {
    const collected = await collectBatch(deps, open);
    switch (collected.kind) {
      case 'pending':
        return report('batch_pending', collected.reason);
      case 'answered':
        return { kind: 'result', result: await invokeAgent({ ...invocation, firstAnswer: collected }) };
      case 'unpriced':
        return report('api_error', collected.reason);
      case 'unanswered': {
        // Expired or canceled without being processed (nothing billed), or gone from the API: the call goes out directly now.
        if (collected.retryDirect) return { kind: 'result', result: await invokeAgent(invocation) };
        // A create call that never made a batch: nothing is held any more, and the next pass sends it again.
        if (collected.apiError === undefined) return report('batch_pending', `${collected.reason}; it is sent again on the next pass`);
        const faultClass = BATCH_ERROR_FAULTS[collected.apiError.type];
        return faultClass ? report('infrastructure_fault', collected.reason, { faultClass, cause: collected.reason }) : report('api_error', collected.reason);
      }
    }
  }
}

/**
 * A batch call that failed (retrieve, results, list: the network, a 5xx, a refused key) is a fault of the world: the
 * batch row and its reservation stay as they were and a later pass polls again.
 */
async function batchCallFailed(error: unknown): Promise<BatchStep> {
  const { classifyAttemptFailure } = await import('./anthropic-client.ts');
  const failure = classifyAttemptFailure(error);
  // Not a fault of the world (a defect, a database error): the pass handles it as any designer error.
  if (failure.faultClass === undefined) throw error;
  const reason = `a Message Batches API call failed: ${failure.reason}`;
  return report('infrastructure_fault', reason, { faultClass: failure.faultClass, cause: reason });
}

type BatchStep = { kind: 'report'; report: InvocationReport } | { kind: 'result'; result: InvocationResult };

function report(status: InvocationReport['status'], reason: string, fault?: InfrastructureFault): BatchStep {
  return { kind: 'report', report: { status, reason, lastText: '', costUsd: 0, ...(fault ? { fault } : {}) } };
}

/** Error types of an errored batch request that are faults of the world, not of the request (errors docs). */
const BATCH_ERROR_FAULTS: Record<string, FaultClass> = {
  api_error: 'anthropic_unreachable',
  overloaded_error: 'anthropic_unreachable',
  rate_limit_error: 'anthropic_rate_limited',
  authentication_error: 'anthropic_auth',
  permission_error: 'anthropic_auth',
};
