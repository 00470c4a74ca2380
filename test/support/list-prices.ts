// Expected dollars for cost checks, from the list prices written out here (USD per million tokens, from each model's
// overview page), so an end-to-end cost check does not use the production price table as its own oracle.
import assert from 'node:assert/strict';

interface Rates {
  input: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
  output: number;
}

const LIST_PRICES: Record<string, Rates & { longPrompt?: { aboveTokens: number; rates: Rates } }> = {
  'claude-opus-5-5': { input: 4, cacheWrite5m: 5, cacheWrite1h: 8, cacheRead: 0.2, output: 20 },
  // A prompt (input, cache reads and writes) above 100,000 tokens is billed at 5x.
  'claude-haiku-5-5': {
    input: 0.1,
    cacheWrite5m: 0.125,
    cacheWrite1h: 0.2,
    cacheRead: 0.01,
    output: 0.5,
    longPrompt: { aboveTokens: 100_000, rates: { input: 0.5, cacheWrite5m: 0.625, cacheWrite1h: 1, cacheRead: 0.05, output: 2.5 } },
  },
};

/** What one response's usage costs at its model's list price: US-only inference at 1.1x. */
export function listPriceUsd(model: string, usage: Record<string, unknown>): number {
  const price = LIST_PRICES[model];
  assert.ok(price, `no list price written out for ${model}`);
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const input = count(usage.input_tokens);
  const read = count(usage.cache_read_input_tokens);
  const write1h = count((usage.cache_creation as Record<string, unknown> | undefined)?.ephemeral_1h_input_tokens);
  const write5m = count(usage.cache_creation_input_tokens) - write1h;
  const long = price.longPrompt && input + read + write5m + write1h > price.longPrompt.aboveTokens;
  const rates = long ? price.longPrompt!.rates : price;
  const usd =
    (input * rates.input + write5m * rates.cacheWrite5m + write1h * rates.cacheWrite1h + read * rates.cacheRead + count(usage.output_tokens) * rates.output) /
    1e6;
  return usage.inference_geo === 'us' ? usd * 1.1 : usd;
}
