import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  BOUNDED_INDICATORS,
  builtinIndicatorRegistry,
  formatBoundedIndicatorTable,
  formatFindings,
  mergeKtrdrIndicators,
  parseStrategyYaml,
  resolveIndicatorType,
  stringifyStrategy,
  validateStrategy,
  type StrategyValidation,
} from '../../src/core/strategy/index.ts';

/** The seven of ../shared/ktrdr/strategies/, identical to KTRDR's own at 2c5c7173 (test/fixtures/ktrdr-strategies/README.md). */
const examplesDirectory = new URL('../fixtures/ktrdr-strategies/', import.meta.url);
const sharedExamples = new Set([
  'regression_example_v3.yaml',
  'v3_minimal.yaml',
  'v3_multi_indicator.yaml',
  'v3_multi_output_indicator.yaml',
  'v3_multi_symbol.yaml',
  'v3_multi_timeframe.yaml',
  'v3_single_indicator.yaml',
]);

type Config = Record<string, any>;

/** A small valid strategy that each invalid variant below changes in one place. */
function validStrategy(): Config {
  return {
    name: 'rsi_adx_baseline',
    version: '3.0',
    hypothesis: 'RSI extremes reverse more often when ADX shows a weak trend',
    training_data: {
      symbols: { mode: 'single', symbol: 'EURUSD' },
      timeframes: { mode: 'single', timeframe: '1h' },
      history_required: 200,
    },
    indicators: {
      rsi_14: { type: 'rsi', period: 14 },
      adx_14: { type: 'adx', period: 14 },
    },
    fuzzy_sets: {
      rsi_momentum: { indicator: 'rsi_14', oversold: [0, 20, 35], neutral: [30, 50, 70], overbought: [65, 80, 100] },
      adx_trend: {
        indicator: 'adx_14.adx',
        weak: { type: 'triangular', parameters: [0, 10, 25] },
        strong: { type: 'trapezoidal', parameters: [20, 35, 60, 100] },
      },
    },
    nn_inputs: [
      { fuzzy_set: 'rsi_momentum', timeframes: 'all' },
      { fuzzy_set: 'adx_trend', timeframes: ['1h'] },
    ],
    model: { type: 'mlp', architecture: { hidden_layers: [32, 16], dropout: 0.2 } },
    decisions: { output_format: 'classification', confidence_threshold: 0.6 },
    training: {
      epochs: 50,
      learning_rate: 0.001,
      labels: { source: 'zigzag', zigzag_threshold: 0.015, label_lookahead: 20 },
      data_split: { train: 0.7, validation: 0.15, test: 0.15 },
    },
  };
}

function errorsOf(validation: StrategyValidation) {
  return validation.findings.filter((finding) => finding.severity === 'error');
}

function warningsOf(validation: StrategyValidation) {
  return validation.findings.filter((finding) => finding.severity === 'warning');
}

describe('validateStrategy on the KTRDR example strategies', () => {
  const files = readdirSync(examplesDirectory).filter((file) => sharedExamples.has(file));

  test('finds the example files', () => {
    assert.ok(files.length >= 7, `expected the KTRDR examples in ${examplesDirectory.pathname}`);
  });

  for (const file of files) {
    test(`${file} parses and has no errors`, () => {
      const parsed = parseStrategyYaml(readFileSync(new URL(file, examplesDirectory)));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
      const validation = validateStrategy(parsed.value);
      assert.deepEqual(errorsOf(validation), [], formatFindings(validation.findings));
      assert.equal(validation.valid, true);
    });
  }

  test('the regression example gets warnings for its MACD parameter names and price-scale fuzzy sets', () => {
    const parsed = parseStrategyYaml(readFileSync(new URL('regression_example_v3.yaml', examplesDirectory)));
    assert.ok(parsed.ok);
    const warnings = warningsOf(validateStrategy(parsed.value));
    const fast = warnings.find((finding) => finding.path === 'indicators.macd_12_26_9.fast');
    assert.ok(fast, 'unknown MACD parameter "fast" is reported');
    assert.match(fast.message, /fast_period/);
    const priceScale = warnings.find((finding) => finding.path === 'fuzzy_sets.macd_bullish.indicator');
    assert.ok(priceScale, 'MACD in a fuzzy set is reported');
    assert.match(priceScale.message, /scale/);
  });
});

describe('validateStrategy on a valid strategy', () => {
  test('has no findings at all', () => {
    const validation = validateStrategy(validStrategy());
    assert.deepEqual(validation.findings, [], formatFindings(validation.findings));
    assert.equal(validation.valid, true);
  });

  test('accepts the name it is saved under', () => {
    assert.equal(validateStrategy(validStrategy(), { expectedName: 'rsi_adx_baseline' }).valid, true);
  });

  test('reads gaussian memberships as [mean, sigma], so [50, 10] on RSI is fine', () => {
    const config = validStrategy();
    config.fuzzy_sets.rsi_momentum.neutral = { type: 'gaussian', parameters: [50, 10] };
    const validation = validateStrategy(config);
    assert.deepEqual(validation.findings, [], formatFindings(validation.findings));
  });

  test('accepts class names and aliases as types, case-insensitively', () => {
    for (const type of ['RSIIndicator', 'RSI', 'rsiindicator', 'Rsi']) {
      const config = validStrategy();
      config.indicators.rsi_14.type = type;
      assert.equal(validateStrategy(config).valid, true, type);
    }
    const config = validStrategy();
    config.indicators.bb_20 = { type: 'bbands', period: 20, multiplier: 2.0 };
    config.nn_inputs.push({ raw_indicator: 'bb_20.middle', timeframes: 'all', normalization: 'zscore' });
    assert.deepEqual(validateStrategy(config).findings, []);
  });

  test('accepts `mode: single` with `list:` for symbols and timeframes, as KTRDR does', () => {
    const config = validStrategy();
    config.training_data.symbols = { mode: 'single', list: ['EURUSD'] };
    config.training_data.timeframes = { mode: 'single', list: ['1h'] };
    const result = validateStrategy(config);
    assert.deepEqual(
      result.findings.filter((f) => f.severity === 'error'),
      [],
    );
    // With neither a symbol nor a list, the mode names nothing to train.
    config.training_data.symbols = { mode: 'single' };
    assert.match(formatFindings(validateStrategy(config).findings), /training_data\.symbols\.symbol: is required when mode is 'single'/);
  });

  test('references to the outputs of CMF and ADLine validate: both are multi-output in KTRDR', () => {
    const config = validStrategy();
    config.indicators.cmf_21 = { type: 'cmf', period: 21 };
    config.indicators.adline = { type: 'adline' };
    config.fuzzy_sets.cmf_signal = { indicator: 'cmf_21.signal', selling: [-1, -0.25, 0], buying: [0, 0.25, 1] };
    config.fuzzy_sets.adline_roc = { indicator: 'adline.roc_10', falling: [-20, -5, 0], rising: [0, 5, 20] };
    config.nn_inputs.push({ fuzzy_set: 'cmf_signal', timeframes: 'all' }, { fuzzy_set: 'adline_roc', timeframes: 'all' });
    const result = validateStrategy(config);
    assert.deepEqual(
      result.findings.filter((f) => f.severity === 'error'),
      [],
    );
    config.fuzzy_sets.cmf_signal.indicator = 'cmf_21.nope';
    assert.match(formatFindings(validateStrategy(config).findings), /has no output 'nope'; valid outputs: cmf, mf_multiplier/);
  });

  test('tolerates hypothesis and scope (KTRDR ignores them) and warns about a key KTRDR does not define, with its path', () => {
    const config = validStrategy();
    config.scope = 'universal';
    config.hypothesis = 'momentum persists';
    assert.deepEqual(validateStrategy(config).findings, []);
    config.notes = { anything: [1, 2, 3] };
    // KTRDR's StrategyConfigurationV3 ignores extra keys (pydantic's default): no effect, so a warning, not an error.
    assert.deepEqual(
      validateStrategy(config).findings.map((f) => [f.severity, f.path]),
      [['warning', 'notes']],
    );
  });
});

interface InvalidVariant {
  readonly title: string;
  readonly change: (config: Config) => unknown;
  readonly path: string;
  readonly message?: RegExp;
  readonly options?: Parameters<typeof validateStrategy>[1];
}

const invalidVariants: InvalidVariant[] = [
  {
    title: 'v2 indicators list',
    change: (config) => {
      config.indicators = [{ name: 'rsi', feature_id: 'rsi_14', period: 14 }];
    },
    path: 'indicators',
    message: /v2.*no longer trains.*v3/,
  },
  { title: 'not a mapping', change: () => ['name', 'x'], path: '', message: /YAML mapping/ },
  { title: 'missing name', change: (config) => void delete config.name, path: 'name', message: /required/ },
  {
    title: 'missing training_data',
    change: (config) => void delete config.training_data,
    path: 'training_data',
    message: /required/,
  },
  {
    title: 'missing fuzzy_sets',
    change: (config) => void delete config.fuzzy_sets,
    path: 'fuzzy_sets',
    message: /required/,
  },
  {
    title: 'missing nn_inputs',
    change: (config) => void delete config.nn_inputs,
    path: 'nn_inputs',
    message: /required/,
  },
  {
    title: 'empty nn_inputs',
    change: (config) => void (config.nn_inputs = []),
    path: 'nn_inputs',
    message: /at least one/,
  },
  {
    title: 'name with spaces',
    change: (config) => void (config.name = 'my strategy!'),
    path: 'name',
    message: /letters, digits/,
  },
  { title: 'name with a path', change: (config) => void (config.name = '../escape'), path: 'name' },
  {
    title: 'name differs from the file name',
    change: () => undefined,
    options: { expectedName: 'other_name' },
    path: 'name',
    message: /does not match the file name 'other_name'/,
  },
  { title: 'numeric version', change: (config) => void (config.version = 3.0), path: 'version', message: /quote it/ },
  {
    title: 'single symbol mode without symbol',
    change: (config) => void delete config.training_data.symbols.symbol,
    path: 'training_data.symbols.symbol',
    message: /required/,
  },
  {
    title: 'unknown symbols mode',
    change: (config) => void (config.training_data.symbols.mode = 'multi'),
    path: 'training_data.symbols.mode',
    message: /single.*multi_symbol/,
  },
  {
    title: 'multi_timeframe with one timeframe',
    change: (config) => void (config.training_data.timeframes = { mode: 'multi_timeframe', list: ['1h'], base_timeframe: '1h' }),
    path: 'training_data.timeframes.list',
    message: /at least 2/,
  },
  {
    title: 'base_timeframe outside the list',
    change: (config) => void (config.training_data.timeframes = { mode: 'multi_timeframe', list: ['1h', '4h'], base_timeframe: '1d' }),
    path: 'training_data.timeframes.base_timeframe',
  },
  {
    title: 'history_required under 50',
    change: (config) => void (config.training_data.history_required = 10),
    path: 'training_data.history_required',
    message: /at least 50/,
  },
  {
    title: 'unknown indicator type',
    change: (config) => void (config.indicators.rsi_14.type = 'RSX'),
    path: 'indicators.rsi_14.type',
    message: /unknown indicator type 'RSX'.*known types: .*rsi/,
  },
  {
    title: 'snake_case class name that KTRDR does not register',
    change: (config) => void (config.indicators.rsi_14 = { type: 'williams_r', period: 14 }),
    path: 'indicators.rsi_14.type',
    message: /did you mean 'williamsr'/,
  },
  {
    title: 'non-integer period',
    change: (config) => void (config.indicators.rsi_14.period = 14.5),
    path: 'indicators.rsi_14.period',
    message: /whole number/,
  },
  {
    title: 'indicator id that collides with a price column',
    change: (config) => {
      config.indicators.close = { type: 'sma', period: 20 };
      config.nn_inputs.push({ raw_indicator: 'close', timeframes: 'all', normalization: 'zscore' });
    },
    path: 'indicators.close',
  },
  {
    title: 'fuzzy set referencing an unknown indicator',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.indicator = 'rsi_99'),
    path: 'fuzzy_sets.rsi_momentum.indicator',
    message: /unknown indicator 'rsi_99' \(known: rsi_14, adx_14\)/,
  },
  {
    title: 'fuzzy set referencing an indicator type instead of its id',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.indicator = 'rsi'),
    path: 'fuzzy_sets.rsi_momentum.indicator',
    message: /reference the indicator id \('rsi_14'\)/,
  },
  {
    title: 'dot output the indicator does not have',
    change: (config) => void (config.fuzzy_sets.adx_trend.indicator = 'adx_14.signal'),
    path: 'fuzzy_sets.adx_trend.indicator',
    message: /valid outputs: adx, plus_di, minus_di/,
  },
  {
    title: 'dot output on a single-output indicator',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.indicator = 'rsi_14.value'),
    path: 'fuzzy_sets.rsi_momentum.indicator',
    message: /single output/,
  },
  {
    title: 'shorthand membership with two numbers',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.oversold = [0, 30]),
    path: 'fuzzy_sets.rsi_momentum.oversold',
    message: /exactly 3 numbers/,
  },
  {
    title: 'trapezoidal membership with three parameters',
    change: (config) => void (config.fuzzy_sets.adx_trend.strong = { type: 'trapezoidal', parameters: [20, 35, 100] }),
    path: 'fuzzy_sets.adx_trend.strong.parameters',
    message: /exactly 4/,
  },
  {
    title: 'gaussian membership with three parameters',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.neutral = { type: 'gaussian', parameters: [50, 10, 5] }),
    path: 'fuzzy_sets.rsi_momentum.neutral.parameters',
    message: /\[mean, sigma\]/,
  },
  {
    title: 'unknown membership type',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.neutral = { type: 'bell', parameters: [30, 50, 70] }),
    path: 'fuzzy_sets.rsi_momentum.neutral.type',
    message: /triangular, trapezoidal, gaussian/,
  },
  {
    title: 'params instead of parameters',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.neutral = { type: 'triangular', params: [30, 50, 70] }),
    path: 'fuzzy_sets.rsi_momentum.neutral.parameters',
    message: /not 'params'/,
  },
  {
    title: 'unordered triangular membership',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.neutral = [70, 50, 30]),
    path: 'fuzzy_sets.rsi_momentum.neutral',
    message: /left <= peak <= right/,
  },
  {
    title: 'unordered trapezoidal membership',
    change: (config) => void (config.fuzzy_sets.adx_trend.strong = { type: 'trapezoidal', parameters: [20, 60, 35, 100] }),
    path: 'fuzzy_sets.adx_trend.strong.parameters',
  },
  {
    title: 'RSI membership above its 0..100 range',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.overbought = [120, 130, 150]),
    path: 'fuzzy_sets.rsi_momentum.overbought',
    message: /outside rsi_14 \(rsi\)'s range 0\.\.100/,
  },
  {
    title: 'RSI membership with its peak outside the range',
    change: (config) => void (config.fuzzy_sets.rsi_momentum.overbought = [90, 120, 150]),
    path: 'fuzzy_sets.rsi_momentum.overbought',
    message: /peak 120/,
  },
  {
    title: 'Williams %R membership on a 0..100 scale',
    change: (config) => {
      config.indicators.wr_14 = { type: 'williamsr', period: 14 };
      config.fuzzy_sets.wr_zone = { indicator: 'wr_14', high: [0, 50, 100] };
      config.nn_inputs.push({ fuzzy_set: 'wr_zone', timeframes: 'all' });
    },
    path: 'fuzzy_sets.wr_zone.high',
    message: /-100\.\.0/,
  },
  {
    title: 'gaussian mean outside a bounded range',
    change: (config) => void (config.fuzzy_sets.adx_trend.weak = { type: 'gaussian', parameters: [150, 10] }),
    path: 'fuzzy_sets.adx_trend.weak.parameters',
    message: /centres on 150/,
  },
  {
    title: 'gaussian with non-positive sigma',
    change: (config) => void (config.fuzzy_sets.adx_trend.weak = { type: 'gaussian', parameters: [20, 0] }),
    path: 'fuzzy_sets.adx_trend.weak.parameters',
    message: /sigma > 0/,
  },
  {
    title: 'fuzzy set without memberships',
    change: (config) => void (config.fuzzy_sets.rsi_momentum = { indicator: 'rsi_14' }),
    path: 'fuzzy_sets.rsi_momentum',
    message: /no membership functions/,
  },
  {
    title: 'nn input with both fuzzy_set and raw_indicator',
    change: (config) => void (config.nn_inputs[0] = { fuzzy_set: 'rsi_momentum', raw_indicator: 'rsi_14', timeframes: 'all' }),
    path: 'nn_inputs[0]',
    message: /exactly one/,
  },
  {
    title: 'nn input with neither fuzzy_set nor raw_indicator',
    change: (config) => void (config.nn_inputs[0] = { timeframes: 'all' }),
    path: 'nn_inputs[0]',
    message: /exactly one/,
  },
  {
    title: 'nn input referencing an unknown fuzzy set',
    change: (config) => void (config.nn_inputs[0].fuzzy_set = 'rsi_zone'),
    path: 'nn_inputs[0].fuzzy_set',
    message: /unknown fuzzy set 'rsi_zone' \(known: rsi_momentum, adx_trend\)/,
  },
  {
    title: 'nn input referencing an unknown raw indicator',
    change: (config) => void config.nn_inputs.push({ raw_indicator: 'atr_14', timeframes: 'all', normalization: 'zscore' }),
    path: 'nn_inputs[2].raw_indicator',
    message: /unknown indicator 'atr_14'/,
  },
  {
    title: 'nn input timeframe not in training_data',
    change: (config) => void (config.nn_inputs[1].timeframes = ['1h', '4h']),
    path: 'nn_inputs[1].timeframes[1]',
    message: /'4h' is not in training_data.timeframes \(1h\)/,
  },
  {
    title: 'nn input timeframes neither all nor a list',
    change: (config) => void (config.nn_inputs[0].timeframes = 'every'),
    path: 'nn_inputs[0].timeframes',
    message: /'all' or a non-empty list/,
  },
  {
    title: 'normalization on a fuzzy input',
    change: (config) => void (config.nn_inputs[0].normalization = 'zscore'),
    path: 'nn_inputs[0].normalization',
    message: /only to raw_indicator/,
  },
  {
    title: 'regression without cost_model',
    change: (config) => {
      config.decisions = { output_format: 'regression' };
      config.training.labels = { source: 'forward_return', horizon: 20 };
    },
    path: 'decisions.cost_model',
    message: /required for regression/,
  },
  {
    title: 'regression with a zero round-trip cost',
    change: (config) => {
      config.decisions = { output_format: 'regression', cost_model: { round_trip_cost: 0, min_edge_multiplier: 1.5 } };
      config.training.labels = { source: 'forward_return', horizon: 20 };
    },
    path: 'decisions.cost_model.round_trip_cost',
  },
  {
    title: 'regression with a classification loss',
    change: (config) => {
      config.decisions = {
        output_format: 'regression',
        cost_model: { round_trip_cost: 0.003, min_edge_multiplier: 1.5 },
      };
      config.training.labels = { source: 'forward_return', horizon: 20 };
      config.training.loss = 'cross_entropy';
    },
    path: 'training.loss',
    message: /huber' or 'mse/,
  },
  {
    title: 'unknown output_format',
    change: (config) => void (config.decisions.output_format = 'ranking'),
    path: 'decisions.output_format',
    message: /classification' or 'regression/,
  },
  {
    title: 'data split not adding up to 1',
    change: (config) => void (config.training.data_split = { train: 0.8, validation: 0.15, test: 0.15 }),
    path: 'training.data_split',
    message: /add up to 1/,
  },
  {
    title: 'unknown model type',
    change: (config) => void (config.model.type = 'transformer'),
    path: 'model.type',
  },
  {
    title: 'start date after end date',
    change: (config) => void (config.training_data.date_range = { start: '2025-01-01', end: '2024-01-01' }),
    path: 'training_data.date_range.end',
    message: /after the start date/,
  },
];

describe('validateStrategy on invalid variants', () => {
  test('the table covers at least 25 variants', () => {
    assert.ok(invalidVariants.length >= 25);
  });

  for (const variant of invalidVariants) {
    test(variant.title, () => {
      const config = validStrategy();
      const replaced = variant.change(config);
      const validation = validateStrategy(replaced ?? config, variant.options);
      assert.equal(validation.valid, false, `expected invalid:\n${formatFindings(validation.findings)}`);
      const atPath = errorsOf(validation).filter((finding) => finding.path === variant.path);
      assert.ok(atPath.length > 0, `expected an error at '${variant.path}', got:\n${formatFindings(validation.findings)}`);
      if (variant.message) {
        assert.ok(
          atPath.some((finding) => variant.message?.test(finding.message)),
          `expected ${variant.message} at '${variant.path}', got:\n${formatFindings(atPath)}`,
        );
      }
    });
  }
});

describe('validateStrategy warnings', () => {
  test('a name mismatch can be demoted to a warning', () => {
    const validation = validateStrategy(validStrategy(), { expectedName: 'other_name', nameMismatch: 'warning' });
    assert.equal(validation.valid, true);
    assert.deepEqual(
      validation.findings.map((finding) => [finding.severity, finding.path]),
      [['warning', 'name']],
    );
  });

  test('unused indicators and fuzzy sets are warned about, not rejected', () => {
    const config = validStrategy();
    config.indicators.mfi_14 = { type: 'mfi', period: 14 };
    config.nn_inputs = [{ fuzzy_set: 'rsi_momentum', timeframes: 'all' }];
    const validation = validateStrategy(config);
    assert.equal(validation.valid, true);
    const paths = warningsOf(validation).map((finding) => finding.path);
    assert.ok(paths.includes('indicators.mfi_14'), paths.join(', '));
    assert.ok(paths.includes('fuzzy_sets.adx_trend'), paths.join(', '));
    assert.ok(!paths.includes('indicators.adx_14'), 'adx_14 is still used by a fuzzy set');
  });

  test('a price-scale indicator in a fuzzy set is a warning that explains the scale', () => {
    const config = validStrategy();
    config.indicators.atr_14 = { type: 'atr', period: 14 };
    config.fuzzy_sets.volatility = { indicator: 'atr_14', low: [0, 0.2, 0.4] };
    config.nn_inputs.push({ fuzzy_set: 'volatility', timeframes: 'all' });
    const validation = validateStrategy(config);
    assert.equal(validation.valid, true);
    const warning = validation.findings.find((finding) => finding.path === 'fuzzy_sets.volatility.indicator');
    assert.ok(warning);
    assert.equal(warning.severity, 'warning');
    assert.match(warning.message, /fuzzy ranges must match/);
  });

  test('a membership far too narrow for its scale hints at a 0..1 mix-up', () => {
    const config = validStrategy();
    config.fuzzy_sets.rsi_momentum.oversold = [0.1, 0.2, 0.3];
    const warning = validateStrategy(config).findings.find((finding) => finding.path === 'fuzzy_sets.rsi_momentum.oversold');
    assert.equal(warning?.severity, 'warning');
    assert.match(warning?.message ?? '', /0\.\.100, not 0\.\.1/);
  });

  test('unknown indicator parameters are warnings naming the real ones', () => {
    const config = validStrategy();
    config.indicators.stoch = { type: 'stochastic', k: 14 };
    config.fuzzy_sets.stoch_zone = { indicator: 'stoch.k', low: [0, 10, 25] };
    config.nn_inputs.push({ fuzzy_set: 'stoch_zone', timeframes: 'all' });
    const validation = validateStrategy(config);
    assert.equal(validation.valid, true);
    const warning = validation.findings.find((finding) => finding.path === 'indicators.stoch.k');
    assert.match(warning?.message ?? '', /k_period/);
  });
});

describe('formatFindings', () => {
  test('prints one line per finding with severity and path', () => {
    const config = validStrategy();
    config.fuzzy_sets.rsi_momentum.indicator = 'rsi_99';
    config.indicators.unused_ema = { type: 'ema', period: 50 };
    const lines = formatFindings(validateStrategy(config).findings).split('\n');
    assert.ok(lines.includes("error fuzzy_sets.rsi_momentum.indicator: unknown indicator 'rsi_99' (known: rsi_14, adx_14, unused_ema)"), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('warning indicators.unused_ema: ')));
    assert.equal(formatFindings(validateStrategy('nope').findings).split('\n')[0]?.startsWith('error (root): '), true);
  });
});

describe('indicator registry', () => {
  test('resolves class names, canonical names and aliases case-insensitively', () => {
    assert.equal(resolveIndicatorType('RSIIndicator')?.className, 'RSIIndicator');
    assert.equal(resolveIndicatorType('bbands')?.className, 'BollingerBandsIndicator');
    assert.equal(resolveIndicatorType('BollingerBands')?.className, 'BollingerBandsIndicator');
    assert.equal(resolveIndicatorType('SMA')?.className, 'SimpleMovingAverage');
    assert.equal(resolveIndicatorType('simplemovingaverage')?.className, 'SimpleMovingAverage');
    assert.equal(resolveIndicatorType('ema')?.className, 'ExponentialMovingAverage');
    assert.equal(resolveIndicatorType('wma')?.className, 'WeightedMovingAverage');
    assert.equal(resolveIndicatorType('WilliamsR')?.canonicalType, 'williamsr');
    assert.equal(resolveIndicatorType('Ichimoku')?.canonicalType, 'ichimoku');
    assert.equal(resolveIndicatorType('williams_r'), undefined);
  });

  test('knows real parameter names and outputs', () => {
    const macd = resolveIndicatorType('macd');
    assert.deepEqual(
      macd?.parameters?.map((parameter) => parameter.name),
      ['fast_period', 'slow_period', 'signal_period', 'source'],
    );
    assert.deepEqual(macd?.outputs, ['line', 'signal', 'histogram']);
    assert.deepEqual(
      resolveIndicatorType('bbands')?.parameters?.map((parameter) => parameter.name),
      ['period', 'multiplier', 'source'],
    );
    assert.deepEqual(resolveIndicatorType('stochastic')?.outputs, ['k', 'd']);
    assert.deepEqual(resolveIndicatorType('adx')?.outputs, ['adx', 'plus_di', 'minus_di']);
    assert.deepEqual(resolveIndicatorType('aroon')?.outputs, ['up', 'down', 'oscillator']);
  });

  test('the bounded table lists the bounded indicators with their scales', () => {
    const rows = new Map(BOUNDED_INDICATORS.map((fact) => [`${fact.type}${fact.output ? `.${fact.output}` : ''}`, fact]));
    for (const [key, min, max] of [
      ['rsi', 0, 100],
      ['stochastic.k', 0, 100],
      ['williamsr', -100, 0],
      ['mfi', 0, 100],
      ['adx.adx', 0, 100],
      ['adx.plus_di', 0, 100],
      ['aroon.up', 0, 100],
      ['cmf.cmf', -1, 1],
      ['cmf.signal', -1, 1],
      ['rvi.rvi', -1, 1],
    ] as const) {
      const fact = rows.get(key);
      assert.ok(fact, `${key} is in the bounded table`);
      assert.equal(fact.min, min);
      assert.equal(fact.max, max);
      for (const zone of fact.zones) {
        assert.ok(zone.triangle[0] >= min && zone.triangle[2] <= max, `${key} ${zone.name} fits the range`);
      }
    }
    assert.ok(!rows.has('atr') && !rows.has('macd.line'), 'price-scale indicators are not bounded');
    assert.match(formatBoundedIndicatorTable(), /\| williamsr \| <id> \| -100\.\.0 \|/);
  });

  test('a strategy built from every bounded zone validates', () => {
    const config = validStrategy();
    config.indicators = {};
    config.fuzzy_sets = {};
    config.nn_inputs = [];
    BOUNDED_INDICATORS.forEach((fact, index) => {
      const indicatorId = `${fact.type}_${index}`;
      config.indicators[indicatorId] = { type: fact.type, ...fact.defaultParameters };
      config.fuzzy_sets[`${indicatorId}_zones`] = {
        indicator: fact.output ? `${indicatorId}.${fact.output}` : indicatorId,
        ...Object.fromEntries(fact.zones.map((zone) => [zone.name, [...zone.triangle]])),
      };
      config.nn_inputs.push({ fuzzy_set: `${indicatorId}_zones`, timeframes: 'all' });
    });
    const validation = validateStrategy(config);
    assert.deepEqual(validation.findings, [], formatFindings(validation.findings));
  });

  test('merging KTRDR catalogue entries makes unknown types known', () => {
    const catalogue = {
      success: true,
      data: [
        { id: 'RSIIndicator', name: 'RSI', type: 'momentum', parameters: [{ name: 'period' }] },
        { id: 'HullMovingAverageIndicator', name: 'Hull MA', type: 'trend', parameters: [{ name: 'period' }] },
        { id: 42 },
        'garbage',
      ],
    };
    const registry = mergeKtrdrIndicators(builtinIndicatorRegistry, catalogue);
    assert.equal(registry.resolve('HullMovingAverage')?.origin, 'ktrdr');
    assert.equal(registry.resolve('hullmovingaverageindicator')?.category, 'trend');
    assert.equal(registry.resolve('rsi')?.origin, 'builtin', 'known entries keep their local facts');
    const rsi = registry.resolve('rsi');
    const adx = registry.resolve('adx');
    assert.ok(rsi && adx);
    assert.equal(registry.isListedByKtrdr(rsi), true);
    assert.equal(registry.isListedByKtrdr(adx), false);

    const config = validStrategy();
    config.indicators.hma_20 = { type: 'hullmovingaverage', period: 20 };
    config.nn_inputs.push({ raw_indicator: 'hma_20', timeframes: 'all', normalization: 'zscore' });
    assert.equal(validateStrategy(config).valid, false, 'the built-in table does not know it');
    const merged = validateStrategy(config, { registry });
    assert.equal(merged.valid, true, formatFindings(merged.findings));
    const adxWarning = merged.findings.find((finding) => finding.path === 'indicators.adx_14.type');
    assert.match(adxWarning?.message ?? '', /not listed by this KTRDR/);
  });
});

describe('stringifyStrategy', () => {
  test('round-trips a strategy and keeps memberships readable', () => {
    const config = validStrategy();
    const yaml = stringifyStrategy(config);
    assert.match(yaml, /oversold: \[0, 20, 35\]/);
    assert.ok(yaml.indexOf('name:') < yaml.indexOf('training_data:'));
    assert.ok(yaml.indexOf('fuzzy_sets:') < yaml.indexOf('nn_inputs:'));
    const parsed = parseStrategyYaml(yaml);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.deepEqual(parsed.value, config);
  });
});

describe('validateStrategy is no stricter than KTRDR where KTRDR trains the strategy (kpiteira/ktrdr at 2c5c7173)', () => {
  function example(file: string): Config {
    const parsed = parseStrategyYaml(readFileSync(new URL(file, examplesDirectory)));
    assert.ok(parsed.ok);
    return parsed.value as Config;
  }

  test('a zero-width membership is a warning, not an error: KTRDR builds it (an epsilon guards the division) and trains', () => {
    const strategy = example('v3_minimal.yaml');
    strategy.fuzzy_sets.rsi_momentum.neutral = [50, 50, 50];
    strategy.fuzzy_sets.rsi_momentum.flat = { type: 'trapezoidal', parameters: [45, 45, 45, 45] };
    const validation = validateStrategy(strategy);
    assert.deepEqual(errorsOf(validation), [], formatFindings(validation.findings));
    assert.equal(validation.valid, true);
    assert.deepEqual(
      warningsOf(validation)
        .filter((finding) => /zero width/.test(finding.message))
        .map((finding) => finding.path),
      ['fuzzy_sets.rsi_momentum.neutral', 'fuzzy_sets.rsi_momentum.flat.parameters'],
    );
  });

  test('unordered corners stay an error: KTRDR refuses a > b (TriangularMF.Params) when the worker builds the fuzzy engine', () => {
    const strategy = example('v3_minimal.yaml');
    strategy.fuzzy_sets.rsi_momentum.oversold = [40, 25, 0];
    assert.match(formatFindings(errorsOf(validateStrategy(strategy))), /fuzzy_sets\.rsi_momentum\.oversold: .*must be ordered/);
  });

  test("symbols under the model's field name (symbols:) instead of list: stays refused: the training service reads only list/symbol", () => {
    // SymbolConfiguration accepts `symbols` (populate_by_name), but ktrdr/api/services/training/context.py
    // `_extract_config_list` reads `list` or `symbol` from the raw YAML: such a strategy would train no symbol.
    const strategy = example('v3_multi_symbol.yaml');
    const { list, ...rest } = strategy.training_data.symbols;
    strategy.training_data.symbols = { ...rest, symbols: list };
    assert.match(formatFindings(errorsOf(validateStrategy(strategy))), /training_data\.symbols\.list: is required when mode is 'multi_symbol'/);
  });
});
