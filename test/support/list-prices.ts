// Expected dollars for cost checks, from the list prices written out here (USD per million tokens, from each model's
// overview page), so an end-to-end cost check does not use the production price table as its own oracle.
import assert from 'node:assert/strict';

const LIST_PRICES: Record<string, { input: number; cacheWrite5m: number; cacheWrite1h: number; cacheRead: number; output: number }> = {
  'claude-opus-5-5': { input: 4, cacheWrite5m: 5, cacheWrite1h: 8, cacheRead: 0.2, output: 20 },
};

/** What one response's usage costs at its model's list price: US-only inference at 1.1x. */
export function listPriceUsd(model: string, usage: Record<string, unknown>): number {
  const price = LIST_PRICES[model];
  assert.ok(price, `no list price written out for ${model}`);
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const write1h = count((usage.cache_creation as Record<string, unknown> | undefined)?.ephemeral_1h_input_tokens);
  const write5m = count(usage.cache_creation_input_tokens) - write1h;
  const usd =
    (count(usage.input_tokens) * price.input +
      write5m * price.cacheWrite5m +
      write1h * price.cacheWrite1h +
      count(usage.cache_read_input_tokens) * price.cacheRead +
      count(usage.output_tokens) * price.output) /
    1e6;
  return usage.inference_geo === 'us' ? usd * 1.1 : usd;
}
