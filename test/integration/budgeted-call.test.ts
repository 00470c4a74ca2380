import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { createAnthropicClient } from '../../src/core/agent/anthropic-client.ts';
import {
  budgetedCall,
  sizeCall,
  type CallBudgetDeps,
  type CallLimits,
  type InvocationBudget,
  type RateLimitState,
  type SettlementDetails,
} from '../../src/core/agent/budgeted-call.ts';
import { costOfUsage, priceFor } from '../../src/core/budget/pricing.ts';
import { startFakeAnthropic, text, type FakeAnthropic, type ScriptStep } from '../support/fake-anthropic.ts';

const API_KEY = 'sk-ant-api03-test-budgeted-call-4d2a';
const MODEL = 'claude-opus-5-5';
const REQUEST: MessageCreateParamsNonStreaming = {
  model: MODEL,
  max_tokens: 1_024,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Name one momentum indicator.' }] }],
};

/** A ledger that remembers every reservation and how often each was settled. */
class Ledger implements InvocationBudget {
  readonly reserved = new Map<string, number>();
  readonly settled: Array<{ id: string; actualUsd: number } & SettlementDetails> = [];
  #refuse: boolean;
  #next = 1;

  constructor(options: { refuse?: boolean } = {}) {
    this.#refuse = options.refuse ?? false;
  }

  async reserve(amountUsd: number): Promise<{ id: string } | null> {
    if (this.#refuse) return null;
    const id = `r${this.#next++}`;
    this.reserved.set(id, amountUsd);
    return { id };
  }

  async settle(id: string, actualUsd: number, _usage: unknown, details: SettlementDetails): Promise<void> {
    this.settled.push({ id, actualUsd, ...details });
  }

  /** Every reservation settled exactly once, and nothing settled that was not reserved. */
  assertEachSettledOnce(): void {
    const ids = this.settled.map((s) => s.id);
    assert.deepEqual([...ids].sort(), [...this.reserved.keys()].sort());
  }
}

async function rig(
  t: TestContext,
  steps: ScriptStep[],
  ledger = new Ledger(),
  maxAttempts = 1,
): Promise<{ fake: FakeAnthropic; deps: CallBudgetDeps; ledger: Ledger }> {
  const fake = await startFakeAnthropic({ apiKey: API_KEY });
  t.after(() => fake.close());
  fake.script(steps);
  const client = createAnthropicClient({ apiKey: API_KEY, baseURL: fake.url, timeoutMs: 10_000 });
  return { fake, ledger, deps: { client, price: priceFor(MODEL), maxTokens: REQUEST.max_tokens, budget: ledger, retry: { maxAttempts, initialDelayMs: 1 } } };
}

function limits(rateLimit: RateLimitState | null = null): CallLimits {
  return { signal: new AbortController().signal, deadline: Date.now() + 20_000, timeoutMs: 20_000, rateLimit };
}

const answer: ScriptStep = { content: [text('RSI.')], stop_reason: 'end_turn' };

describe('the budgeted call: reserve, send, settle, retry', () => {
  test('an answered call holds its worst case, then settles it once at what the usage costs', async (t) => {
    const { fake, deps, ledger } = await rig(t, [answer]);
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'answered');
    const usage = JSON.parse(fake.requests[0]!.response!.body).usage;
    const expected = costOfUsage(deps.price, usage);
    assert.deepEqual(
      { attempts: call.attempts, costUsd: call.costUsd, answerUsd: call.answerUsd, inputCounted: call.inputCounted },
      { attempts: 1, costUsd: expected, answerUsd: expected, inputCounted: true },
    );
    ledger.assertEachSettledOnce();
    const { worstCaseUsd } = await sizeCall(deps, REQUEST, new AbortController().signal);
    assert.deepEqual([...ledger.reserved.values()], [worstCaseUsd]);
    assert.ok(expected < worstCaseUsd);
    assert.deepEqual(
      ledger.settled.map((s) => ({ actualUsd: s.actualUsd, estimated: s.estimated })),
      [{ actualUsd: expected, estimated: false }],
    );
  });

  test("the API's refusal after the reservation releases it: settled once at $0, nothing left held", async (t) => {
    const { deps, ledger } = await rig(t, [{ status: 400, message: 'messages: roles must alternate' }]);
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'stopped');
    assert.deepEqual({ status: call.status, sent: call.sent, costUsd: call.costUsd }, { status: 'api_error', sent: true, costUsd: 0 });
    assert.match(call.reason, /400 invalid_request_error: messages: roles must alternate/);
    ledger.assertEachSettledOnce();
    assert.deepEqual(
      ledger.settled.map((s) => ({ actualUsd: s.actualUsd, estimated: s.estimated })),
      [{ actualUsd: 0, estimated: false }],
    );
  });

  test('a retry settles each attempt once: the overloaded one at $0, the answered one at its usage', async (t) => {
    const { fake, deps, ledger } = await rig(t, [{ status: 529 }, answer], new Ledger(), 3);
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'answered');
    assert.equal(call.attempts, 2);
    assert.equal(fake.requests.length, 2);
    ledger.assertEachSettledOnce();
    assert.equal(ledger.reserved.size, 2);
    const expected = costOfUsage(deps.price, JSON.parse(fake.requests[1]!.response!.body).usage);
    assert.deepEqual(
      ledger.settled.map((s) => ({ id: s.id, actualUsd: s.actualUsd, estimated: s.estimated })),
      [
        { id: 'r1', actualUsd: 0, estimated: false },
        { id: 'r2', actualUsd: expected, estimated: false },
      ],
    );
    assert.equal(call.costUsd, expected);
  });

  test('retries stop at maxAttempts, every attempt settled once', async (t) => {
    const { fake, deps, ledger } = await rig(t, [{ status: 529 }, { status: 529 }, answer], new Ledger(), 2);
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'stopped');
    assert.deepEqual({ status: call.status, sent: call.sent }, { status: 'infrastructure_fault', sent: true });
    assert.match(call.reason, /after 2 attempts/);
    assert.equal(fake.requests.length, 2);
    ledger.assertEachSettledOnce();
  });

  test('an attempt cut off after it was sent keeps its reservation, marked an estimate', async (t) => {
    const { deps, ledger } = await rig(t, [{ drop: true }]);
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'stopped');
    const [reservedUsd] = [...ledger.reserved.values()];
    assert.deepEqual({ status: call.status, costUsd: call.costUsd }, { status: 'infrastructure_fault', costUsd: reservedUsd });
    ledger.assertEachSettledOnce();
    assert.deepEqual(
      ledger.settled.map((s) => ({ actualUsd: s.actualUsd, estimated: s.estimated })),
      [{ actualUsd: reservedUsd, estimated: true }],
    );
  });

  test('an answer that is not a message (an HTML page) is settled at $0 and is a fault of the world', async (t) => {
    const { deps, ledger } = await rig(t, [{ htmlPage: true }]);
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'stopped');
    assert.equal(call.status, 'infrastructure_fault');
    assert.equal(call.fault?.faultClass, 'anthropic_unbilled');
    ledger.assertEachSettledOnce();
    assert.deepEqual(
      ledger.settled.map((s) => s.actualUsd),
      [0],
    );
  });

  test('a budget that cannot cover the worst case: nothing sent, nothing to settle', async (t) => {
    const { fake, deps, ledger } = await rig(t, [answer], new Ledger({ refuse: true }));
    const call = await budgetedCall(deps, REQUEST, limits());
    assert.equal(call.kind, 'stopped');
    assert.deepEqual({ status: call.status, sent: call.sent, costUsd: call.costUsd }, { status: 'budget_exhausted', sent: false, costUsd: 0 });
    assert.equal(fake.requests.length, 0);
    assert.equal(ledger.settled.length, 0);
  });

  test('a quota the last answer said is spent: nothing reserved, nothing sent', async (t) => {
    const { fake, deps, ledger } = await rig(t, [answer]);
    const spent: RateLimitState = { requestsRemaining: 0, inputTokensRemaining: null, outputTokensRemaining: null, resetAt: '2026-12-07T04:00:00Z' };
    const call = await budgetedCall(deps, REQUEST, limits(spent));
    assert.equal(call.kind, 'stopped');
    assert.deepEqual(
      { status: call.status, sent: call.sent, fault: call.fault?.faultClass },
      { status: 'infrastructure_fault', sent: false, fault: 'anthropic_rate_limited' },
    );
    assert.equal(fake.requests.length, 0);
    assert.equal(ledger.reserved.size, 0);
  });

  test("an answer's rate-limit headers are passed on and returned for the next call", async (t) => {
    const seen: RateLimitState[] = [];
    const { deps } = await rig(t, [
      { ...answer, headers: { 'anthropic-ratelimit-requests-remaining': '7', 'anthropic-ratelimit-requests-reset': '2026-12-07T04:00:00Z' } },
    ]);
    const call = await budgetedCall({ ...deps, onRateLimit: (state) => void seen.push(state) }, REQUEST, limits());
    const expected = { requestsRemaining: 7, inputTokensRemaining: null, outputTokensRemaining: null, resetAt: '2026-12-07T04:00:00Z' };
    assert.deepEqual(seen, [expected]);
    assert.deepEqual(call.rateLimit, expected);
  });
});
