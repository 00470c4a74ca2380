import { Buffer } from 'node:buffer';

/** USD per million tokens for each kind of token the Messages API bills. */
export interface TokenRates {
  readonly input: number;
  readonly output: number;
  readonly cacheWrite5m: number;
  readonly cacheWrite1h: number;
  readonly cacheRead: number;
}

/** Rates that replace the base rates once a request's prompt is larger than `abovePromptTokens`. */
export interface PriceTier extends TokenRates {
  readonly abovePromptTokens: number;
}

export interface ModelPrice extends TokenRates {
  readonly model: string;
  readonly deprecated: boolean;
  readonly source: 'table' | 'override';
  /** Long-prompt tiers, ascending by threshold. The whole request is billed at the tier its prompt falls in. */
  readonly tiers?: readonly PriceTier[];
}

export type PriceOverrides = Readonly<Record<string, ModelPrice>>;

/**
 * The usage fields that carry cost. Structurally compatible with the SDK's `Usage`, so this module does not load
 * the SDK.
 */
export interface BillableUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
  readonly cache_creation?: {
    readonly ephemeral_5m_input_tokens?: number | null;
    readonly ephemeral_1h_input_tokens?: number | null;
  } | null;
}

export class UnknownModelPriceError extends Error {
  readonly model: string;

  constructor(model: string, knownModels: readonly string[]) {
    super(
      `No price is known for model "${model}", so its spending cannot be budgeted. ` +
        `Choose a priced model (${knownModels.join(', ')}) or add a price override for it, ` +
        `e.g. {"${model}":{"input":1,"output":5,"cacheWrite":1.25,"cacheRead":0.1}} (USD per million tokens).`,
    );
    this.name = 'UnknownModelPriceError';
    this.model = model;
  }
}

export class InvalidPriceOverridesError extends Error {
  constructor(problem: string) {
    super(
      `Invalid model price overrides: ${problem}. Expected a JSON object such as ` +
        `{"my-model":{"input":1,"output":5,"cacheWrite":1.25,"cacheWrite1h":2,"cacheRead":0.1}} ` +
        '(USD per million tokens; input and output required).',
    );
    this.name = 'InvalidPriceOverridesError';
  }
}

// Rates are held as integer micro-dollars per million tokens and summed as BigInt, so a cost is the exact sum
// rounded once to the nearest double (no drift from adding many small floats).
const MICRO = 1_000_000;
const PICO_PER_USD = 1e12;

function flatPrice(
  model: string,
  input: number,
  output: number,
  cacheWrite5m: number,
  cacheWrite1h: number,
  cacheRead: number,
  deprecated = false,
): ModelPrice {
  return { model, input, output, cacheWrite5m, cacheWrite1h, cacheRead, deprecated, source: 'table' };
}

const TABLE: readonly ModelPrice[] = [
  flatPrice('claude-opus-5-5', 4, 20, 5, 8, 0.2),
  flatPrice('claude-opus-5', 5, 25, 6.25, 10, 0.5),
  flatPrice('claude-sonnet-5-5', 2, 10, 2.5, 4, 0.2),
  flatPrice('claude-sonnet-5', 2, 10, 2.5, 4, 0.2),
  {
    model: 'claude-haiku-5-5',
    input: 1,
    output: 5,
    cacheWrite5m: 1.25,
    cacheWrite1h: 2,
    cacheRead: 0.1,
    deprecated: false,
    source: 'table',
    tiers: [{ abovePromptTokens: 200_000, input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2 }],
  },
  flatPrice('claude-fable-5-1', 10, 50, 12.5, 20, 1),
  flatPrice('claude-opus-4-5', 5, 25, 6.25, 10, 0.5, true),
  flatPrice('claude-opus-4-5-20251101', 5, 25, 6.25, 10, 0.5, true),
  flatPrice('claude-sonnet-4-5', 3, 15, 3.75, 6, 0.3, true),
  flatPrice('claude-sonnet-4-5-20250929', 3, 15, 3.75, 6, 0.3, true),
];

export const PRICE_TABLE: ReadonlyMap<string, ModelPrice> = new Map(TABLE.map((price) => [price.model, price]));

const OVERRIDE_KEYS = new Set(['input', 'output', 'cacheWrite', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead']);

/**
 * Parses the configured overrides. Only input and output are required; missing cache rates follow the API's usual
 * multipliers of the input rate (5-minute write 1.25x, 1-hour write 2x, read 0.1x).
 */
export function parsePriceOverrides(json: string): PriceOverrides {
  if (json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new InvalidPriceOverridesError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw new InvalidPriceOverridesError('the value must be a JSON object keyed by model');
  const overrides: Record<string, ModelPrice> = {};
  for (const [model, entry] of Object.entries(parsed)) {
    if (model.trim() === '') throw new InvalidPriceOverridesError('a model name is empty');
    if (!isPlainObject(entry)) throw new InvalidPriceOverridesError(`"${model}" must map to an object of rates`);
    for (const key of Object.keys(entry)) {
      if (!OVERRIDE_KEYS.has(key)) {
        throw new InvalidPriceOverridesError(`"${model}" has unknown key "${key}" (allowed: ${[...OVERRIDE_KEYS].join(', ')})`);
      }
    }
    if (entry.cacheWrite !== undefined && entry.cacheWrite5m !== undefined) {
      throw new InvalidPriceOverridesError(`"${model}" sets both cacheWrite and cacheWrite5m; they are the same rate`);
    }
    const rate = (key: string, fallback?: number): number => {
      const value = entry[key];
      if (value === undefined && fallback !== undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new InvalidPriceOverridesError(`"${model}.${key}" must be a non-negative number of USD per million tokens`);
      }
      return value;
    };
    const input = rate('input');
    overrides[model] = {
      model,
      input,
      output: rate('output'),
      cacheWrite5m: entry.cacheWrite5m !== undefined ? rate('cacheWrite5m') : rate('cacheWrite', derivedRate(input, 1.25)),
      cacheWrite1h: rate('cacheWrite1h', derivedRate(input, 2)),
      cacheRead: rate('cacheRead', derivedRate(input, 0.1)),
      deprecated: false,
      source: 'override',
    };
  }
  return overrides;
}

/** Rounded to the micro-dollar per million tokens that costs are computed in, so 3 x 0.1 reads as 0.3. */
function derivedRate(input: number, multiplier: number): number {
  return Math.round(input * multiplier * MICRO) / MICRO;
}

/**
 * Overrides win over the table so that a negotiated or newly announced price can be set without a release. An
 * override is a flat price: it has no long-prompt tiers.
 */
export function priceFor(model: string, overrides?: string | PriceOverrides): ModelPrice {
  const parsed = typeof overrides === 'string' ? parsePriceOverrides(overrides) : overrides;
  const override = parsed !== undefined && Object.hasOwn(parsed, model) ? parsed[model] : undefined;
  const price = override ?? PRICE_TABLE.get(model);
  if (price === undefined) throw new UnknownModelPriceError(model, [...PRICE_TABLE.keys()]);
  return price;
}

/** The rates a request is billed at, given its whole prompt size (uncached + cache write + cache read tokens). */
export function ratesForPrompt(price: ModelPrice, promptTokens: number): TokenRates {
  let rates: TokenRates = price;
  for (const tier of price.tiers ?? []) {
    if (promptTokens > tier.abovePromptTokens) rates = tier;
  }
  return rates;
}

export interface UsageCost {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheWrite5mTokens: number;
  readonly cacheWrite1hTokens: number;
  readonly cacheReadTokens: number;
}

function tokenCount(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Splits cache writes by TTL; writes the breakdown does not account for are priced as 5-minute writes. */
export function billableTokens(usage: BillableUsage): UsageCost {
  const cacheWriteTotal = tokenCount(usage.cache_creation_input_tokens);
  const write1h = tokenCount(usage.cache_creation?.ephemeral_1h_input_tokens);
  const write5m = Math.max(tokenCount(usage.cache_creation?.ephemeral_5m_input_tokens), cacheWriteTotal - write1h);
  return {
    inputTokens: tokenCount(usage.input_tokens),
    outputTokens: tokenCount(usage.output_tokens),
    cacheWrite5mTokens: write5m,
    cacheWrite1hTokens: write1h,
    cacheReadTokens: tokenCount(usage.cache_read_input_tokens),
  };
}


function microRate(ratePerMTok: number): bigint {
  return BigInt(Math.round(ratePerMTok * MICRO));
}

function exactCost(parts: ReadonlyArray<readonly [tokens: number, ratePerMTok: number]>): number {
  let picoUsd = 0n;
  for (const [tokens, rate] of parts) picoUsd += BigInt(Math.round(tokens)) * microRate(rate);
  return Number(picoUsd) / PICO_PER_USD;
}

/** Exact USD cost of one response's `usage`. Thinking tokens are already part of `output_tokens`. */
export function costOfUsage(price: ModelPrice, usage: BillableUsage): number {
  const tokens = billableTokens(usage);
  const promptTokens = tokens.inputTokens + tokens.cacheWrite5mTokens + tokens.cacheWrite1hTokens + tokens.cacheReadTokens;
  const rates = ratesForPrompt(price, promptTokens);
  return exactCost([
    [tokens.inputTokens, rates.input],
    [tokens.outputTokens, rates.output],
    [tokens.cacheWrite5mTokens, rates.cacheWrite5m],
    [tokens.cacheWrite1hTokens, rates.cacheWrite1h],
    [tokens.cacheReadTokens, rates.cacheRead],
  ]);
}

/**
 * The most one request can cost: every prompt token billed at the dearest input-side rate (a cache write can cost
 * more than plain input), the tier chosen by the prompt bound, and the full `max_tokens` of output.
 */
export function worstCaseCost(price: ModelPrice, bounds: { inputTokensUpperBound: number; maxTokens: number }): number {
  const rates = ratesForPrompt(price, bounds.inputTokensUpperBound);
  const dearestInputRate = Math.max(rates.input, rates.cacheWrite5m, rates.cacheWrite1h);
  return exactCost([
    [bounds.inputTokensUpperBound, dearestInputRate],
    [bounds.maxTokens, rates.output],
  ]);
}

/**
 * Bytes of serialized request per token, at the dense end of what Claude's byte-level BPE tokenizers produce.
 * English prose runs near 4 bytes per token and JSON near 3; long digit runs, identifiers and base64-like strings
 * are the densest content the agent sends, at about 2. The request JSON also holds bytes the model never reads as
 * tokens (key names, quoting and escapes, thinking signatures), which widens the margin. Only adversarial input
 * (e.g. raw bytes forcing byte-fallback tokens) could beat it, and the agent does not send such input.
 */
const BYTES_PER_TOKEN_FLOOR = 2;
/** Tokens the API adds around what is sent (role and turn framing, the tool-use system preamble). */
const API_FRAMING_TOKENS = 1024;

/** A conservative bound on the input tokens a request will be billed for, from its serialized size. */
export function estimateInputTokensUpperBound(requestBody: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(requestBody) ?? '', 'utf8');
  return Math.ceil(bytes / BYTES_PER_TOKEN_FLOOR) + API_FRAMING_TOKENS;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
