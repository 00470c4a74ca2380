import { Buffer } from 'node:buffer';
import { isRecord } from '../kernel/records.ts';

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

/**
 * Where a model is in Anthropic's lifecycle (platform.claude.com/docs/en/about-claude/model-deprecations): a
 * deprecated model still answers but has a retirement date; requests to a retired model fail.
 */
export type ModelLifecycle = 'active' | 'legacy' | 'deprecated' | 'retired';

/**
 * How the model thinks: `always` cannot be turned off (no `thinking: disabled`, no `budget_tokens`, no forced tool
 * use); `adaptive` is on by default and steered by `output_config.effort`; `extended` is the older
 * `budget_tokens` form, without effort.
 */
export type ThinkingMode = 'always' | 'adaptive' | 'extended';

export interface ModelPrice extends TokenRates {
  readonly model: string;
  /** True for `deprecated` (still answering, retirement announced); kept for callers that only need a warning. */
  readonly deprecated: boolean;
  readonly lifecycle: ModelLifecycle;
  /** The retirement date (YYYY-MM-DD) of a deprecated or retired model. */
  readonly retiresOn?: string;
  /** Anthropic's recommended replacement of a deprecated or retired model. */
  readonly replacement?: string;
  /** The largest `max_tokens` the model accepts on the Messages API (not the Batch API's beta limit). */
  readonly maxOutputTokens: number;
  readonly thinking: ThinkingMode;
  /** Whether the request may carry `inference_geo` (Opus 4.6 and later; older models answer 400). */
  readonly inferenceGeo: boolean;
  readonly source: 'table' | 'override';
  /** The page the figures were read from and the day they were checked; empty for overrides. */
  readonly sourcePage: string;
  readonly checkedOn: string;
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
  /** Where inference ran: `us` costs 1.1x (a workspace default can set it without the request asking). */
  readonly inference_geo?: string | null;
  readonly service_tier?: string | null;
  readonly speed?: string | null;
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

const CHECKED_ON = '2026-12-01';
const PRICING_PAGE = 'https://platform.claude.com/docs/en/about-claude/pricing';
const MODELS_OVERVIEW = 'https://platform.claude.com/docs/en/models/overview';
const DEPRECATIONS_PAGE = 'https://platform.claude.com/docs/en/about-claude/model-deprecations';

type Row = Omit<ModelPrice, 'model' | 'deprecated' | 'source' | 'checkedOn' | 'inferenceGeo' | 'thinking' | 'lifecycle' | 'maxOutputTokens'> &
  Partial<Pick<ModelPrice, 'inferenceGeo' | 'thinking' | 'lifecycle' | 'maxOutputTokens'>>;

function row(model: string, facts: Row): ModelPrice {
  const lifecycle = facts.lifecycle ?? 'active';
  return {
    model,
    thinking: 'adaptive',
    inferenceGeo: true,
    maxOutputTokens: 128_000,
    ...facts,
    lifecycle,
    deprecated: lifecycle === 'deprecated',
    source: 'table',
    checkedOn: CHECKED_ON,
  };
}

/** Rates as [input, 5m cache write, 1h cache write, cache read, output], USD per million tokens. */
function rates(input: number, cacheWrite5m: number, cacheWrite1h: number, cacheRead: number, output: number): TokenRates {
  return { input, cacheWrite5m, cacheWrite1h, cacheRead, output };
}

// Every figure below was read on CHECKED_ON from the page named in its row. Where the stored docs did not show a
// figure, the row says so and uses the documented general multiplier (5m write 1.25x, 1h write 2x, read 0.1x of
// input, from the pricing page's prompt caching section), which can only overstate the cost.
const TABLE: readonly ModelPrice[] = [
  // Fable 5.2: $8 / $40 from the models overview. Its cache rates were not in the stored docs: 1.25x / 2x / 0.1x.
  row('claude-fable-5-2', { ...rates(8, 10, 16, 0.8, 40), thinking: 'always', sourcePage: MODELS_OVERVIEW }),
  // Fable 5.1: cache hits $0.25 (0.025x input), from the pricing page's model table.
  row('claude-fable-5-1', { ...rates(10, 12.5, 20, 0.25, 50), thinking: 'always', sourcePage: PRICING_PAGE }),
  row('claude-opus-5-5', {
    ...rates(4, 5, 8, 0.2, 20),
    thinking: 'always',
    sourcePage: 'https://platform.claude.com/docs/en/models/opus-5-5/overview',
  }),
  row('claude-opus-5', { ...rates(5, 6.25, 10, 0.5, 25), lifecycle: 'legacy', sourcePage: 'https://platform.claude.com/docs/en/models/opus-5/overview' }),
  // Sonnet 5.5: cache hits cut from $0.20 to $0.10 (0.05x input) on 2026-10-07, per the pricing page's model table
  // (the stored model overview predates the cut; the cut is confirmed by several price trackers read against the
  // live pricing page). Other rates from the model overview.
  row('claude-sonnet-5-5', { ...rates(2, 2.5, 4, 0.1, 10), sourcePage: PRICING_PAGE }),
  row('claude-sonnet-5', { ...rates(2, 2.5, 4, 0.2, 10), lifecycle: 'legacy', sourcePage: 'https://platform.claude.com/docs/en/models/sonnet-5/overview' }),
  // Haiku 5.5 is priced by prompt size (input + cache reads + cache writes): up to 100,000 tokens, and 5x above.
  row('claude-haiku-5-5', {
    ...rates(0.1, 0.125, 0.2, 0.01, 0.5),
    tiers: [{ abovePromptTokens: 100_000, ...rates(0.5, 0.625, 1, 0.05, 2.5) }],
    sourcePage: 'https://platform.claude.com/docs/en/models/haiku-5-5/overview',
  }),
  // Haiku 4.5: $1 / $5, 64K output, extended thinking, no effort and no inference_geo (legacy, models overview).
  ...['claude-haiku-4-5', 'claude-haiku-4-5-20251001'].map((model) =>
    row(model, {
      ...rates(1, 1.25, 2, 0.1, 5),
      lifecycle: 'legacy',
      thinking: 'extended',
      inferenceGeo: false,
      maxOutputTokens: 64_000,
      sourcePage: 'https://platform.claude.com/docs/en/models/haiku-4-5/overview',
    }),
  ),
  // Opus 4.5: deprecated on 2026-11-23, retiring 2027-01-22, replaced by Opus 5.5 (deprecations page).
  ...['claude-opus-4-5', 'claude-opus-4-5-20251101'].map((model) =>
    row(model, {
      ...rates(5, 6.25, 10, 0.5, 25),
      lifecycle: 'deprecated',
      retiresOn: '2027-01-22',
      replacement: 'claude-opus-5-5',
      thinking: 'extended',
      inferenceGeo: false,
      maxOutputTokens: 64_000,
      sourcePage: DEPRECATIONS_PAGE,
    }),
  ),
  // Sonnet 4.5: retired on 2026-11-30; requests fail (deprecations page, Sonnet 4.5 overview).
  ...['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'].map((model) =>
    row(model, {
      ...rates(3, 3.75, 6, 0.3, 15),
      lifecycle: 'retired',
      retiresOn: '2026-11-30',
      replacement: 'claude-sonnet-5-5',
      thinking: 'extended',
      inferenceGeo: false,
      maxOutputTokens: 64_000,
      sourcePage: DEPRECATIONS_PAGE,
    }),
  ),
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
  if (!isRecord(parsed)) throw new InvalidPriceOverridesError('the value must be a JSON object keyed by model');
  const overrides: Record<string, ModelPrice> = {};
  for (const [model, entry] of Object.entries(parsed)) {
    if (model.trim() === '') throw new InvalidPriceOverridesError('a model name is empty');
    if (!isRecord(entry)) throw new InvalidPriceOverridesError(`"${model}" must map to an object of rates`);
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
    // An override changes the price, not what is known about the model: its lifecycle and limits stay the table's.
    const known = PRICE_TABLE.get(model);
    overrides[model] = {
      model,
      input,
      output: rate('output'),
      cacheWrite5m: entry.cacheWrite5m !== undefined ? rate('cacheWrite5m') : rate('cacheWrite', derivedRate(input, 1.25)),
      cacheWrite1h: rate('cacheWrite1h', derivedRate(input, 2)),
      cacheRead: rate('cacheRead', derivedRate(input, 0.1)),
      deprecated: known?.deprecated ?? false,
      lifecycle: known?.lifecycle ?? 'active',
      ...(known?.retiresOn !== undefined ? { retiresOn: known.retiresOn } : {}),
      ...(known?.replacement !== undefined ? { replacement: known.replacement } : {}),
      maxOutputTokens: known?.maxOutputTokens ?? 128_000,
      thinking: known?.thinking ?? 'adaptive',
      inferenceGeo: known?.inferenceGeo ?? true,
      source: 'override',
      sourcePage: '',
      checkedOn: '',
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
  if (price.lifecycle === 'retired') throw new RetiredModelError(price);
  return price;
}

/** Requests to a retired model fail at the API, so choosing one is a configuration error. */
export class RetiredModelError extends Error {
  readonly model: string;
  readonly replacement: string | undefined;

  constructor(price: ModelPrice) {
    super(
      `Model "${price.model}" was retired${price.retiresOn ? ` on ${price.retiresOn}` : ''} and its requests fail. ` +
        `Choose ${price.replacement ? `its replacement "${price.replacement}"` : 'an active model'} ` +
        `(see ${DEPRECATIONS_PAGE}).`,
    );
    this.name = 'RetiredModelError';
    this.model = price.model;
    this.replacement = price.replacement;
  }
}

/** A warning for a deprecated model, naming its retirement date and replacement; null for any other model. */
export function deprecationWarning(price: ModelPrice): string | null {
  if (price.lifecycle !== 'deprecated') return null;
  return (
    `model "${price.model}" is deprecated and retires on ${price.retiresOn ?? 'a date Anthropic has announced'}; ` +
    `requests will fail after that. Move to ${price.replacement ? `"${price.replacement}"` : 'an active model'} before then.`
  );
}

/** Why `maxTokens` cannot be sent to the model, or null when it can. */
export function maxTokensProblem(price: ModelPrice, maxTokens: number): string | null {
  if (maxTokens <= price.maxOutputTokens) return null;
  return `${maxTokens} is above the ${price.maxOutputTokens}-token output limit of ${price.model}`;
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

/**
 * US-only inference is billed at 1.1x on every token category (platform.claude.com/docs/en/manage-claude/data-residency
 * and the pricing page's data residency section, checked 2026-12-01); held in tenths so sums stay exact.
 */
const US_GEO_TENTHS = 11n;
const GLOBAL_GEO_TENTHS = 10n;

function exactCost(parts: ReadonlyArray<readonly [tokens: number, ratePerMTok: number]>, geoTenths = GLOBAL_GEO_TENTHS): number {
  let picoUsd = 0n;
  for (const [tokens, rate] of parts) picoUsd += BigInt(Math.round(tokens)) * microRate(rate);
  // Rounded up: a tenth of a pico-dollar is not worth under-booking.
  const scaled = (picoUsd * geoTenths + 9n) / 10n;
  return Number(scaled) / PICO_PER_USD;
}

/** A response whose usage has no known price (fast mode, an unknown service tier): the caller must fail closed. */
export class UnpricedUsageError extends Error {
  constructor(what: string) {
    super(`no price is known for ${what}, so this response's cost cannot be computed`);
    this.name = 'UnpricedUsageError';
  }
}

function geoTenthsOf(usage: BillableUsage): bigint {
  return usage.inference_geo === 'us' ? US_GEO_TENTHS : GLOBAL_GEO_TENTHS;
}

/**
 * Exact USD cost of one response's `usage`. Thinking tokens are already part of `output_tokens`. Throws
 * UnpricedUsageError for fast mode or a service tier other than standard, whose prices this table does not hold.
 */
export function costOfUsage(price: ModelPrice, usage: BillableUsage): number {
  if (usage.speed !== undefined && usage.speed !== null && usage.speed !== 'standard') {
    throw new UnpricedUsageError(`speed "${usage.speed}" on ${price.model}`);
  }
  if (usage.service_tier !== undefined && usage.service_tier !== null && usage.service_tier !== 'standard') {
    throw new UnpricedUsageError(`service tier "${usage.service_tier}" on ${price.model}`);
  }
  const tokens = billableTokens(usage);
  const promptTokens = tokens.inputTokens + tokens.cacheWrite5mTokens + tokens.cacheWrite1hTokens + tokens.cacheReadTokens;
  const rates = ratesForPrompt(price, promptTokens);
  return exactCost(
    [
      [tokens.inputTokens, rates.input],
      [tokens.outputTokens, rates.output],
      [tokens.cacheWrite5mTokens, rates.cacheWrite5m],
      [tokens.cacheWrite1hTokens, rates.cacheWrite1h],
      [tokens.cacheReadTokens, rates.cacheRead],
    ],
    geoTenthsOf(usage),
  );
}

/**
 * Message Batches bill all usage (input, output, cache writes and reads) at 50% of the standard price
 * (https://platform.claude.com/docs/build-with-claude/batch-processing, "Pricing", checked 2026-12-01).
 */
export const BATCH_PRICE_FACTOR = 0.5;

/** Exact USD cost of a batch result's usage: its `service_tier` is `batch` (or absent), everything else as direct. */
export function costOfBatchUsage(price: ModelPrice, usage: BillableUsage): number {
  const tier = usage.service_tier;
  if (tier !== undefined && tier !== null && tier !== 'batch' && tier !== 'standard') {
    throw new UnpricedUsageError(`service tier "${tier}" in a batch result on ${price.model}`);
  }
  return costOfUsage(price, { ...usage, service_tier: 'standard' }) * BATCH_PRICE_FACTOR;
}

export interface WorstCaseBounds {
  inputTokensUpperBound: number;
  maxTokens: number;
  /**
   * The cache TTL the request writes at: every prompt token may be a write at that rate. Default `5m`, the only
   * TTL the agent requests; `none` when the request has no breakpoint.
   */
  cacheWrite?: '5m' | '1h' | 'none';
  /**
   * Whether the call may run in the US at 1.1x. Default true: a workspace default can set it without the request
   * asking, so only a request that pins `inference_geo: "global"` (or a model without geo routing) can rule it out.
   */
  mayRunInUs?: boolean;
}

/**
 * The most one request can cost: every prompt token billed at the dearest input-side rate the request can incur
 * (a cache write at the requested TTL costs more than plain input), the tier chosen by the prompt bound, the full
 * `max_tokens` of output, and the US multiplier unless it is ruled out.
 */
export function worstCaseCost(price: ModelPrice, bounds: WorstCaseBounds): number {
  const rates = ratesForPrompt(price, bounds.inputTokensUpperBound);
  const cacheWrite = bounds.cacheWrite ?? '5m';
  const writeRate = cacheWrite === '1h' ? rates.cacheWrite1h : cacheWrite === '5m' ? rates.cacheWrite5m : 0;
  const dearestInputRate = Math.max(rates.input, writeRate);
  const mayRunInUs = (bounds.mayRunInUs ?? true) && price.inferenceGeo;
  return exactCost(
    [
      [bounds.inputTokensUpperBound, dearestInputRate],
      [bounds.maxTokens, rates.output],
    ],
    mayRunInUs ? US_GEO_TENTHS : GLOBAL_GEO_TENTHS,
  );
}

/**
 * Bytes of serialized request per token, at the dense end of what Claude's byte-level BPE tokenizers produce.
 * English prose runs near 4 bytes per token and JSON near 3; long digit runs, identifiers and base64-like strings
 * are the densest content the agent sends, at about 2. The request JSON also holds bytes the model never reads as
 * tokens (key names, quoting and escapes, thinking signatures), which widens the margin. Only adversarial input
 * (e.g. raw bytes forcing byte-fallback tokens) could beat it, and the agent does not send such input. The newer
 * tokenizer (Claude 4.7 and later, Haiku 5.5 included) counts about 30% more tokens than Haiku 4.5's for the same
 * text (Haiku 5.5 overview, checked 2026-12-01), so ratios tuned on older models undercount; this bound is only the
 * fallback when `count_tokens` fails.
 */
const BYTES_PER_TOKEN_FLOOR = 2;
/** Tokens the API adds around what is sent (role and turn framing, the tool-use system preamble). */
const API_FRAMING_TOKENS = 1024;

/** A conservative bound on the input tokens a request will be billed for, from its serialized size. */
export function estimateInputTokensUpperBound(requestBody: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(requestBody) ?? '', 'utf8');
  return Math.ceil(bytes / BYTES_PER_TOKEN_FLOOR) + API_FRAMING_TOKENS;
}
