import { z } from 'zod';
import { unknownStrategyKeys } from './known-keys.ts';
import { isRecord } from '../kernel/records.ts';

/**
 * The KTRDR v3 strategy grammar (`StrategyConfigurationV3` plus the rules of `validate_v3_strategy` that concern
 * one section at a time). Cross-references (fuzzy set → indicator, nn input → fuzzy set) and indicator facts are
 * checked in `validate.ts`. Keys KTRDR does not define are warned about (known-keys.ts lists the ones it does).
 */

/** KTRDR's rule for `strategy_name` (training start rejects anything else). */
export const STRATEGY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const STRATEGY_NAME_MAX_LENGTH = 100;

/** Names Windows reserves for devices, whatever the extension; a file named so cannot be created there. */
const WINDOWS_RESERVED_NAMES = new Set([
  'con',
  'prn',
  'aux',
  'nul',
  ...Array.from({ length: 10 }, (_, digit) => `com${digit}`),
  ...Array.from({ length: 10 }, (_, digit) => `lpt${digit}`),
]);

/** Says what is wrong with a strategy name, or returns undefined when it is usable as a file stem and in KTRDR. */
export function checkStrategyName(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string (got ${describeValue(name)})`;
  if (name.length === 0) return 'must not be empty';
  if (name.length > STRATEGY_NAME_MAX_LENGTH) {
    return `is ${name.length} characters long; use at most ${STRATEGY_NAME_MAX_LENGTH}`;
  }
  if (!STRATEGY_NAME_PATTERN.test(name)) {
    return `'${truncate(name)}' is not a valid strategy name: use letters, digits, '_' and '-' only, starting with a letter or digit (e.g. rsi_adx_trend_v2)`;
  }
  if (WINDOWS_RESERVED_NAMES.has(name.toLowerCase())) {
    return `'${name}' is a reserved device name on Windows; choose another name`;
  }
  return undefined;
}

/** Parameter count of each membership function type KTRDR's fuzzy engine builds. */
export const MEMBERSHIP_PARAMETER_COUNTS = { triangular: 3, trapezoidal: 4, gaussian: 2 } as const;
export type MembershipType = keyof typeof MEMBERSHIP_PARAMETER_COUNTS;
export const MEMBERSHIP_TYPES = Object.keys(MEMBERSHIP_PARAMETER_COUNTS) as MembershipType[];

const MEMBERSHIP_PARAMETER_SHAPES: Record<MembershipType, string> = {
  triangular: '[left, peak, right]',
  trapezoidal: '[left_foot, left_shoulder, right_shoulder, right_foot]',
  gaussian: '[mean, sigma]',
};

/** A membership as written: `[a, b, c]` shorthand (triangular) or `{type, parameters}`. */
export type MembershipFunctionConfig = number[] | { type?: MembershipType; parameters: number[] };

export interface NormalizedMembership {
  readonly type: MembershipType;
  readonly parameters: readonly number[];
  /** True for the `[a, b, c]` shorthand, whose parameters sit directly at the membership's path. */
  readonly shorthand: boolean;
}

/** Reads a membership the way KTRDR expands it, or returns undefined when it is malformed. */
export function normalizeMembership(value: unknown): NormalizedMembership | undefined {
  if (Array.isArray(value)) {
    return value.length === MEMBERSHIP_PARAMETER_COUNTS.triangular && value.every(isFiniteNumber)
      ? { type: 'triangular', parameters: value, shorthand: true }
      : undefined;
  }
  if (!isRecord(value)) return undefined;
  const type = value['type'] ?? 'triangular';
  const parameters = value['parameters'];
  if (!isMembershipType(type) || !Array.isArray(parameters) || !parameters.every(isFiniteNumber)) return undefined;
  if (parameters.length !== MEMBERSHIP_PARAMETER_COUNTS[type]) return undefined;
  return { type, parameters, shorthand: false };
}

function isMembershipType(value: unknown): value is MembershipType {
  return typeof value === 'string' && value in MEMBERSHIP_PARAMETER_COUNTS;
}

/** Shape rules every membership must meet whatever its indicator: ordered corners, positive sigma. */
function membershipShapeProblem(type: MembershipType, parameters: readonly number[]): string | undefined {
  if (type === 'gaussian') {
    const sigma = parameters[1] ?? 0;
    return sigma > 0 ? undefined : `gaussian [mean, sigma] needs sigma > 0 (got ${sigma})`;
  }
  for (let index = 1; index < parameters.length; index += 1) {
    if ((parameters[index - 1] ?? 0) > (parameters[index] ?? 0)) {
      const order = type === 'triangular' ? 'left <= peak <= right' : 'left_foot <= left_shoulder <= right_shoulder <= right_foot';
      return `${type} ${MEMBERSHIP_PARAMETER_SHAPES[type]} must be ordered ${order} (got [${parameters.join(', ')}])`;
    }
  }
  // A zero-width membership is not refused: KTRDR builds it (its TriangularMF guards the division with an epsilon,
  // kpiteira/ktrdr ktrdr/fuzzy/membership.py) and trains; validate.ts warns about it instead.
  return undefined;
}

/** A triangular or trapezoidal membership whose feet meet: active at one value only, so it tells the model little. */
export function zeroWidthMembership(membership: NormalizedMembership): boolean {
  if (membership.type === 'gaussian') return false;
  return membership.parameters[0] === membership.parameters[membership.parameters.length - 1];
}

const membershipFunctionSchema = z.custom<MembershipFunctionConfig>().superRefine((written, context) => {
  // Checked as unknown input: the declared type is what this refinement establishes.
  const value: unknown = written;
  if (Array.isArray(value)) {
    if (!value.every(isFiniteNumber)) {
      context.addIssue({
        code: 'custom',
        message: `membership parameters must be numbers (got [${value.map(describeValue).join(', ')}])`,
      });
      return;
    }
    if (value.length !== MEMBERSHIP_PARAMETER_COUNTS.triangular) {
      context.addIssue({
        code: 'custom',
        message:
          `the [a, b, c] shorthand is a triangular membership and needs exactly 3 numbers (got ${value.length}); ` +
          'write {type: trapezoidal, parameters: [a, b, c, d]} or {type: gaussian, parameters: [mean, sigma]} for other shapes',
      });
      return;
    }
    const problem = membershipShapeProblem('triangular', value);
    if (problem) context.addIssue({ code: 'custom', message: problem });
    return;
  }
  if (!isRecord(value)) {
    context.addIssue({
      code: 'custom',
      message: `a membership must be [left, peak, right] or {type, parameters} (got ${describeValue(value)})`,
    });
    return;
  }
  const type = value['type'] ?? 'triangular';
  if (!isMembershipType(type)) {
    context.addIssue({
      code: 'custom',
      path: ['type'],
      message: `unknown membership type ${describeValue(type)}; use one of ${MEMBERSHIP_TYPES.join(', ')}`,
    });
    return;
  }
  const parameters = value['parameters'];
  if (parameters === undefined) {
    const hint = 'params' in value ? " (the key is 'parameters', not 'params')" : '';
    context.addIssue({
      code: 'custom',
      path: ['parameters'],
      message: `is required: ${type} takes ${MEMBERSHIP_PARAMETER_SHAPES[type]}${hint}`,
    });
    return;
  }
  if (!Array.isArray(parameters) || !parameters.every(isFiniteNumber)) {
    context.addIssue({
      code: 'custom',
      path: ['parameters'],
      message: `must be a list of numbers (got ${describeValue(parameters)})`,
    });
    return;
  }
  const expected = MEMBERSHIP_PARAMETER_COUNTS[type];
  if (parameters.length !== expected) {
    context.addIssue({
      code: 'custom',
      path: ['parameters'],
      message: `${type} takes exactly ${expected} parameters ${MEMBERSHIP_PARAMETER_SHAPES[type]} (got ${parameters.length})`,
    });
    return;
  }
  const problem = membershipShapeProblem(type, parameters);
  if (problem) context.addIssue({ code: 'custom', path: ['parameters'], message: problem });
});

const nonEmptyString = (what: string) => z.string({ error: `must be ${what}` }).min(1, { error: `must not be empty` });

const symbolsSchema = z
  .looseObject({
    mode: z.enum(['single', 'multi_symbol'], { error: "must be 'single' or 'multi_symbol'" }),
    symbol: nonEmptyString('a symbol such as EURUSD').optional(),
    list: z.array(nonEmptyString('a symbol such as EURUSD'), { error: 'must be a list of symbols' }).optional(),
    selection_criteria: z.looseObject({}).optional(),
  })
  .superRefine((symbols, context) => {
    // KTRDR accepts `mode: single` with `list:` instead of `symbol:` and trains the list: its pydantic field
    // validators do not run on omitted fields (models at 2c5c7173), so only a mode with neither is refused.
    if (symbols.mode === 'single' && symbols.symbol === undefined && (symbols.list ?? []).length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['symbol'],
        message: "is required when mode is 'single' (e.g. symbol: EURUSD), or give list: [EURUSD]",
      });
    }
    if (symbols.mode === 'multi_symbol' && (symbols.list ?? []).length === 0 && symbols.selection_criteria === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['list'],
        message: "is required when mode is 'multi_symbol': list at least one symbol",
      });
    }
    const duplicate = firstDuplicate(symbols.list ?? []);
    if (duplicate !== undefined) {
      context.addIssue({ code: 'custom', path: ['list'], message: `lists '${duplicate}' more than once` });
    }
  });

const timeframesSchema = z
  .looseObject({
    mode: z.enum(['single', 'multi_timeframe'], { error: "must be 'single' or 'multi_timeframe'" }),
    timeframe: nonEmptyString('a timeframe such as 1h').optional(),
    list: z.array(nonEmptyString('a timeframe such as 1h'), { error: 'must be a list of timeframes' }).optional(),
    base_timeframe: nonEmptyString('a timeframe from the list').optional(),
  })
  .superRefine((timeframes, context) => {
    // As for symbols: `mode: single` with `list: [1h]` is what KTRDR accepts and trains.
    if (timeframes.mode === 'single' && timeframes.timeframe === undefined && (timeframes.list ?? []).length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['timeframe'],
        message: "is required when mode is 'single' (e.g. timeframe: 1h), or give list: [1h]",
      });
    }
    if (timeframes.mode === 'multi_timeframe') {
      const list = timeframes.list ?? [];
      if (list.length < 2) {
        context.addIssue({
          code: 'custom',
          path: ['list'],
          message: `multi_timeframe mode needs at least 2 timeframes (got ${list.length}); use mode: single for one timeframe`,
        });
      }
      const duplicate = firstDuplicate(list);
      if (duplicate !== undefined) {
        context.addIssue({ code: 'custom', path: ['list'], message: `lists '${duplicate}' more than once` });
      }
      if (timeframes.base_timeframe !== undefined && list.length > 0 && !list.includes(timeframes.base_timeframe)) {
        context.addIssue({
          code: 'custom',
          path: ['base_timeframe'],
          message: `'${timeframes.base_timeframe}' must be one of the listed timeframes (${list.join(', ')})`,
        });
      }
    }
  });

const trainingDataSchema = z.looseObject({
  symbols: symbolsSchema,
  timeframes: timeframesSchema,
  history_required: z
    .number({ error: 'must be a whole number of bars' })
    .int({ error: 'must be a whole number of bars' })
    .min(50, { error: 'must be at least 50 bars' })
    .optional(),
  start_date: z.string({ error: 'must be a date string "YYYY-MM-DD"' }).optional(),
  end_date: z.string({ error: 'must be a date string "YYYY-MM-DD"' }).optional(),
  date_range: z
    .looseObject({
      start: z.string({ error: 'must be a date string "YYYY-MM-DD"' }).optional(),
      end: z.string({ error: 'must be a date string "YYYY-MM-DD"' }).optional(),
    })
    .optional(),
});

const indicatorDefinitionSchema = z.looseObject({
  type: nonEmptyString('an indicator type such as rsi'),
  data_source: nonEmptyString('a context_data reference').optional(),
});

const fuzzySetSchema = z
  .object({ indicator: nonEmptyString("an indicator id, or 'id.output' for a multi-output indicator") })
  .catchall(membershipFunctionSchema)
  .superRefine((fuzzySet, context) => {
    if (Object.keys(fuzzySet).every((key) => key === 'indicator')) {
      context.addIssue({
        code: 'custom',
        message: 'has no membership functions; add at least one, e.g. oversold: [0, 20, 35]',
      });
    }
  });

const nnInputSchema = z
  .looseObject(
    {
      fuzzy_set: nonEmptyString('a fuzzy set id').optional(),
      raw_indicator: nonEmptyString("an indicator id, or 'id.output'").optional(),
      timeframes: z.union([z.literal('all'), z.array(nonEmptyString('a timeframe such as 1h')).min(1)], {
        error: "must be 'all' or a non-empty list of timeframes from training_data (e.g. ['1h'])",
      }),
      normalization: z.enum(['minmax', 'zscore', 'none'], { error: "must be 'minmax', 'zscore' or 'none'" }).optional(),
    },
    { error: 'must be a map such as {fuzzy_set: rsi_zone, timeframes: all}' },
  )
  .superRefine((input, context) => {
    const hasFuzzySet = input.fuzzy_set !== undefined;
    const hasRawIndicator = input.raw_indicator !== undefined;
    if (hasFuzzySet === hasRawIndicator) {
      context.addIssue({
        code: 'custom',
        message: hasFuzzySet
          ? 'has both fuzzy_set and raw_indicator; give exactly one per entry'
          : 'needs exactly one of fuzzy_set (a fuzzy set id) or raw_indicator (an indicator id)',
      });
    }
    if (input.normalization !== undefined && !hasRawIndicator) {
      context.addIssue({
        code: 'custom',
        path: ['normalization'],
        message: 'applies only to raw_indicator inputs; fuzzy memberships are already in 0..1, so remove it',
      });
    }
  });

const positiveInt = (what: string) =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .positive({ error: `must be ${what}` });
const positiveNumber = (what: string) => z.number({ error: `must be ${what}` }).positive({ error: `must be ${what}` });
const fraction = (what: string) =>
  z
    .number({ error: `must be ${what}` })
    .min(0, { error: `must be ${what}` })
    .max(1, { error: `must be ${what}` });

const modelSchema = z.looseObject({
  type: z.enum(['mlp', 'lstm', 'gru'], { error: "must be 'mlp', 'lstm' or 'gru'" }).optional(),
  architecture: z
    .looseObject({
      hidden_layers: z
        .array(positiveInt('a positive layer size'), { error: 'must be a list of layer sizes such as [32, 16]' })
        .min(1, { error: 'must list at least one layer size' })
        .optional(),
      dropout: z.number({ error: 'must be a number in [0, 1)' }).min(0, { error: 'must be in [0, 1)' }).lt(1, { error: 'must be in [0, 1)' }).optional(),
    })
    .optional(),
  sequence_length: positiveInt('a positive whole number of bars').optional(),
  hidden_size: positiveInt('a positive whole number').optional(),
  num_layers: positiveInt('a positive whole number').optional(),
});

export const OUTPUT_FORMATS = ['classification', 'regression'] as const;

const decisionsSchema = z
  .looseObject({
    output_format: z.enum(OUTPUT_FORMATS, { error: "must be 'classification' or 'regression'" }).optional(),
    confidence_threshold: fraction('a probability between 0 and 1').optional(),
    cost_model: z
      .looseObject({
        round_trip_cost: positiveNumber('a positive fraction of the price (0.003 = 0.3% per round trip)'),
        min_edge_multiplier: positiveNumber('a positive multiple of round_trip_cost'),
      })
      .optional(),
  })
  .superRefine((decisions, context) => {
    if (decisions.output_format === 'regression' && decisions.cost_model === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['cost_model'],
        message: 'is required for regression: cost_model: {round_trip_cost: 0.003, min_edge_multiplier: 1.5}',
      });
    }
  });

export const LABEL_SOURCES = ['zigzag', 'forward_return', 'triple_barrier', 'regime', 'context'] as const;

const dataSplitSchema = z
  .looseObject({
    train: fraction('a fraction between 0 and 1'),
    validation: fraction('a fraction between 0 and 1'),
    test: fraction('a fraction between 0 and 1'),
  })
  .superRefine((split, context) => {
    const total = split.train + split.validation + split.test;
    if (Math.abs(total - 1) > 1e-6) {
      context.addIssue({
        code: 'custom',
        message: `train + validation + test must add up to 1 (got ${roundForMessage(total)})`,
      });
    }
  });

const trainingSchema = z.looseObject({
  epochs: positiveInt('a positive whole number').optional(),
  learning_rate: positiveNumber('a positive number such as 0.001').optional(),
  batch_size: positiveInt('a positive whole number').optional(),
  loss: nonEmptyString('a loss name').optional(),
  huber_delta: positiveNumber('a positive number').optional(),
  labels: z
    .looseObject({
      source: z.enum(LABEL_SOURCES, { error: `must be one of ${LABEL_SOURCES.join(', ')}` }).optional(),
      horizon: positiveInt('a positive whole number of bars').optional(),
      zigzag_threshold: positiveNumber('a positive fraction (0.02 = 2%)').optional(),
      label_lookahead: positiveInt('a positive whole number of bars').optional(),
    })
    .optional(),
  data_split: dataSplitSchema.optional(),
});

/** Forbidden keys, path-like values under unknown keys and excessive nesting (see known-keys.ts); unknown keys alone warn, in validate.ts. */
const knownKeysSchema = z.unknown().superRefine((config, context) => {
  for (const issue of unknownStrategyKeys(config)) {
    if (issue.severity === 'error') context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  }
});

/** The v3 strategy document. Required: name, training_data, indicators (a map), fuzzy_sets, nn_inputs, model, decisions, training. */
const strategySectionsSchema = z.looseObject({
  name: z.string({ error: 'must be a string' }).superRefine((name, context) => {
    const problem = checkStrategyName(name);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
  description: z.string({ error: 'must be a string' }).optional(),
  version: z.string({ error: 'must be a string; quote it (version: "3.0"), KTRDR rejects a number here' }).optional(),
  training_data: trainingDataSchema,
  indicators: z.record(z.string(), indicatorDefinitionSchema, {
    error: 'must be a map of indicator ids to definitions, e.g. {rsi_14: {type: rsi, period: 14}}',
  }),
  fuzzy_sets: z.record(z.string(), fuzzySetSchema, {
    error: 'must be a map of fuzzy set ids to {indicator, <membership>: [a, b, c], ...}',
  }),
  nn_inputs: z
    .array(nnInputSchema, { error: 'must be a list such as [{fuzzy_set: rsi_14, timeframes: all}]' })
    .min(1, { error: 'must list at least one input, e.g. [{fuzzy_set: rsi_14, timeframes: all}]' }),
  // Required by KTRDR: StrategyConfigurationV3 declares them `Field(...)` (ktrdr/config/models.py), and its validate
  // answers "Missing required field: model" without one (seen on the real KTRDR at 2c5c7173).
  model: modelSchema,
  decisions: decisionsSchema,
  training: trainingSchema,
  context_data: z.unknown().optional(),
  deployment: z.unknown().optional(),
});

/** The sections' rules and the known keys, both reported in one pass (an intersection runs both sides). */
export const strategyConfigSchema = strategySectionsSchema.and(knownKeysSchema);

export type StrategyConfig = z.infer<typeof strategyConfigSchema>;

/** Hints shown when a required top-level section is missing, so the reader knows what to write. */
export const REQUIRED_SECTION_HINTS: Readonly<Record<string, string>> = {
  name: 'the strategy name, equal to the file name (e.g. name: rsi_adx_trend)',
  training_data: 'symbols {mode: single, symbol: EURUSD} and timeframes {mode: single, timeframe: 1h}',
  indicators: 'a map such as {rsi_14: {type: rsi, period: 14}}',
  fuzzy_sets: 'a map such as {rsi_zone: {indicator: rsi_14, oversold: [0, 20, 35], overbought: [65, 80, 100]}}',
  nn_inputs: 'a list such as [{fuzzy_set: rsi_zone, timeframes: all}]',
  model: 'the network, such as {type: mlp, architecture: {hidden_layers: [64, 32], dropout: 0.2}}',
  decisions: 'such as {output_format: classification, confidence_threshold: 0.6}',
  training: 'such as {method: supervised, labels: {source: zigzag, zigzag_threshold: 0.025}}',
};

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A short, quoted rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${truncate(value)}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value;
}

function truncate(text: string, limit = 60): string {
  return text.length > limit ? `${text.slice(0, limit)}...` : text;
}

function firstDuplicate(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) return value;
    seen.add(value);
  }
  return undefined;
}

function roundForMessage(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}
