import { canonicalTypeOf, type FuzzyZone, type IndicatorParameter, type IndicatorSpec, type IndicatorValueScale } from './indicator-spec.ts';

const PRICE_SOURCES = ['open', 'high', 'low', 'close', 'volume'] as const;

const period = (defaultValue: number, min: number, max?: number, description = 'lookback period in bars'): IndicatorParameter => ({
  name: 'period',
  type: 'int',
  default: defaultValue,
  min,
  ...(max === undefined ? {} : { max }),
  description,
});

const priceSource: IndicatorParameter = {
  name: 'source',
  type: 'string',
  default: 'close',
  options: PRICE_SOURCES,
  description: 'price column to compute on',
};

const positiveFloat = (name: string, defaultValue: number, max: number, description: string): IndicatorParameter => ({
  name,
  type: 'float',
  default: defaultValue,
  min: 0,
  exclusiveMin: true,
  max,
  description,
});

const price: IndicatorValueScale = { kind: 'instrument', unit: 'price units' };

const percent0to100 = (zones: readonly FuzzyZone[]): IndicatorValueScale => ({
  kind: 'bounded',
  min: 0,
  max: 100,
  zones,
});

const rsiZones: readonly FuzzyZone[] = [
  { name: 'oversold', triangle: [0, 20, 35] },
  { name: 'neutral', triangle: [30, 50, 70] },
  { name: 'overbought', triangle: [65, 80, 100] },
];

const stochasticZones: readonly FuzzyZone[] = [
  { name: 'oversold', triangle: [0, 10, 25] },
  { name: 'neutral', triangle: [20, 50, 80] },
  { name: 'overbought', triangle: [75, 90, 100] },
];

const trendStrengthZones: readonly FuzzyZone[] = [
  { name: 'weak', triangle: [0, 10, 25] },
  { name: 'moderate', triangle: [20, 30, 45] },
  { name: 'strong', triangle: [40, 60, 100] },
];

const directionalZones: readonly FuzzyZone[] = [
  { name: 'low', triangle: [0, 10, 25] },
  { name: 'medium', triangle: [20, 30, 40] },
  { name: 'high', triangle: [35, 50, 100] },
];

const aroonZones: readonly FuzzyZone[] = [
  { name: 'low', triangle: [0, 15, 40] },
  { name: 'medium', triangle: [30, 50, 70] },
  { name: 'high', triangle: [60, 85, 100] },
];

const builtin = (spec: Omit<IndicatorSpec, 'origin' | 'canonicalType'>): IndicatorSpec => ({
  ...spec,
  canonicalType: canonicalTypeOf(spec.className),
  origin: 'builtin',
});

/** The indicators KTRDR registers, with the facts KTRDR's catalogue endpoint does not give. */
export const BUILTIN_INDICATORS: readonly IndicatorSpec[] = [
  builtin({
    className: 'RSIIndicator',
    aliases: [],
    displayName: 'Relative Strength Index',
    category: 'momentum',
    parameters: [period(14, 2, 100), priceSource],
    outputs: [],
    scale: percent0to100(rsiZones),
  }),
  builtin({
    className: 'StochasticIndicator',
    aliases: [],
    displayName: 'Stochastic Oscillator (%K, %D)',
    category: 'momentum',
    parameters: [
      { name: 'k_period', type: 'int', default: 14, min: 1, max: 100, description: 'lookback for %K' },
      { name: 'd_period', type: 'int', default: 3, min: 1, max: 20, description: 'smoothing of %D' },
      { name: 'smooth_k', type: 'int', default: 3, min: 1, max: 20, description: 'smoothing of %K' },
    ],
    outputs: ['k', 'd'],
    scale: percent0to100(stochasticZones),
  }),
  builtin({
    className: 'WilliamsRIndicator',
    aliases: [],
    displayName: 'Williams %R',
    category: 'momentum',
    parameters: [period(14, 1, 100)],
    outputs: [],
    scale: {
      kind: 'bounded',
      min: -100,
      max: 0,
      zones: [
        { name: 'oversold', triangle: [-100, -90, -75] },
        { name: 'neutral', triangle: [-80, -50, -20] },
        { name: 'overbought', triangle: [-25, -10, 0] },
      ],
    },
  }),
  builtin({
    className: 'MFIIndicator',
    aliases: [],
    displayName: 'Money Flow Index',
    category: 'volume',
    parameters: [period(14, 1, 100)],
    outputs: [],
    scale: percent0to100(stochasticZones),
  }),
  builtin({
    className: 'ADXIndicator',
    aliases: [],
    displayName: 'Average Directional Index (ADX, +DI, -DI)',
    category: 'trend',
    parameters: [period(14, 2, 200)],
    outputs: ['adx', 'plus_di', 'minus_di'],
    scale: percent0to100(trendStrengthZones),
    outputScales: {
      plus_di: percent0to100(directionalZones),
      minus_di: percent0to100(directionalZones),
    },
  }),
  builtin({
    className: 'AroonIndicator',
    aliases: [],
    displayName: 'Aroon (up, down, oscillator)',
    category: 'trend',
    parameters: [
      period(14, 1, 200),
      {
        name: 'include_oscillator',
        type: 'bool',
        default: false,
        description: 'kept for compatibility; the oscillator output is always computed',
      },
    ],
    outputs: ['up', 'down', 'oscillator'],
    scale: percent0to100(aroonZones),
    outputScales: { oscillator: { kind: 'bounded', min: -100, max: 100 } },
  }),
  builtin({
    className: 'CMFIndicator',
    aliases: [],
    displayName: 'Chaikin Money Flow',
    category: 'volume',
    parameters: [period(21, 2, 500)],
    // Multi-output in KTRDR (cmf_indicator.py `get_output_names` at 2c5c7173): `cmf_21.signal` is a valid reference.
    outputs: ['cmf', 'mf_multiplier', 'mf_volume', 'momentum', 'signal', 'histogram', 'above_zero', 'below_zero'],
    outputScales: {
      mf_multiplier: { kind: 'bounded', min: -1, max: 1 },
      mf_volume: { kind: 'instrument', unit: 'money-flow volume' },
      momentum: { kind: 'bounded', min: -2, max: 2 },
      histogram: { kind: 'bounded', min: -2, max: 2 },
      above_zero: { kind: 'bounded', min: 0, max: 1 },
      below_zero: { kind: 'bounded', min: 0, max: 1 },
    },
    scale: {
      kind: 'bounded',
      min: -1,
      max: 1,
      zones: [
        { name: 'selling', triangle: [-1, -0.25, 0] },
        { name: 'neutral', triangle: [-0.1, 0, 0.1] },
        { name: 'buying', triangle: [0, 0.25, 1] },
      ],
    },
  }),
  builtin({
    className: 'RVIIndicator',
    aliases: [],
    displayName: 'Relative Vigor Index (rvi, signal)',
    category: 'momentum',
    parameters: [period(10, 4, 100), { name: 'signal_period', type: 'int', default: 4, min: 1, max: 50, description: 'SMA period of the signal line' }],
    outputs: ['rvi', 'signal'],
    scale: {
      kind: 'bounded',
      min: -1,
      max: 1,
      zones: [
        { name: 'bearish', triangle: [-1, -0.3, 0] },
        { name: 'neutral', triangle: [-0.15, 0, 0.15] },
        { name: 'bullish', triangle: [0, 0.3, 1] },
      ],
    },
  }),
  builtin({
    className: 'SqueezeIntensityIndicator',
    aliases: [],
    displayName: 'Squeeze Intensity (Bollinger inside Keltner)',
    category: 'volatility',
    parameters: [
      { name: 'bb_period', type: 'int', default: 20, min: 2, description: 'Bollinger Bands period' },
      positiveFloat('bb_multiplier', 2.0, 10, 'Bollinger Bands standard deviation multiplier'),
      { name: 'kc_period', type: 'int', default: 20, min: 2, description: 'Keltner Channels period' },
      positiveFloat('kc_multiplier', 2.0, 10, 'Keltner Channels ATR multiplier'),
      priceSource,
    ],
    outputs: [],
    scale: { kind: 'bounded', min: 0, max: 1 },
  }),
  builtin({
    className: 'MACDIndicator',
    aliases: [],
    displayName: 'MACD (line, signal, histogram)',
    category: 'momentum',
    parameters: [
      { name: 'fast_period', type: 'int', default: 12, min: 1, max: 100, description: 'fast EMA period' },
      { name: 'slow_period', type: 'int', default: 26, min: 1, max: 200, description: 'slow EMA period' },
      { name: 'signal_period', type: 'int', default: 9, min: 1, max: 50, description: 'signal line EMA period' },
      priceSource,
    ],
    outputs: ['line', 'signal', 'histogram'],
    scale: price,
  }),
  builtin({
    className: 'BollingerBandsIndicator',
    aliases: ['bbands'],
    displayName: 'Bollinger Bands (upper, middle, lower)',
    category: 'volatility',
    parameters: [period(20, 2), positiveFloat('multiplier', 2.0, 10, 'standard deviation multiplier'), priceSource],
    outputs: ['upper', 'middle', 'lower'],
    scale: price,
  }),
  builtin({
    className: 'BollingerBandWidthIndicator',
    aliases: [],
    displayName: 'Bollinger Band Width ((upper - lower) / middle)',
    category: 'volatility',
    parameters: [period(20, 2), positiveFloat('multiplier', 2.0, 10, 'standard deviation multiplier'), priceSource],
    outputs: [],
    scale: { kind: 'unbounded', typicalMin: 0, typicalMax: 0.1, unit: 'ratio of band width to the middle band' },
  }),
  builtin({
    className: 'KeltnerChannelsIndicator',
    aliases: [],
    displayName: 'Keltner Channels (upper, middle, lower)',
    category: 'volatility',
    parameters: [
      period(20, 2, 500, 'EMA period of the middle line'),
      { name: 'atr_period', type: 'int', default: 10, min: 2, max: 200, description: 'ATR period' },
      positiveFloat('multiplier', 2.0, 10, 'ATR multiplier'),
    ],
    outputs: ['upper', 'middle', 'lower'],
    scale: price,
  }),
  builtin({
    className: 'DonchianChannelsIndicator',
    aliases: [],
    displayName: 'Donchian Channels (upper, middle, lower)',
    category: 'volatility',
    parameters: [period(20, 2, 500), { name: 'include_middle', type: 'bool', default: true, description: 'compute the middle line' }],
    outputs: ['upper', 'middle', 'lower'],
    scale: price,
  }),
  builtin({
    className: 'ATRIndicator',
    aliases: [],
    displayName: 'Average True Range',
    category: 'volatility',
    parameters: [period(14, 1, 100)],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'SimpleMovingAverage',
    aliases: ['sma'],
    displayName: 'Simple Moving Average',
    category: 'trend',
    parameters: [period(20, 2, 500), priceSource],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'ExponentialMovingAverage',
    aliases: ['ema'],
    displayName: 'Exponential Moving Average',
    category: 'trend',
    parameters: [period(20, 1, 500), priceSource, { name: 'adjust', type: 'bool', default: true, description: 'use the adjusted EMA formula' }],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'WeightedMovingAverage',
    aliases: ['wma'],
    displayName: 'Weighted Moving Average',
    category: 'trend',
    parameters: [period(20, 2, 500), priceSource],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'DistanceFromMAIndicator',
    aliases: [],
    displayName: 'Distance from Moving Average (%)',
    category: 'trend',
    parameters: [period(20, 2), { name: 'ma_type', type: 'string', default: 'SMA', options: ['SMA', 'EMA'], description: 'moving average type' }, priceSource],
    outputs: [],
    scale: { kind: 'unbounded', typicalMin: -5, typicalMax: 5, unit: 'percent distance from the moving average' },
  }),
  builtin({
    className: 'IchimokuIndicator',
    aliases: [],
    displayName: 'Ichimoku Cloud (tenkan, kijun, senkou_a, senkou_b, chikou)',
    category: 'trend',
    parameters: [
      { name: 'tenkan_period', type: 'int', default: 9, min: 1, description: 'conversion line period' },
      { name: 'kijun_period', type: 'int', default: 26, min: 1, description: 'base line period' },
      { name: 'senkou_b_period', type: 'int', default: 52, min: 1, description: 'leading span B period' },
      { name: 'displacement', type: 'int', default: 26, min: 1, description: 'forward shift of the leading spans' },
    ],
    outputs: ['tenkan', 'kijun', 'senkou_a', 'senkou_b', 'chikou'],
    scale: price,
  }),
  builtin({
    className: 'ParabolicSARIndicator',
    aliases: [],
    displayName: 'Parabolic SAR',
    category: 'trend',
    parameters: [
      positiveFloat('initial_af', 0.02, 1, 'initial acceleration factor'),
      positiveFloat('step_af', 0.02, 1, 'acceleration factor increment'),
      positiveFloat('max_af', 0.2, 1, 'maximum acceleration factor'),
    ],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'SuperTrendIndicator',
    aliases: [],
    displayName: 'SuperTrend (trend, direction)',
    category: 'trend',
    parameters: [period(10, 2, 200, 'ATR period'), positiveFloat('multiplier', 3.0, 10, 'ATR multiplier')],
    outputs: ['trend', 'direction'],
    scale: price,
    outputScales: { direction: { kind: 'bounded', min: -1, max: 1 } },
  }),
  builtin({
    className: 'ZigZagIndicator',
    aliases: [],
    displayName: 'ZigZag',
    category: 'trend',
    parameters: [
      {
        name: 'threshold',
        type: 'float',
        default: 0.05,
        min: 0,
        exclusiveMin: true,
        max: 1,
        description: 'minimum reversal as a fraction (0.05 = 5%)',
      },
      priceSource,
    ],
    outputs: [],
    scale: price,
    caution:
      'ZigZag confirms each extreme only after the price has moved on, so as a model input it leaks future data; ' +
      'KTRDR uses it for labels (training.labels.source: zigzag), not as a feature',
  }),
  builtin({
    className: 'CCIIndicator',
    aliases: [],
    displayName: 'Commodity Channel Index',
    category: 'momentum',
    parameters: [period(20, 2)],
    outputs: [],
    scale: { kind: 'instrument', unit: 'open-ended deviations from the typical price (often beyond +-200)' },
  }),
  builtin({
    className: 'MomentumIndicator',
    aliases: [],
    displayName: 'Momentum (price difference over N bars)',
    category: 'momentum',
    parameters: [period(10, 1), priceSource],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'ROCIndicator',
    aliases: [],
    displayName: 'Rate of Change (%)',
    category: 'momentum',
    parameters: [period(10, 1), priceSource],
    outputs: [],
    scale: { kind: 'unbounded', typicalMin: -5, typicalMax: 5, unit: 'percent change over the period' },
  }),
  builtin({
    className: 'FisherTransformIndicator',
    aliases: [],
    displayName: 'Fisher Transform (fisher, signal)',
    category: 'momentum',
    parameters: [period(10, 2, 100), { name: 'smoothing', type: 'int', default: 3, min: 1, max: 20, description: 'EMA smoothing period' }],
    outputs: ['fisher', 'signal'],
    scale: { kind: 'unbounded', typicalMin: -3, typicalMax: 3, unit: 'Gaussian-like oscillator' },
  }),
  builtin({
    className: 'OBVIndicator',
    aliases: [],
    displayName: 'On-Balance Volume',
    category: 'volume',
    parameters: [],
    outputs: [],
    scale: { kind: 'instrument', unit: 'cumulative volume' },
  }),
  builtin({
    className: 'ADLineIndicator',
    aliases: [],
    displayName: 'Accumulation/Distribution Line',
    category: 'volume',
    parameters: [
      { name: 'use_sma_smoothing', type: 'bool', default: false, description: 'smooth the line with an SMA' },
      { name: 'smoothing_period', type: 'int', default: 21, min: 2, max: 200, description: 'SMA smoothing period' },
    ],
    // Multi-output in KTRDR (ad_line.py `get_output_names` at 2c5c7173): `adline.roc_10` is a valid reference.
    outputs: ['line', 'mf_multiplier', 'mf_volume', 'roc_10', 'momentum_21', 'relative_strength'],
    outputScales: {
      mf_multiplier: { kind: 'bounded', min: -1, max: 1 },
      mf_volume: { kind: 'instrument', unit: 'money-flow volume' },
      roc_10: { kind: 'unbounded', typicalMin: -50, typicalMax: 50, unit: 'percent change over 10 bars' },
      momentum_21: { kind: 'instrument', unit: 'money-flow volume over 21 bars' },
      relative_strength: { kind: 'unknown' },
    },
    scale: { kind: 'instrument', unit: 'cumulative money-flow volume' },
  }),
  builtin({
    className: 'VWAPIndicator',
    aliases: [],
    displayName: 'Volume Weighted Average Price',
    category: 'volume',
    parameters: [
      period(20, 0, undefined, 'rolling window in bars (0 = cumulative)'),
      {
        name: 'use_typical_price',
        type: 'bool',
        default: true,
        description: 'use (high + low + close) / 3 instead of close',
      },
    ],
    outputs: [],
    scale: price,
  }),
  builtin({
    className: 'VolumeRatioIndicator',
    aliases: [],
    displayName: 'Volume Ratio (volume / SMA of volume)',
    category: 'volume',
    parameters: [period(20, 2)],
    outputs: [],
    scale: { kind: 'unbounded', typicalMin: 0, typicalMax: 3, unit: 'ratio of volume to its average' },
  }),
];
