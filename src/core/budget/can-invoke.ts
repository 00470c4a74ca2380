// The budget's go/no-go for a model invocation: pure, counted in whole micro-dollars so that "exactly enough" is
// enough and one micro-dollar short is not, the same line the ledger draws when it reserves.
import { bookedMicroUsd, MICRO_USD_PER_USD, microUsdOf } from './money.ts';
import { priceFor, worstCaseCost } from './pricing.ts';

/**
 * The most a first request sends (system prompt, tools and the session's context): it bounds the worst case of the
 * cheapest call, below which the budget buys nothing.
 */
export const FIRST_REQUEST_INPUT_TOKENS = 6_000;

/** The call whose worst case is the least an invocation needs: the configured model, its prices, `max_tokens`. */
export interface CheapestCall {
  model: string;
  /** AGENT_MODEL_PRICES, the JSON price overrides. */
  priceOverrides?: string;
  maxTokens: number;
}

/** The worst case of a first request: less than this left above the buffer buys no call. */
export function cheapestCallUsd(call: CheapestCall): number {
  const price = priceFor(call.model, call.priceOverrides);
  return worstCaseCost(price, { inputTokensUpperBound: FIRST_REQUEST_INPUT_TOKENS, maxTokens: call.maxTokens });
}

export type InvokeVerdict =
  | { ok: true; reason: 'not_metered' | 'not_enforced' | 'affordable' }
  | { ok: false; reason: 'buffer_reached' | 'below_cheapest_call'; spendableUsd: number; cheapestCallUsd: number };

export interface CanInvokeInput {
  /** False for designers that call no model (the baseline, evolve): they cost nothing. */
  metered: boolean;
  /** AGENT_BUDGET_ENFORCEMENT. */
  enforce: boolean;
  /** Today's limit less what is used and reserved (`remainingUsd`). */
  remainingUsd: number;
  /** AGENT_BUDGET_BUFFER_USD, never spent. */
  bufferUsd: number;
  /** `cheapestCallUsd`: it is reserved rounded up, so it is compared rounded up. */
  cheapestCallUsd: number;
}

/** An invocation may start: what is left above the buffer pays for the cheapest call's worst case, or nothing is metered. */
export function canInvoke(input: CanInvokeInput): InvokeVerdict {
  if (!input.metered) return { ok: true, reason: 'not_metered' };
  if (!input.enforce) return { ok: true, reason: 'not_enforced' };
  const spendable = microUsdOf(input.remainingUsd) - microUsdOf(input.bufferUsd);
  const cheapest = bookedMicroUsd(input.cheapestCallUsd);
  if (spendable > 0 && spendable >= cheapest) return { ok: true, reason: 'affordable' };
  return {
    ok: false,
    reason: spendable <= 0 ? 'buffer_reached' : 'below_cheapest_call',
    spendableUsd: Math.max(0, spendable) / MICRO_USD_PER_USD,
    cheapestCallUsd: input.cheapestCallUsd,
  };
}
