import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InvalidPriceOverridesError,
  PRICE_TABLE,
  RetiredModelError,
  UnknownModelPriceError,
  UnpricedUsageError,
  costOfUsage,
  deprecationWarning,
  estimateInputTokensUpperBound,
  maxTokensProblem,
  parsePriceOverrides,
  priceFor,
  worstCaseCost,
  type BillableUsage,
} from '../../src/core/budget/pricing.ts';

/** One usage with every billable field, priced for each model below by hand. */
const MIXED_USAGE: BillableUsage = {
  input_tokens: 12_345,
  output_tokens: 6_789,
  cache_creation_input_tokens: 12_000,
  cache_read_input_tokens: 50_000,
  cache_creation: { ephemeral_5m_input_tokens: 10_000, ephemeral_1h_input_tokens: 2_000 },
};

describe('price table', () => {
  // Pinned against the docs on 2026-12-01 (pricing page, models overview, each model's overview page); a change
  // here must come with a new check of those pages and a new date in pricing.ts.
  const expectedRates = [
    // model, input, output, 5m write, 1h write, read, deprecated
    ['claude-fable-5-2', 8, 40, 10, 16, 0.8, false],
    ['claude-fable-5-1', 10, 50, 12.5, 20, 0.25, false],
    ['claude-opus-5-5', 4, 20, 5, 8, 0.2, false],
    ['claude-opus-5', 5, 25, 6.25, 10, 0.5, false],
    ['claude-sonnet-5-5', 2, 10, 2.5, 4, 0.1, false],
    ['claude-sonnet-5', 2, 10, 2.5, 4, 0.2, false],
    ['claude-haiku-5-5', 0.1, 0.5, 0.125, 0.2, 0.01, false],
    ['claude-haiku-4-5', 1, 5, 1.25, 2, 0.1, false],
    ['claude-opus-4-5', 5, 25, 6.25, 10, 0.5, true],
  ] as const;

  for (const [model, input, output, cacheWrite5m, cacheWrite1h, cacheRead, deprecated] of expectedRates) {
    test(`${model} is priced per million tokens`, () => {
      const price = priceFor(model);
      assert.deepEqual(
        {
          input: price.input,
          output: price.output,
          cacheWrite5m: price.cacheWrite5m,
          cacheWrite1h: price.cacheWrite1h,
          cacheRead: price.cacheRead,
          deprecated: price.deprecated,
          source: price.source,
        },
        { input, output, cacheWrite5m, cacheWrite1h, cacheRead, deprecated, source: 'table' },
      );
    });
  }

  test('dated snapshots share their price and lifecycle', () => {
    assert.equal(priceFor('claude-opus-4-5-20251101').input, 5);
    assert.equal(priceFor('claude-opus-4-5-20251101').deprecated, true);
    assert.equal(priceFor('claude-haiku-4-5-20251001').output, 5);
  });

  test('haiku 5.5 has a long-prompt tier above 100k prompt tokens, at 5x', () => {
    assert.deepEqual(priceFor('claude-haiku-5-5').tiers, [
      { abovePromptTokens: 100_000, input: 0.5, output: 2.5, cacheWrite5m: 0.625, cacheWrite1h: 1, cacheRead: 0.05 },
    ]);
  });

  test('a retired model is refused with its replacement named, even with a price override', () => {
    for (const model of ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929']) {
      assert.throws(
        () => priceFor(model),
        (error: unknown) => {
          assert.ok(error instanceof RetiredModelError);
          assert.match(error.message, /retired on 2026-11-30/);
          assert.match(error.message, /"claude-sonnet-5-5"/);
          return true;
        },
      );
    }
    assert.throws(() => priceFor('claude-sonnet-4-5', '{"claude-sonnet-4-5":{"input":3,"output":15}}'), RetiredModelError);
  });

  test('a deprecated model gets a warning with its retirement date and replacement; an active one none', () => {
    assert.match(deprecationWarning(priceFor('claude-opus-4-5'))!, /retires on 2027-01-22.*"claude-opus-5-5"/);
    assert.equal(deprecationWarning(priceFor('claude-opus-5-5')), null);
  });

  test('max_tokens is checked against the model output limit', () => {
    assert.equal(maxTokensProblem(priceFor('claude-opus-5-5'), 128_000), null);
    assert.match(maxTokensProblem(priceFor('claude-haiku-4-5'), 100_000)!, /64000-token output limit of claude-haiku-4-5/);
  });

  test('every row names its source page and the day it was checked', () => {
    for (const price of PRICE_TABLE.values()) {
      assert.match(price.sourcePage, /^https:\/\/platform\.claude\.com\/docs\//, price.model);
      assert.match(price.checkedOn, /^\d{4}-\d{2}-\d{2}$/, price.model);
    }
  });

  test('every table entry has non-negative finite rates', () => {
    for (const price of PRICE_TABLE.values()) {
      for (const rate of [price.input, price.output, price.cacheWrite5m, price.cacheWrite1h, price.cacheRead]) {
        assert.ok(Number.isFinite(rate) && rate >= 0, `${price.model}: ${rate}`);
      }
    }
  });
});

describe('costOfUsage', () => {
  const expectedCosts = [
    // 12,345 in + 6,789 out + 10,000 5m writes + 2,000 1h writes + 50,000 reads
    ['claude-opus-5-5', 0.26116], // 49,380 + 135,780 + 50,000 + 16,000 + 10,000 micro-dollars
    ['claude-opus-5', 0.33895], // 61,725 + 169,725 + 62,500 + 20,000 + 25,000
    ['claude-sonnet-5-5', 0.13058], // 24,690 + 67,890 + 25,000 + 8,000 + 5,000 (reads at $0.10 since 2026-10-07)
    ['claude-sonnet-5', 0.13558], // 24,690 + 67,890 + 25,000 + 8,000 + 10,000
    ['claude-haiku-5-5', 0.006779], // prompt 74,345 <= 100k: 1,234.5 + 3,394.5 + 1,250 + 400 + 500
    ['claude-haiku-4-5', 0.06779], // 12,345 + 33,945 + 12,500 + 4,000 + 5,000
    ['claude-fable-5-1', 0.6404], // 123,450 + 339,450 + 125,000 + 40,000 + 12,500
    ['claude-fable-5-2', 0.54232], // 98,760 + 271,560 + 100,000 + 32,000 + 40,000
    ['claude-opus-4-5', 0.33895],
  ] as const;

  for (const [model, expected] of expectedCosts) {
    test(`${model}: every usage field is billed at its own rate`, () => {
      assert.equal(costOfUsage(priceFor(model), MIXED_USAGE), expected);
    });
  }

  test('amounts far below a cent are exact', () => {
    const opus = priceFor('claude-opus-5-5');
    assert.equal(costOfUsage(opus, { input_tokens: 1, output_tokens: 0 }), 0.000004);
    assert.equal(costOfUsage(opus, { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 1 }), 0.0000002);
    assert.equal(costOfUsage(priceFor('claude-sonnet-5'), { input_tokens: 0, output_tokens: 7 }), 0.00007);
    assert.equal(costOfUsage(priceFor('claude-haiku-5-5'), { input_tokens: 3, output_tokens: 0 }), 0.0000003);
  });

  test('large counts stay exact', () => {
    assert.equal(costOfUsage(priceFor('claude-fable-5-1'), { input_tokens: 0, output_tokens: 2_000_000 }), 100);
    assert.equal(costOfUsage(priceFor('claude-opus-5-5'), { input_tokens: 987_654_321, output_tokens: 0 }), 3950.617284);
  });

  test('cache writes without a TTL breakdown are billed as 5-minute writes', () => {
    const usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 1_000, cache_creation: null };
    assert.equal(costOfUsage(priceFor('claude-opus-5-5'), usage), 0.005);
  });

  test('cache writes the breakdown leaves out are billed as 5-minute writes', () => {
    const usage = {
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 1_000,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 400 },
    };
    // 600 x $5 + 400 x $8 per million
    assert.equal(costOfUsage(priceFor('claude-opus-5-5'), usage), 0.0062);
  });

  test('null cache fields cost nothing', () => {
    const usage = { input_tokens: 100, output_tokens: 10, cache_creation_input_tokens: null, cache_read_input_tokens: null };
    assert.equal(costOfUsage(priceFor('claude-opus-5-5'), usage), 0.0006);
  });

  test('haiku 5.5 bills the whole request at the long-prompt tier once the prompt exceeds 100k tokens', () => {
    const haiku = priceFor('claude-haiku-5-5');
    const atThreshold = { input_tokens: 50_000, cache_read_input_tokens: 50_000, output_tokens: 1_000 };
    // 50,000 x $0.10 + 50,000 x $0.01 + 1,000 x $0.50 per million
    assert.equal(costOfUsage(haiku, atThreshold), 0.006);
    const aboveThreshold = { ...atThreshold, input_tokens: 50_001 };
    // 50,001 x $0.50 + 50,000 x $0.05 + 1,000 x $2.50 per million
    assert.equal(costOfUsage(haiku, aboveThreshold), 0.0300005);
  });

  test('cache writes count towards the prompt size that picks the haiku tier', () => {
    const haiku = priceFor('claude-haiku-5-5');
    const usage = { input_tokens: 1, output_tokens: 0, cache_creation_input_tokens: 100_000 };
    // 1 x $0.50 + 100,000 x $0.625 per million
    assert.equal(costOfUsage(haiku, usage), 0.0625005);
  });

  test('inference in the US costs 1.1x on every token kind', () => {
    const opus = priceFor('claude-opus-5-5');
    assert.equal(costOfUsage(opus, { ...MIXED_USAGE, inference_geo: 'us' }), 0.287276);
    assert.equal(costOfUsage(opus, { ...MIXED_USAGE, inference_geo: 'global' }), 0.26116);
  });

  test('fast mode and service tiers without a known price fail closed', () => {
    const opus = priceFor('claude-opus-5-5');
    assert.throws(() => costOfUsage(opus, { ...MIXED_USAGE, speed: 'fast' }), UnpricedUsageError);
    assert.throws(() => costOfUsage(opus, { ...MIXED_USAGE, service_tier: 'priority' }), UnpricedUsageError);
    assert.equal(costOfUsage(opus, { ...MIXED_USAGE, speed: 'standard', service_tier: 'standard' }), 0.26116);
  });
});

describe('worstCaseCost', () => {
  test('prices every prompt token at the 5-minute write rate the agent requests, and output at max_tokens', () => {
    const opus = priceFor('claude-opus-5-5');
    // 10,000 x $5 (5m write, not the $8 1h rate) + 4,000 x $20 per million
    assert.equal(worstCaseCost(opus, { inputTokensUpperBound: 10_000, maxTokens: 4_000, mayRunInUs: false }), 0.13);
    // Without a breakpoint nothing is written: plain input.
    assert.equal(worstCaseCost(opus, { inputTokensUpperBound: 10_000, maxTokens: 4_000, cacheWrite: 'none', mayRunInUs: false }), 0.12);
    assert.equal(worstCaseCost(opus, { inputTokensUpperBound: 10_000, maxTokens: 4_000, cacheWrite: '1h', mayRunInUs: false }), 0.16);
  });

  test('reserves at 1.1x unless the call is pinned to global inference or the model has no geo routing', () => {
    const opus = priceFor('claude-opus-5-5');
    assert.equal(worstCaseCost(opus, { inputTokensUpperBound: 10_000, maxTokens: 4_000 }), 0.143);
    assert.equal(worstCaseCost(priceFor('claude-haiku-4-5'), { inputTokensUpperBound: 10_000, maxTokens: 4_000 }), 0.0325);
  });

  test('uses the haiku tier the prompt bound falls in', () => {
    const haiku = priceFor('claude-haiku-5-5');
    assert.equal(worstCaseCost(haiku, { inputTokensUpperBound: 100_000, maxTokens: 1_000, mayRunInUs: false }), 0.013);
    assert.equal(worstCaseCost(haiku, { inputTokensUpperBound: 250_000, maxTokens: 1_000, mayRunInUs: false }), 0.15875);
  });

  test('is never below the cost of a usage within its bounds', () => {
    for (const price of PRICE_TABLE.values()) {
      const model = price.model;
      for (const [input, write5m, write1h, read, output] of [
        [1_000, 0, 0, 0, 100],
        [0, 1_000, 0, 0, 100],
        [0, 0, 1_000, 0, 100],
        [0, 0, 0, 1_000, 100],
        [100_000, 50_000, 25_000, 24_999, 8_000],
        [1, 0, 0, 199_999, 8_000],
        [2, 0, 0, 199_999, 8_000],
      ] as const) {
        const usage = {
          input_tokens: input,
          output_tokens: output,
          cache_creation_input_tokens: write5m + write1h,
          cache_read_input_tokens: read,
          cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
        };
        const bound = {
          inputTokensUpperBound: input + write5m + write1h + read,
          maxTokens: 8_000,
          cacheWrite: write1h > 0 ? ('1h' as const) : ('5m' as const),
        };
        assert.ok(worstCaseCost(price, bound) >= costOfUsage(price, usage), `${model} ${JSON.stringify(usage)}`);
        assert.ok(worstCaseCost(price, bound) >= costOfUsage(price, { ...usage, inference_geo: 'us' }), `${model} in the US`);
      }
    }
  });
});

describe('estimateInputTokensUpperBound', () => {
  test('allows one token per two bytes of the serialized request, plus the API framing', () => {
    const body = { model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'hello' }] };
    const bytes = JSON.stringify(body).length;
    assert.equal(estimateInputTokensUpperBound(body), Math.ceil(bytes / 2) + 1024);
  });

  test('counts bytes, not characters, so non-ASCII text is not underestimated', () => {
    const ascii = estimateInputTokensUpperBound({ text: 'a'.repeat(300) });
    const accented = estimateInputTokensUpperBound({ text: 'é'.repeat(300) });
    const cjk = estimateInputTokensUpperBound({ text: '価'.repeat(300) });
    assert.ok(accented > ascii);
    assert.ok(cjk > accented);
    // Even one token per CJK character stays under the bound.
    assert.ok(cjk - 1024 >= 300);
  });

  test('stays above a chars/4 estimate of English prose', () => {
    const prose = 'The strategy buys when the fast moving average crosses above the slow one. '.repeat(200);
    assert.ok(estimateInputTokensUpperBound({ text: prose }) > prose.length / 4);
  });
});

describe('priceFor with overrides', () => {
  test('prices a model that only the overrides know, with the usual cache multipliers by default', () => {
    const price = priceFor('my-model', '{"my-model":{"input":1,"output":5,"cacheWrite":1.25,"cacheRead":0.1}}');
    assert.deepEqual(price, {
      model: 'my-model',
      input: 1,
      output: 5,
      cacheWrite5m: 1.25,
      cacheWrite1h: 2,
      cacheRead: 0.1,
      deprecated: false,
      lifecycle: 'active',
      maxOutputTokens: 128_000,
      thinking: 'adaptive',
      inferenceGeo: true,
      source: 'override',
      sourcePage: '',
      checkedOn: '',
    });
    assert.equal(costOfUsage(price, { input_tokens: 1_000, output_tokens: 1_000, cache_read_input_tokens: 1_000 }), 0.0061);
  });

  test('an override replaces the table price of a known model', () => {
    const price = priceFor('claude-opus-5-5', '{"claude-opus-5-5":{"input":3,"output":15}}');
    assert.equal(price.source, 'override');
    assert.deepEqual([price.input, price.output, price.cacheWrite5m, price.cacheWrite1h, price.cacheRead], [3, 15, 3.75, 6, 0.3]);
  });

  test('accepts parsed overrides and cacheWrite5m / cacheWrite1h keys', () => {
    const overrides = parsePriceOverrides('{"m":{"input":2,"output":8,"cacheWrite5m":3,"cacheWrite1h":5,"cacheRead":0}}');
    const price = priceFor('m', overrides);
    assert.deepEqual([price.cacheWrite5m, price.cacheWrite1h, price.cacheRead], [3, 5, 0]);
  });

  test('empty overrides configuration means no overrides', () => {
    assert.deepEqual(parsePriceOverrides('  '), {});
    assert.equal(priceFor('claude-sonnet-5', '').input, 2);
  });

  const invalid = [
    ['not JSON', '{"m":', /not valid JSON/],
    ['not an object', '[1,2]', /JSON object keyed by model/],
    ['entry not an object', '{"m":3}', /"m" must map to an object/],
    ['missing output', '{"m":{"input":1}}', /"m\.output" must be a non-negative number/],
    ['negative rate', '{"m":{"input":-1,"output":5}}', /"m\.input"/],
    ['misspelt key', '{"m":{"input":1,"ouput":5}}', /unknown key "ouput"/],
    ['both cacheWrite spellings', '{"m":{"input":1,"output":5,"cacheWrite":1,"cacheWrite5m":1}}', /both cacheWrite/],
  ] as const;
  for (const [problem, json, message] of invalid) {
    test(`rejects overrides with ${problem}`, () => {
      assert.throws(
        () => priceFor('m', json),
        (error: unknown) => error instanceof InvalidPriceOverridesError && message.test(error.message) && /Expected a JSON object/.test(error.message),
      );
    });
  }
});

describe('unknown models', () => {
  test('throw UnknownModelPriceError naming the model and how to fix it', () => {
    assert.throws(
      () => priceFor('claude-nonexistent-9'),
      (error: unknown) =>
        error instanceof UnknownModelPriceError &&
        error.model === 'claude-nonexistent-9' &&
        error.message.includes('claude-opus-5-5') &&
        error.message.includes('{"claude-nonexistent-9":{"input":1,"output":5'),
    );
  });

  test('overrides for other models do not help', () => {
    assert.throws(() => priceFor('claude-x', '{"claude-y":{"input":1,"output":5}}'), UnknownModelPriceError);
  });

  test('names of object properties are not models', () => {
    assert.throws(() => priceFor('toString'), UnknownModelPriceError);
    assert.throws(() => priceFor('constructor', {}), UnknownModelPriceError);
  });
});
