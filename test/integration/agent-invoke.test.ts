import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type Anthropic from '@anthropic-ai/sdk';
import { createAnthropicClient } from '../../src/core/agent/anthropic-client.ts';
import type { InvocationBudget, SettlementDetails } from '../../src/core/agent/budgeted-call.ts';
import { invokeAgent, type InvocationDeps, type ResponseInfo, type ToolCallInfo } from '../../src/core/agent/invoke.ts';
import type { ToolDefinition } from '../../src/core/agent/tool-dispatch.ts';
import { costOfUsage, priceFor } from '../../src/core/budget/pricing.ts';
import {
  redactedThinking,
  startFakeAnthropic,
  text,
  thinking,
  toolUse,
  type FakeAnthropic,
  type RecordedRequest,
  type ScriptStep,
  type WireBlock,
} from '../support/fake-anthropic.ts';

const API_KEY = 'sk-ant-api03-test-9c1f4e7a2b6d8e0f';
const MODEL = 'claude-opus-5-5';

const SYSTEM_PROMPT = [
  'You design trading strategies for the KTRDR research backend, one strategy per session.',
  ...Array.from(
    { length: 120 },
    (_, index) =>
      `Guideline ${index + 1}: keep indicator parameters inside their documented ranges, prefer fewer than five ` +
      `features, and say in your report how guideline ${index + 1} shaped the design.`,
  ),
].join('\n');

const INDICATOR_CATALOG = Array.from({ length: 30 }, (_, index) => ({
  name: `indicator_${index}`,
  description: `Indicator ${index} measures momentum over a configurable window of bars.`,
  parameters: { period: { min: 2, max: 200, default: 14 } },
}));

class MemoryBudget implements InvocationBudget {
  readonly limitUsd: number;
  spentUsd = 0;
  readonly open = new Map<string, number>();
  readonly refused: number[] = [];
  readonly settlements: Array<{ reservedUsd: number; actualUsd: number; estimated: boolean; requestId?: string }> = [];
  #nextId = 1;

  constructor(limitUsd: number) {
    this.limitUsd = limitUsd;
  }

  async reserve(amountUsd: number): Promise<{ id: string } | null> {
    const held = [...this.open.values()].reduce((sum, amount) => sum + amount, 0);
    if (this.spentUsd + held + amountUsd > this.limitUsd) {
      this.refused.push(amountUsd);
      return null;
    }
    const id = `reservation-${this.#nextId++}`;
    this.open.set(id, amountUsd);
    return { id };
  }

  async settle(reservationId: string, actualUsd: number, _usage: unknown, details: SettlementDetails): Promise<void> {
    const reservedUsd = this.open.get(reservationId);
    assert.ok(reservedUsd !== undefined, `settled an unknown reservation ${reservationId}`);
    this.open.delete(reservationId);
    this.settlements.push({ reservedUsd, actualUsd, ...details });
    this.spentUsd += actualUsd;
  }

  /** Every reservation settled, none for more than was reserved. */
  assertSettledWithinReservations(): void {
    assert.equal(this.open.size, 0, 'a reservation was left open');
    for (const { reservedUsd, actualUsd } of this.settlements) {
      assert.ok(actualUsd <= reservedUsd, `settled $${actualUsd} against a reservation of $${reservedUsd}`);
    }
  }
}

interface StrategyToolsState {
  trainingStarted: string[];
}

function strategyTools(state: StrategyToolsState): ToolDefinition[] {
  return [
    {
      name: 'list_indicators',
      description: 'Lists the indicators KTRDR offers, with their parameters.',
      inputSchema: { type: 'object', properties: {} },
      async run() {
        return { ok: true, content: { indicators: INDICATOR_CATALOG } };
      },
    },
    {
      name: 'validate_strategy',
      description: 'Validates a strategy YAML document.',
      inputSchema: { type: 'object', properties: { yaml: { type: 'string' } }, required: ['yaml'] },
      async run(input) {
        const yaml = (input as { yaml?: unknown }).yaml;
        if (typeof yaml !== 'string') return { ok: false, error: 'yaml: expected the strategy YAML as a string' };
        return { ok: true, content: { valid: true, findings: [] } };
      },
    },
    {
      name: 'start_training',
      description: 'Starts training a validated strategy.',
      inputSchema: { type: 'object', properties: { strategy: { type: 'string' } }, required: ['strategy'] },
      async run(input) {
        const strategy = (input as { strategy?: unknown }).strategy;
        if (typeof strategy !== 'string' || strategy === '') {
          return { ok: false, error: 'strategy: required, the name of a validated strategy' };
        }
        state.trainingStarted.push(strategy);
        return { ok: true, content: { operationId: `op_${strategy}` } };
      },
    },
  ];
}

interface Harness {
  fake: FakeAnthropic;
  client: Anthropic;
  budget: MemoryBudget;
  state: StrategyToolsState;
  responses: ResponseInfo[];
  toolCalls: ToolCallInfo[];
  deps(overrides?: Partial<InvocationDeps>): InvocationDeps;
}

async function harness(
  t: TestContext,
  options: { maxAttempts?: number; limitUsd?: number; fake?: Parameters<typeof startFakeAnthropic>[0] } = {},
): Promise<Harness> {
  const fake = await startFakeAnthropic({ apiKey: API_KEY, ...options.fake });
  t.after(() => fake.close());
  const client = createAnthropicClient({ apiKey: API_KEY, baseURL: fake.url, timeoutMs: 10_000 });
  const budget = new MemoryBudget(options.limitUsd ?? 100);
  const state: StrategyToolsState = { trainingStarted: [] };
  const responses: ResponseInfo[] = [];
  const toolCalls: ToolCallInfo[] = [];
  return {
    fake,
    client,
    budget,
    state,
    responses,
    toolCalls,
    deps: (overrides = {}) => ({
      client,
      model: MODEL,
      maxTokens: 4_096,
      maxTurns: 10,
      timeoutMs: 20_000,
      price: priceFor(MODEL),
      system: SYSTEM_PROMPT,
      tools: strategyTools(state),
      firstMessage: 'Design a momentum strategy for EURUSD on 1h bars, then start its training.',
      budget,
      retry: { maxAttempts: options.maxAttempts ?? 3, initialDelayMs: 1 },
      onResponse: (info) => {
        responses.push(info);
      },
      onToolCall: (info) => {
        toolCalls.push(info);
      },
      isDone: () => state.trainingStarted.length > 0,
      ...overrides,
    }),
  };
}

function responseContent(record: RecordedRequest | undefined): unknown[] {
  assert.ok(record?.response, 'the request has no response');
  return (JSON.parse(record.response.body) as { content: unknown[] }).content;
}

function responseUsage(record: RecordedRequest): Parameters<typeof costOfUsage>[1] {
  assert.ok(record.response);
  return (JSON.parse(record.response.body) as { usage: Parameters<typeof costOfUsage>[1] }).usage;
}

function blocksOfLastMessage(record: RecordedRequest | undefined): WireBlock[] {
  const content = record?.body?.messages.at(-1)?.content;
  assert.ok(Array.isArray(content), 'the last message has no content blocks');
  return content;
}

function lastToolResults(record: RecordedRequest | undefined): WireBlock[] {
  return blocksOfLastMessage(record).filter((block) => block.type === 'tool_result');
}

function endTurn(words: string): ScriptStep {
  return { content: [thinking('Wrap up.'), text(words)], stop_reason: 'end_turn' };
}

describe('invokeAgent against the fake Messages API', () => {
  test('runs a multi-turn tool loop and sends every assistant turn back unchanged', async (t) => {
    const h = await harness(t);
    h.fake.script([
      { content: [thinking('I should see which indicators exist.'), toolUse('list_indicators', {})], stop_reason: 'tool_use' },
      {
        content: [
          thinking('RSI-like momentum indicators are available.'),
          redactedThinking(),
          thinking('Draft the YAML and validate it.'),
          toolUse('validate_strategy', { yaml: 'name: momentum_v1' }),
        ],
        stop_reason: 'tool_use',
      },
      {
        content: [
          thinking('Valid. Check the catalog again and validate a variant in the same turn.'),
          toolUse('list_indicators', {}),
          toolUse('validate_strategy', { yaml: 'name: momentum_v2' }),
        ],
        stop_reason: 'tool_use',
      },
      { content: [thinking('Both checks passed.'), text('momentum_v2 is ready for training.')], stop_reason: 'end_turn' },
    ]);

    const result = await invokeAgent(h.deps({ isDone: () => false }));

    assert.equal(result.status, 'completed', result.reason);
    assert.equal(result.turns, 4);
    assert.equal(result.lastText, 'momentum_v2 is ready for training.');
    assert.deepEqual(h.fake.scriptErrors, []);
    assert.equal(h.fake.requests.length, 4);
    for (const [index, request] of h.fake.requests.entries()) {
      assert.equal(request.response?.status, 200, request.response?.body ?? 'no response');
      assert.equal(request.body?.tool_choice, undefined);
      // Every earlier assistant turn, thinking signatures included, is exactly what the API returned.
      for (let earlier = 0; earlier < index; earlier += 1) {
        const sent = request.body?.messages[2 * earlier + 1];
        assert.equal(sent?.role, 'assistant');
        assert.deepEqual(sent?.content, responseContent(h.fake.requests[earlier]));
      }
    }
    const parallelCalls = responseContent(h.fake.requests[2]).filter(
      (block): block is { type: 'tool_use'; id: string } => (block as WireBlock).type === 'tool_use',
    );
    assert.deepEqual(
      lastToolResults(h.fake.requests[3]).map((block) => block.tool_use_id),
      parallelCalls.map((block) => block.id),
    );

    assert.deepEqual(
      h.toolCalls.map((call) => [call.turn, call.name, call.outcome.ok]),
      [
        [1, 'list_indicators', true],
        [2, 'validate_strategy', true],
        [3, 'list_indicators', true],
        [3, 'validate_strategy', true],
      ],
    );
    const price = priceFor(MODEL);
    const expectedCosts = h.fake.requests.map((request) => costOfUsage(price, responseUsage(request)));
    assert.deepEqual(
      h.responses.map((info) => info.costUsd),
      expectedCosts,
    );
    assert.equal(
      result.costUsd,
      expectedCosts.reduce((sum, cost) => sum + cost, 0),
    );
    assert.deepEqual(
      result.usage,
      h.responses.reduce(
        (sum, info) => ({
          input: sum.input + info.usage.input,
          output: sum.output + info.usage.output,
          cacheWrite: sum.cacheWrite + info.usage.cacheWrite,
          cacheRead: sum.cacheRead + info.usage.cacheRead,
        }),
        { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
      ),
    );
    assert.deepEqual(
      h.responses.map((info) => info.stopReason),
      ['tool_use', 'tool_use', 'tool_use', 'end_turn'],
    );
    assert.equal(h.budget.settlements.length, 4);
    assert.equal(h.budget.spentUsd, result.costUsd);
    h.budget.assertSettledWithinReservations();
    h.fake.assertApiKeyConfined(API_KEY, result, h.responses, h.toolCalls);
  });

  test('answers an unknown tool with is_error and lets the model recover', async (t) => {
    const h = await harness(t);
    h.fake.script([
      { content: [thinking('Run a backtest first.'), toolUse('run_backtest', { strategy: 'x' })], stop_reason: 'tool_use' },
      (request) => {
        const [result] = lastToolResults(request);
        assert.equal(result?.is_error, true);
        assert.equal(result?.content, 'Unknown tool "run_backtest". Available tools: list_indicators, validate_strategy, start_training.');
        return { content: [thinking('No such tool; list indicators.'), toolUse('list_indicators', {})], stop_reason: 'tool_use' };
      },
      (request) => {
        const [result] = lastToolResults(request);
        assert.equal(result?.is_error, undefined);
        assert.match(String(result?.content), /indicator_29/);
        return endTurn('Recovered after the unknown tool.');
      },
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed', result.reason);
    assert.deepEqual(h.fake.scriptErrors, []);
    assert.deepEqual(
      h.toolCalls.map((call) => [call.name, call.outcome.ok]),
      [
        ['run_backtest', false],
        ['list_indicators', true],
      ],
    );
    h.budget.assertSettledWithinReservations();
  });

  test('passes invalid inputs back as errors twice, then stops once the valid call starts training', async (t) => {
    const h = await harness(t);
    const expectError = (request: RecordedRequest): void => {
      const [result] = lastToolResults(request);
      assert.equal(result?.is_error, true);
      assert.equal(result?.content, 'strategy: required, the name of a validated strategy');
    };
    h.fake.script([
      { content: [thinking('Start training.'), toolUse('start_training', {})], stop_reason: 'tool_use' },
      (request) => {
        expectError(request);
        return { content: [thinking('Name it.'), toolUse('start_training', { strategy: '' })], stop_reason: 'tool_use' };
      },
      (request) => {
        expectError(request);
        return { content: [thinking('A real name.'), toolUse('start_training', { strategy: 'momentum_v1' })], stop_reason: 'tool_use' };
      },
      endTurn('This step is never requested: training started.'),
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed', result.reason);
    assert.match(result.reason, /required effect/);
    assert.deepEqual(h.fake.scriptErrors, []);
    assert.equal(h.fake.requests.length, 3);
    assert.equal(h.fake.remainingSteps(), 1);
    assert.deepEqual(h.state.trainingStarted, ['momentum_v1']);
    assert.deepEqual(
      h.toolCalls.map((call) => call.outcome.ok),
      [false, false, true],
    );
  });

  test('does not run the calls that follow the one that completed the phase', async (t) => {
    const h = await harness(t);
    h.fake.script([
      {
        content: [thinking('Train both.'), toolUse('start_training', { strategy: 'a' }), toolUse('start_training', { strategy: 'b' })],
        stop_reason: 'tool_use',
      },
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed', result.reason);
    assert.deepEqual(h.state.trainingStarted, ['a']);
    assert.equal(h.toolCalls.length, 1);
  });

  test('ends with tool_error_limit after too many failed tool calls in a row', async (t) => {
    const h = await harness(t);
    h.fake.script(
      Array.from({ length: 5 }, () => ({
        content: [thinking('Try again.'), toolUse('start_training', {})],
        stop_reason: 'tool_use',
      })),
    );

    const result = await invokeAgent(h.deps({ maxToolErrors: 3 }));

    assert.equal(result.status, 'tool_error_limit');
    assert.match(result.reason, /3 tool calls in a row failed \(limit 3\); last: start_training: strategy: required/);
    assert.equal(h.fake.requests.length, 3);
    h.budget.assertSettledWithinReservations();
  });

  test('stops at the turn cap', async (t) => {
    const h = await harness(t);
    h.fake.script(
      Array.from({ length: 4 }, () => ({
        content: [thinking('Look again.'), toolUse('list_indicators', {})],
        stop_reason: 'tool_use',
      })),
    );

    const result = await invokeAgent(h.deps({ maxTurns: 2 }));

    assert.equal(result.status, 'max_turns');
    assert.equal(result.turns, 2);
    assert.equal(h.fake.requests.length, 2);
    assert.match(result.reason, /after 2 API calls/);
  });

  test('retries a 429 in its own loop after retry-after-ms, with a fresh reservation per HTTP attempt', async (t) => {
    const h = await harness(t);
    h.fake.script([{ status: 429, retryAfterMs: 5 }, endTurn('Done after the rate limit.')]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed', result.reason);
    assert.equal(result.turns, 1);
    assert.deepEqual(
      h.fake.requests.map((request) => request.response?.status),
      [429, 200],
    );
    // The SDK did not retry: each attempt is its own request, reserved before it was sent.
    assert.equal(h.fake.requests[1]?.headers['x-stainless-retry-count'], '0');
    assert.equal(h.budget.settlements.length, 2);
    assert.equal(h.budget.settlements[0]?.actualUsd, 0, 'an error answer is not billed');
    assert.equal(h.responses[0]?.attempts, 2);
    h.budget.assertSettledWithinReservations();
  });

  test('AGENT_RETRY_MAX_ATTEMPTS counts attempts: 3 means three HTTP requests, not four', async (t) => {
    const h = await harness(t, { maxAttempts: 3 });
    h.fake.script([{ status: 529 }, { status: 529 }, { status: 529 }, endTurn('never reached')]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'infrastructure_fault', result.reason);
    assert.equal(h.fake.requests.length, 3);
    assert.equal(h.fake.remainingSteps(), 1);
  });

  test('obeys x-should-retry: false on a 500 and does not retry it', async (t) => {
    const h = await harness(t, { maxAttempts: 3 });
    h.fake.script([{ status: 500, shouldRetry: false }, endTurn('never reached')]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'infrastructure_fault', result.reason);
    assert.equal(h.fake.requests.length, 1);
  });

  test('does not retry a 400: it is an error of the request, not a fault of the world', async (t) => {
    const h = await harness(t, { maxAttempts: 3 });
    h.fake.script([{ status: 400, message: 'messages.0: bad' }, endTurn('never reached')]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'api_error');
    assert.equal(result.fault, undefined);
    assert.match(result.reason, /answered 400 invalid_request_error: messages\.0: bad \(request req_011C\w+\)$/);
    assert.equal(h.fake.requests.length, 1);
    assert.equal(result.costUsd, 0);
  });

  for (const [status, type, message] of [
    [529, 'overloaded_error', 'Overloaded'],
    [500, 'api_error', 'Internal server error'],
  ] as const) {
    test(`ends with an anthropic_unreachable fault when ${status} persists after the retries, at $0`, async (t) => {
      const h = await harness(t, { maxAttempts: 2 });
      h.fake.script([{ status }, { status }]);

      const result = await invokeAgent(h.deps());

      assert.equal(result.status, 'infrastructure_fault');
      assert.equal(result.fault?.faultClass, 'anthropic_unreachable');
      assert.match(result.reason, new RegExp(`${status} ${type}: ${message} \\(request req_011C\\w+\\) \\(after 2 attempts\\)$`));
      assert.equal(h.fake.requests.length, 2);
      assert.equal(result.costUsd, 0);
      assert.deepEqual(
        h.budget.settlements.map((settlement) => [settlement.actualUsd, settlement.estimated]),
        [
          [0, false],
          [0, false],
        ],
      );
      h.budget.assertSettledWithinReservations();
      h.fake.assertApiKeyConfined(API_KEY, result);
    });
  }

  for (const [status, faultClass] of [
    [401, 'anthropic_auth'],
    [403, 'anthropic_auth'],
    [429, 'anthropic_rate_limited'],
  ] as const) {
    test(`classifies a persistent ${status} as ${faultClass}`, async (t) => {
      const h = await harness(t, { maxAttempts: 2 });
      h.fake.script([
        { status, retryAfterMs: 1 },
        { status, retryAfterMs: 1 },
      ]);

      const result = await invokeAgent(h.deps());

      assert.equal(result.status, 'infrastructure_fault');
      assert.equal(result.fault?.faultClass, faultClass);
      assert.equal(result.costUsd, 0);
      h.fake.assertApiKeyConfined(API_KEY, result);
    });
  }

  test('an HTML 502 from a proxy settles at $0 and, once retries are spent, is anthropic_unreachable', async (t) => {
    const h = await harness(t, { maxAttempts: 2 });
    h.fake.script([
      { status: 502, html: true },
      { status: 502, html: true },
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'infrastructure_fault');
    assert.equal(result.fault?.faultClass, 'anthropic_unreachable');
    assert.match(result.reason, /answered 502 error: .*502 Bad Gateway/);
    assert.doesNotMatch(result.reason, /<html>/);
    assert.equal(result.costUsd, 0);
  });

  test('an HTML page answered with 200 carries no usage: $0 and an anthropic_unbilled fault', async (t) => {
    const h = await harness(t);
    h.fake.script([{ htmlPage: true }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'infrastructure_fault', result.reason);
    assert.equal(result.fault?.faultClass, 'anthropic_unbilled');
    assert.deepEqual(
      h.budget.settlements.map((settlement) => [settlement.actualUsd, settlement.estimated]),
      [[0, false]],
    );
  });

  test('a body that is not valid JSON carries no usage: $0 and an anthropic_unbilled fault', async (t) => {
    const h = await harness(t);
    h.fake.script([{ malformed: true }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'infrastructure_fault');
    assert.equal(result.fault?.faultClass, 'anthropic_unbilled');
    assert.match(result.reason, /^the Anthropic API answered with a body that is not valid JSON \(.+\); it carries no usage$/);
    assert.equal(result.costUsd, 0);
    h.budget.assertSettledWithinReservations();
    h.fake.assertApiKeyConfined(API_KEY, result);
  });

  test('a malformed message that carries usage is booked at its usage, not dropped to $0', async (t) => {
    const h = await harness(t);
    h.fake.script([{ rawBody: JSON.stringify({ id: 'msg_01', type: 'message', content: null, usage: { input_tokens: 1_000, output_tokens: 100 } }) }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'api_error');
    assert.match(result.reason, /malformed message \(content is not a list of blocks\); its usage was booked/);
    // 1,000 x $4 + 100 x $20 per million
    assert.deepEqual(
      h.budget.settlements.map((settlement) => [settlement.actualUsd, settlement.estimated]),
      [[0.006, false]],
    );
  });

  test('a first call the budget refuses is not counted as an API call', async (t) => {
    const h = await harness(t, { limitUsd: 0.0001 });
    h.fake.script([endTurn('never sent')]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'budget_exhausted');
    assert.equal(result.turns, 0);
    assert.equal(h.fake.requests.length, 0);
  });

  test('a connection refused never reached the API: $0, and anthropic_unreachable after the retries', async (t) => {
    const h = await harness(t, { maxAttempts: 2 });
    // A port that was just closed refuses connections.
    const closed = await startFakeAnthropic();
    const refusedUrl = closed.url;
    await closed.close();
    const client = createAnthropicClient({ apiKey: API_KEY, baseURL: refusedUrl, timeoutMs: 5_000 });

    const result = await invokeAgent(h.deps({ client, countTokens: false }));

    assert.equal(result.status, 'infrastructure_fault');
    assert.equal(result.fault?.faultClass, 'anthropic_unreachable');
    assert.match(result.reason, /ECONNREFUSED/);
    assert.deepEqual(
      h.budget.settlements.map((settlement) => [settlement.actualUsd, settlement.estimated]),
      [
        [0, false],
        [0, false],
      ],
    );
    assert.equal(result.costUsd, 0);
  });

  for (const [label, url, code] of [
    // A reserved name (RFC 2606) that no resolver knows: the lookup fails before any connection.
    ['a DNS failure', async () => 'http://ktrdr-agent-test.invalid', /ENOTFOUND|EAI_AGAIN/],
    // A server that answers the TLS handshake with plain HTTP: the handshake fails before the request is written.
    [
      'a TLS failure',
      async (t: { after: (fn: () => void) => void }) => {
        const server = createNetServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        t.after(() => server.close());
        return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      },
      /ERR_SSL_|ERR_TLS_|EPROTO/,
    ],
  ] as const) {
    test(`${label} never reached the API: $0 per attempt, and anthropic_unreachable after the retries`, async (t) => {
      const h = await harness(t, { maxAttempts: 2 });
      const client = createAnthropicClient({ apiKey: API_KEY, baseURL: await url(t), timeoutMs: 5_000 });

      const result = await invokeAgent(h.deps({ client, countTokens: false }));

      assert.equal(result.status, 'infrastructure_fault');
      assert.equal(result.fault?.faultClass, 'anthropic_unreachable');
      assert.match(result.reason, code);
      assert.deepEqual(
        h.budget.settlements.map((settlement) => [settlement.actualUsd, settlement.estimated]),
        [
          [0, false],
          [0, false],
        ],
      );
      assert.equal(result.costUsd, 0);
    });
  }

  test("a URL whose port fetch refuses (:9, 'bad port') never left the process: $0, not retried, a fault", async (t) => {
    const h = await harness(t, { maxAttempts: 3 });
    const client = createAnthropicClient({ apiKey: API_KEY, baseURL: 'http://127.0.0.1:9', timeoutMs: 5_000 });

    const result = await invokeAgent(h.deps({ client, countTokens: false }));

    assert.equal(result.status, 'infrastructure_fault');
    assert.equal(result.fault?.faultClass, 'anthropic_unreachable');
    assert.match(result.reason, /bad port/);
    assert.deepEqual(
      h.budget.settlements.map((settlement) => [settlement.actualUsd, settlement.estimated]),
      [[0, false]],
    );
    assert.equal(result.costUsd, 0);
  });

  test('a connection dropped after the request was sent keeps its reservation, marked estimated, per attempt', async (t) => {
    const h = await harness(t, { maxAttempts: 2 });
    h.fake.script([{ drop: true }, endTurn('Answered on the second attempt.')]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed', result.reason);
    assert.equal(h.fake.requests[0]?.dropped, true);
    const [dropped, answered] = h.budget.settlements;
    assert.equal(dropped?.actualUsd, dropped?.reservedUsd, 'a request cut off after it was sent may be billed');
    assert.equal(dropped?.estimated, true);
    assert.equal(answered?.estimated, false);
    assert.ok(answered!.actualUsd < answered!.reservedUsd);
    assert.equal(result.costUsd, dropped!.actualUsd + answered!.actualUsd);
    h.budget.assertSettledWithinReservations();
  });

  test('reserves from count_tokens plus a margin, and falls back to the byte bound when counting fails', async (t) => {
    const counted = await harness(t);
    counted.fake.script([endTurn('Counted.')]);
    await invokeAgent(counted.deps());
    const uncounted = await harness(t, { fake: { countTokens: false } });
    uncounted.fake.script([endTurn('Estimated.')]);
    await invokeAgent(uncounted.deps());

    assert.equal(counted.fake.countRequests.length, 1);
    assert.equal(counted.responses[0]?.inputCounted, true);
    assert.equal(uncounted.responses[0]?.inputCounted, false);
    const countedReservation = counted.budget.settlements[0]!.reservedUsd;
    const estimatedReservation = uncounted.budget.settlements[0]!.reservedUsd;
    assert.ok(countedReservation < estimatedReservation, `counted $${countedReservation} vs estimated $${estimatedReservation}`);
    counted.budget.assertSettledWithinReservations();
    uncounted.budget.assertSettledWithinReservations();
  });

  test('sends output_config.effort and never a thinking parameter to an always-thinking model', async (t) => {
    const h = await harness(t);
    h.fake.script([endTurn('Low effort.')]);

    const result = await invokeAgent(h.deps({ effort: 'low' }));

    assert.equal(result.status, 'completed', result.reason);
    assert.deepEqual(h.fake.requests[0]?.body?.output_config, { effort: 'low' });
    assert.equal(h.fake.requests[0]?.body?.thinking, undefined);
  });

  test('settles a call that ran in the US (a workspace default) at 1.1x, inside its reservation', async (t) => {
    const h = await harness(t, { fake: { workspaceInferenceGeo: 'us' } });
    h.fake.script([endTurn('Ran in the US.')]);

    await invokeAgent(h.deps());

    const usage = responseUsage(h.fake.requests[0]!);
    assert.equal((usage as { inference_geo?: string }).inference_geo, 'us');
    const globalCost = costOfUsage(priceFor(MODEL), { ...usage, inference_geo: 'global' });
    assert.ok(Math.abs(h.budget.settlements[0]!.actualUsd - globalCost * 1.1) < 1e-9);
    assert.equal(h.responses[0]?.inferenceGeo, 'us');
    h.budget.assertSettledWithinReservations();
  });

  test('fails closed on fast mode: the reservation is kept, marked estimated, and the agent stops', async (t) => {
    const h = await harness(t);
    h.fake.script([{ content: [thinking('Quick.'), text('Fast.')], stop_reason: 'end_turn', usage: { speed: 'fast' } }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'api_error');
    assert.match(result.reason, /no price is known for speed "fast"/);
    const [settlement] = h.budget.settlements;
    assert.equal(settlement?.actualUsd, settlement?.reservedUsd);
    assert.equal(settlement?.estimated, true);
  });

  test('stops before a call the rate limit has no room for, as an anthropic_rate_limited fault', async (t) => {
    const h = await harness(t);
    h.fake.script([
      {
        content: [thinking('Look first.'), toolUse('list_indicators', {})],
        stop_reason: 'tool_use',
        headers: { 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': '2026-12-01T09:00:00Z' },
      },
      endTurn('never sent'),
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'infrastructure_fault');
    assert.equal(result.fault?.faultClass, 'anthropic_rate_limited');
    assert.match(result.reason, /until 2026-12-01T09:00:00Z/);
    assert.equal(h.fake.requests.length, 1);
  });

  test('stops when fewer input tokens are left in the rate limit than the next call counts', async (t) => {
    const h = await harness(t);
    h.fake.script([
      {
        content: [thinking('Look first.'), toolUse('list_indicators', {})],
        stop_reason: 'tool_use',
        headers: { 'anthropic-ratelimit-input-tokens-remaining': '10', 'anthropic-ratelimit-requests-remaining': '40' },
      },
      endTurn('never sent'),
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.fault?.faultClass, 'anthropic_rate_limited');
    assert.match(result.reason, /has 10 input tokens left, fewer than the next call's \d+/);
    assert.equal(h.fake.requests.length, 1);
  });

  test('records the request id of every answered call in its settlement and response info', async (t) => {
    const h = await harness(t);
    h.fake.script([endTurn('Done.')]);

    await invokeAgent(h.deps());

    assert.match(h.budget.settlements[0]?.requestId ?? '', /^req_011C/);
    assert.equal(h.responses[0]?.requestId, h.budget.settlements[0]?.requestId);
  });

  test('with cacheFromTurn 2, a one-call phase sends no breakpoint and pays no cache write', async (t) => {
    const h = await harness(t);
    h.fake.script([endTurn('One call.')]);

    await invokeAgent(h.deps({ cacheFromTurn: 2 }));

    assert.doesNotMatch(h.fake.requests[0]!.rawBody, /cache_control/);
    assert.equal(h.responses[0]?.usage.cacheWrite, 0);
  });

  test('ends with refusal and reports its category', async (t) => {
    const h = await harness(t);
    h.fake.script([
      {
        content: [thinking('This asks for something else.'), text('I cannot help with that.')],
        stop_reason: 'refusal',
        stop_details: { type: 'refusal', category: 'cyber', explanation: 'The request could enable cyber harm.' },
      },
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'refusal');
    assert.equal(result.reason, 'the model declined to continue (category: cyber): The request could enable cyber harm.');
    assert.equal(result.lastText, 'I cannot help with that.');
  });

  test('fails clearly when max_tokens cuts a tool call, without running it', async (t) => {
    const h = await harness(t);
    h.fake.script([{ content: [thinking('Start it.'), toolUse('start_training', { strategy: 'momentum' })], stop_reason: 'max_tokens' }]);

    const result = await invokeAgent(h.deps({ maxTokens: 2_048 }));

    assert.equal(result.status, 'max_tokens');
    assert.match(result.reason, /max_tokens \(2048\) while writing a call to tool "start_training"/);
    assert.deepEqual(h.state.trainingStarted, []);
    assert.equal(h.toolCalls.length, 0);
    assert.equal(result.usage.output, 2_048);
    h.budget.assertSettledWithinReservations();
  });

  test('ends with max_tokens when text is cut off', async (t) => {
    const h = await harness(t);
    h.fake.script([{ content: [thinking('Explain at length.'), text('The first of many')], stop_reason: 'max_tokens' }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'max_tokens');
    assert.match(result.reason, /before the model finished/);
    assert.equal(result.lastText, 'The first of many');
  });

  test('continues a paused turn by sending it back, and extends that assistant turn', async (t) => {
    const h = await harness(t);
    h.fake.script([
      { content: [thinking('Long analysis, part one.'), text('Still analysing.')], stop_reason: 'pause_turn' },
      (request) => {
        const last = request.body?.messages.at(-1);
        assert.equal(last?.role, 'assistant');
        assert.deepEqual(last?.content, responseContent(h.fake.requests[0]));
        return { content: [thinking('Part two.'), toolUse('list_indicators', {})], stop_reason: 'tool_use' };
      },
      (request) => {
        const assistant = request.body?.messages.at(-2);
        assert.deepEqual(assistant?.content, [...responseContent(h.fake.requests[0]), ...responseContent(h.fake.requests[1])]);
        return endTurn('Finished after the pause.');
      },
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed', result.reason);
    assert.deepEqual(h.fake.scriptErrors, []);
    assert.equal(result.turns, 3);
    assert.equal(result.lastText, 'Finished after the pause.');
  });

  test('treats a stop sequence as completion', async (t) => {
    const h = await harness(t);
    h.fake.script([{ content: [text('Design ready.')], stop_reason: 'stop_sequence', stop_sequence: '###' }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'completed');
    assert.equal(result.reason, 'the model produced the stop sequence "###"');
  });

  test('stops on a stop_reason it does not know', async (t) => {
    const h = await harness(t);
    h.fake.script([{ content: [text('Something new.')], stop_reason: 'quantum_interruption' }]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.status, 'api_error');
    assert.match(result.reason, /unrecognised stop_reason "quantum_interruption"/);
    h.budget.assertSettledWithinReservations();
  });

  test('uses the thinking text as last words when there is no text block', async (t) => {
    const h = await harness(t);
    h.fake.script([
      { content: [thinking('Checking the catalog before deciding.'), toolUse('list_indicators', {})], stop_reason: 'tool_use' },
      { content: [thinking('Nothing more to do.')], stop_reason: 'end_turn' },
    ]);

    const result = await invokeAgent(h.deps());

    assert.equal(result.lastText, 'Nothing more to do.');
  });

  test('ends with budget_exhausted when a reservation is refused mid-invocation, without sending that request', async (t) => {
    const limitUsd = 1;
    const h = await harness(t, { limitUsd });
    // Each turn thinks about 8,000 tokens ($0.16 of output), so spending and the growing prompt exhaust $1.
    h.fake.script(
      Array.from({ length: 10 }, (_, index) => ({
        content: [thinking(`Turn ${index}: ${'weighing momentum against mean reversion. '.repeat(780)}`), toolUse('list_indicators', {})],
        stop_reason: 'tool_use',
      })),
    );

    const result = await invokeAgent(h.deps({ maxTokens: 16_000 }));

    assert.equal(result.status, 'budget_exhausted', result.reason);
    assert.match(result.reason, /so it was not sent/);
    assert.ok(h.fake.requests.length >= 2, `only ${h.fake.requests.length} request(s) before exhaustion`);
    assert.equal(h.fake.requests.length, h.budget.settlements.length);
    assert.equal(h.fake.remainingSteps(), 10 - h.fake.requests.length);
    assert.equal(h.budget.refused.length, 1);
    assert.ok(h.budget.spentUsd <= limitUsd, `spent $${h.budget.spentUsd} of $${limitUsd}`);
    assert.ok(h.budget.spentUsd + h.budget.refused[0]! > limitUsd);
    assert.equal(result.costUsd, h.budget.spentUsd);
    h.budget.assertSettledWithinReservations();
  });

  test('ends with timeout when the API does not answer within the time limit', async (t) => {
    const h = await harness(t);
    h.fake.script([
      (_request, { signal }) =>
        new Promise<ScriptStep>((resolve) => {
          signal.addEventListener('abort', () => resolve(endTurn('Too late.')));
        }),
    ]);

    const result = await invokeAgent(h.deps({ timeoutMs: 300 }));

    assert.equal(result.status, 'timeout');
    assert.match(result.reason, /time limit of 300 ms/);
    const [settlement] = h.budget.settlements;
    assert.equal(settlement?.actualUsd, settlement?.reservedUsd, 'a call cut off in flight keeps its reservation');
    h.budget.assertSettledWithinReservations();
  });
});

describe('module loading', () => {
  test('invoke.ts and pricing.ts load without the SDK; only anthropic-client.ts loads it', () => {
    const script = `
      import { registerHooks } from 'node:module';
      const sdkModules = [];
      registerHooks({
        resolve(specifier, context, next) {
          const resolved = next(specifier, context);
          if (resolved.url.includes('@anthropic-ai/sdk')) sdkModules.push(resolved.url);
          return resolved;
        },
      });
      await import(${JSON.stringify(new URL('../../src/core/agent/invoke.ts', import.meta.url).href)});
      const withoutClient = sdkModules.length;
      await import(${JSON.stringify(new URL('../../src/core/agent/anthropic-client.ts', import.meta.url).href)});
      console.log(JSON.stringify({ withoutClient, withClient: sdkModules.length }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const counts = JSON.parse(child.stdout) as { withoutClient: number; withClient: number };
    assert.equal(counts.withoutClient, 0);
    assert.ok(counts.withClient > 0);
  });
});

describe('prompt caching', () => {
  const fourTurnScript = (): ScriptStep[] => [
    { content: [thinking('Survey the indicators.'), toolUse('list_indicators', {})], stop_reason: 'tool_use' },
    { content: [thinking('Draft a strategy.'), toolUse('validate_strategy', { yaml: 'name: momentum_v1' })], stop_reason: 'tool_use' },
    { content: [thinking('Refine it.'), toolUse('validate_strategy', { yaml: 'name: momentum_v2' })], stop_reason: 'tool_use' },
    endTurn('momentum_v2 is the design.'),
  ];

  async function runConversation(t: TestContext, promptCaching: boolean) {
    const h = await harness(t);
    h.fake.script(fourTurnScript());
    const result = await invokeAgent(h.deps({ promptCaching, isDone: () => false }));
    assert.equal(result.status, 'completed', result.reason);
    assert.deepEqual(h.fake.scriptErrors, []);
    return { h, result };
  }

  function breakpointsOf(request: RecordedRequest): string[] {
    const body = request.body;
    assert.ok(body);
    const found: string[] = [];
    body.tools?.forEach((tool, index) => tool.cache_control && found.push(`tools.${index}`));
    if (Array.isArray(body.system)) body.system.forEach((block, index) => block.cache_control && found.push(`system.${index}`));
    body.messages.forEach((message, index) => {
      if (Array.isArray(message.content)) {
        message.content.forEach((block, blockIndex) => block.cache_control && found.push(`messages.${index}.${blockIndex}`));
      }
    });
    return found;
  }

  test('marks the system block and the newest user message, and reads the cache from turn 2 on', async (t) => {
    const { h } = await runConversation(t, true);

    for (const request of h.fake.requests) {
      const lastMessage = request.body!.messages.length - 1;
      const lastBlock = (request.body!.messages[lastMessage]!.content as WireBlock[]).length - 1;
      // No breakpoint on the tools alone: below the minimum cacheable length it creates nothing.
      assert.deepEqual(breakpointsOf(request), ['system.0', `messages.${lastMessage}.${lastBlock}`]);
    }
    const [first, ...later] = h.responses;
    assert.ok(first!.usage.cacheWrite > 0);
    assert.equal(first!.usage.cacheRead, 0);
    for (const info of later) assert.ok(info.usage.cacheRead > 0, `turn ${info.turn} read nothing from the cache`);
    // Each turn reads at least everything the previous turn sent.
    for (let index = 1; index < h.responses.length; index += 1) {
      const previous = h.responses[index - 1]!.usage;
      assert.ok(h.responses[index]!.usage.cacheRead >= previous.cacheRead + previous.cacheWrite);
    }
  });

  test('costs no more with caching on than off for the same 4-turn conversation', async (t) => {
    const on = await runConversation(t, true);
    const off = await runConversation(t, false);

    for (const request of off.h.fake.requests) assert.deepEqual(breakpointsOf(request), []);
    for (const info of off.h.responses) {
      assert.equal(info.usage.cacheRead, 0);
      assert.equal(info.usage.cacheWrite, 0);
    }
    // Caching changes how the prompt is billed, not how big it is.
    assert.deepEqual(
      on.h.responses.map((info) => info.usage.input + info.usage.cacheWrite + info.usage.cacheRead),
      off.h.responses.map((info) => info.usage.input),
    );
    console.log(
      `4-turn conversation on ${MODEL}: caching on $${on.result.costUsd.toFixed(6)} ` +
        `(input ${on.result.usage.input}, cache write ${on.result.usage.cacheWrite}, cache read ${on.result.usage.cacheRead}, ` +
        `output ${on.result.usage.output}); caching off $${off.result.costUsd.toFixed(6)} ` +
        `(input ${off.result.usage.input}, output ${off.result.usage.output})`,
    );
    assert.ok(on.result.costUsd <= off.result.costUsd);
  });
});

describe('the fake Messages API holds the client to the real rules', () => {
  async function firstTurn(t: TestContext) {
    const h = await harness(t);
    h.fake.script([{ content: [thinking('Look first.'), toolUse('list_indicators', {})], stop_reason: 'tool_use' }]);
    const tools = [{ name: 'list_indicators', description: 'Lists indicators.', input_schema: { type: 'object' as const } }];
    const question = { role: 'user' as const, content: 'Design a strategy.' };
    const message = await h.client.messages.create({ model: MODEL, max_tokens: 1_024, tools, messages: [question] });
    const call = message.content.find((block) => block.type === 'tool_use');
    assert.ok(call?.type === 'tool_use');
    const answer = { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: call.id, content: '[]' }] };
    return { h, tools, question, message, answer };
  }

  async function rejection(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => assert.fail('the fake accepted the request'),
      (caught: unknown) => caught as { status?: number; apiMessage?: string },
    );
    assert.equal(error.status, 400);
    return error.apiMessage ?? '';
  }

  test('rejects a thinking block whose text was changed', async (t) => {
    const { h, tools, question, message, answer } = await firstTurn(t);
    const tampered = message.content.map((block) => (block.type === 'thinking' ? { ...block, thinking: 'Edited.' } : block));
    const error = await rejection(
      h.client.messages.create({ model: MODEL, max_tokens: 1_024, tools, messages: [question, { role: 'assistant', content: tampered }, answer] }),
    );
    assert.match(error, /Invalid `signature` in `thinking` block/);
  });

  test('rejects a tool turn whose thinking was dropped', async (t) => {
    const { h, tools, question, message, answer } = await firstTurn(t);
    const withoutThinking = message.content.filter((block) => block.type !== 'thinking');
    const error = await rejection(
      h.client.messages.create({ model: MODEL, max_tokens: 1_024, tools, messages: [question, { role: 'assistant', content: withoutThinking }, answer] }),
    );
    assert.match(error, /thinking blocks must be passed back unmodified and in their original order/);
  });

  test('rejects a tool_use left without its tool_result', async (t) => {
    const { h, tools, question, message } = await firstTurn(t);
    const error = await rejection(
      h.client.messages.create({
        model: MODEL,
        max_tokens: 1_024,
        tools,
        messages: [question, { role: 'assistant', content: message.content }, { role: 'user', content: 'Go on.' }],
      }),
    );
    assert.match(error, /without `tool_result` blocks immediately after/);
  });

  test('rejects forced tool use on claude-opus-5-5', async (t) => {
    const { h, tools, question } = await firstTurn(t);
    const error = await rejection(h.client.messages.create({ model: MODEL, max_tokens: 1_024, tools, tool_choice: { type: 'any' }, messages: [question] }));
    assert.match(error, /forced tool use \("any"\) is not supported with claude-opus-5-5/);
  });

  test('rejects disabled thinking and budget_tokens on the always-thinking models, and inference_geo on Haiku 4.5', async (t) => {
    const { h, question } = await firstTurn(t);
    for (const model of ['claude-opus-5-5', 'claude-fable-5-2']) {
      for (const thinkingParam of [{ type: 'disabled' as const }, { type: 'enabled' as const, budget_tokens: 2_000 }]) {
        const error = await rejection(h.client.messages.create({ model, max_tokens: 4_096, thinking: thinkingParam, messages: [question] }));
        assert.match(error, new RegExp(`"thinking.type.${thinkingParam.type}" is not supported for this model`));
      }
    }
    const geo = await rejection(h.client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 1_024, inference_geo: 'us', messages: [question] }));
    assert.match(geo, /inference_geo: not supported on claude-haiku-4-5/);
  });

  test('answers count_tokens with the input tokens that messages bills, without consuming the script', async (t) => {
    const { h, tools, question } = await firstTurn(t);
    h.fake.script([endTurn('Counted and answered.')]);
    const counted = await h.client.messages.countTokens({ model: MODEL, tools, messages: [question] });
    const message = await h.client.messages.create({ model: MODEL, max_tokens: 1_024, tools, messages: [question] });
    assert.equal(counted.input_tokens, message.usage.input_tokens);
    assert.equal(h.fake.remainingSteps(), 0);
  });

  test('rejects more than four cache breakpoints', async (t) => {
    const { h } = await firstTurn(t);
    const cached = (value: string) => ({ type: 'text' as const, text: value, cache_control: { type: 'ephemeral' as const } });
    const error = await rejection(
      h.client.messages.create({
        model: MODEL,
        max_tokens: 1_024,
        system: [cached('a'), cached('b'), cached('c')],
        messages: [{ role: 'user', content: [cached('d'), cached('e')] }],
      }),
    );
    assert.match(error, /A maximum of 4 blocks with cache_control may be provided\. Found 5\./);
  });

  test('rejects a request without credentials', async (t) => {
    const { h } = await firstTurn(t);
    const response = await fetch(`${h.fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { type: string } }).error.type, 'authentication_error');
  });
});
