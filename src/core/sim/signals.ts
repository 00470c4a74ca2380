// What one input of a design tells the simulator's quality model (quality.ts): how much its indicator output says
// about the next swing and in which family of signals, where its values really sit, how well the fuzzy ranges cover
// them, and how several inputs add up.
import { scaleOfOutput, type IndicatorSpec, type IndicatorValueScale } from '../strategy/indicator-spec.ts';
import { clamp } from '../kernel/random.ts';
import { isRecord } from '../kernel/records.ts';

type Band = readonly [number, number];

interface SignalPhysics {
  family: string;
  edge: number;
}

/** How much each indicator output tells about the next swing, and which other outputs it overlaps with. */
const SIGNALS: Record<string, SignalPhysics> = {
  rsi: { family: 'momentum', edge: 0.8 },
  stochastic: { family: 'momentum', edge: 0.72 },
  williamsr: { family: 'momentum', edge: 0.72 },
  rvi: { family: 'momentum', edge: 0.6 },
  fishertransform: { family: 'momentum', edge: 0.6 },
  roc: { family: 'momentum', edge: 0.55 },
  cci: { family: 'momentum', edge: 0.6 },
  momentum: { family: 'momentum', edge: 0.45 },
  macd: { family: 'trend_direction', edge: 0.55 },
  'adx.adx': { family: 'trend_strength', edge: 0.7 },
  'adx.plus_di': { family: 'direction', edge: 0.85 },
  'adx.minus_di': { family: 'direction', edge: 0.85 },
  'aroon.up': { family: 'direction', edge: 0.7 },
  'aroon.down': { family: 'direction', edge: 0.7 },
  'aroon.oscillator': { family: 'direction', edge: 0.72 },
  'supertrend.direction': { family: 'direction', edge: 0.6 },
  mfi: { family: 'money_flow', edge: 0.68 },
  cmf: { family: 'money_flow', edge: 0.62 },
  obv: { family: 'money_flow', edge: 0.4 },
  adline: { family: 'money_flow', edge: 0.4 },
  volumeratio: { family: 'money_flow', edge: 0.45 },
  atr: { family: 'volatility', edge: 0.45 },
  bollingerbandwidth: { family: 'volatility', edge: 0.55 },
  squeezeintensity: { family: 'volatility', edge: 0.55 },
  distancefromma: { family: 'mean_reversion', edge: 0.6 },
};

/** Where an output's values actually sit most of the time (5th to 95th percentile), for bounded outputs. */
const BOUNDED_BANDS: Record<string, Band> = {
  rsi: [20, 80],
  stochastic: [5, 95],
  williamsr: [-95, -5],
  mfi: [15, 85],
  'adx.adx': [8, 50],
  'adx.plus_di': [5, 45],
  'adx.minus_di': [5, 45],
  cmf: [-0.35, 0.35],
  rvi: [-0.5, 0.5],
  squeezeintensity: [0, 1],
};

export interface SignalAssessment {
  input: string;
  indicator: string;
  family: string;
  /** 0..1: how well the fuzzy ranges (or the normalization) fit where the values really are. */
  fit: number;
  /** 0..1: contribution before combining with the others. */
  strength: number;
  note: string;
}

export type Membership = (x: number) => number;

function triangular(a: number, b: number, c: number): Membership {
  return (x) => {
    if (x === b) return 1;
    if (x < a || x > c) return 0;
    if (x < b) return b === a ? 1 : (x - a) / (b - a);
    return c === b ? 1 : (c - x) / (c - b);
  };
}

function trapezoidal(a: number, b: number, c: number, d: number): Membership {
  return (x) => {
    if (x < a || x > d) return 0;
    if (x >= b && x <= c) return 1;
    if (x < b) return b === a ? 1 : (x - a) / (b - a);
    return d === c ? 1 : (d - x) / (d - c);
  };
}

function gaussian(mean: number, sigma: number): Membership {
  return (x) => (sigma > 0 ? Math.exp(-((x - mean) ** 2) / (2 * sigma ** 2)) : x === mean ? 1 : 0);
}

export function membershipOf(value: unknown): Membership | null {
  let kind: string | null = null;
  let parameters: unknown = value;
  if (isRecord(value)) {
    kind = typeof value.type === 'string' ? value.type.toLowerCase() : null;
    parameters = value.parameters;
  }
  if (!Array.isArray(parameters) || !parameters.every((item) => typeof item === 'number' && Number.isFinite(item))) return null;
  const p = parameters as number[];
  if ((kind === 'triangular' || kind === null) && p.length === 3) return triangular(p[0]!, p[1]!, p[2]!);
  if ((kind === 'trapezoidal' || kind === null) && p.length === 4) return trapezoidal(p[0]!, p[1]!, p[2]!, p[3]!);
  if ((kind === 'gaussian' || kind === null) && p.length === 2) return gaussian(p[0]!, p[1]!);
  return null;
}

export const FUZZY_SET_KEYS = new Set(['indicator', 'description', 'input_transform', 'timeframes']);

/**
 * How well memberships cover where values really are: the share of the band where some membership is active
 * (half the band counts as full cover: a neutral gap is information too), times whether at least two
 * memberships take turns being the strongest.
 */
export function membershipFit(memberships: Membership[], band: Band): number {
  const [low, high] = band;
  const samples = 101;
  let active = 0;
  const winners = new Set<number>();
  for (let i = 0; i < samples; i++) {
    const x = low + ((high - low) * i) / (samples - 1);
    let best = -1;
    let bestValue = 0.05;
    memberships.forEach((membership, index) => {
      const value = membership(x);
      if (value > bestValue) {
        bestValue = value;
        best = index;
      }
    });
    if (best >= 0) {
      active++;
      winners.add(best);
    }
  }
  const activity = Math.min(1, active / samples / 0.5);
  const discrimination = winners.size >= 2 ? 1 : winners.size === 1 ? 0.5 : 0;
  return activity * discrimination;
}

interface OutputPhysics {
  key: string;
  family: string;
  edge: number;
  band: Band | null;
  /** 1 for stationary values; low for price-unit values, whose fixed ranges stop fitting as prices move. */
  stationarity: number;
  leak: boolean;
}

export function outputPhysics(spec: IndicatorSpec, output: string | undefined, priceLevel: number): OutputPhysics {
  const type = spec.canonicalType;
  const resolvedOutput = output ?? spec.outputs?.[0];
  const key = resolvedOutput ? `${type}.${resolvedOutput}` : type;
  const signal = SIGNALS[key] ?? SIGNALS[type] ?? { family: spec.category, edge: 0.5 };
  const scale: IndicatorValueScale = scaleOfOutput(spec, output);
  let band: Band | null = null;
  let stationarity = 1;
  if (scale.kind === 'bounded') {
    const span = scale.max - scale.min;
    band = BOUNDED_BANDS[key] ?? BOUNDED_BANDS[type] ?? [scale.min + 0.05 * span, scale.max - 0.05 * span];
  } else if (scale.kind === 'unbounded') {
    band = [scale.typicalMin, scale.typicalMax];
  } else if (scale.kind === 'instrument') {
    stationarity = 0.15;
    if (type === 'atr') band = [0.0005 * priceLevel, 0.002 * priceLevel];
    else if (type === 'macd') band = [-0.002 * priceLevel, 0.002 * priceLevel];
    else if (type === 'momentum') band = [-0.01 * priceLevel, 0.01 * priceLevel];
    else if (type === 'cci') {
      band = [-200, 200];
      stationarity = 0.6;
    } else if (type === 'obv' || type === 'adline') band = [-5e5, 5e5];
    else band = [0.97 * priceLevel, 1.03 * priceLevel];
  }
  return { key, family: signal.family, edge: signal.edge, band, stationarity, leak: type === 'zigzag' };
}

export function parseReference(reference: unknown): { id: string; output: string | undefined } | null {
  if (typeof reference !== 'string' || reference === '') return null;
  const dot = reference.indexOf('.');
  return dot < 0 ? { id: reference, output: undefined } : { id: reference.slice(0, dot), output: reference.slice(dot + 1) };
}

/** Sums signals with diminishing returns: overlap inside a family adds little, a third family adds little. */
export function combineSignals(signals: SignalAssessment[]): number {
  const byFamily = new Map<string, number[]>();
  for (const signal of signals) {
    const list = byFamily.get(signal.family) ?? [];
    list.push(signal.strength);
    byFamily.set(signal.family, list);
  }
  const familyValues = [...byFamily.values()].map((strengths) => {
    strengths.sort((a, b) => b - a);
    return strengths.reduce((sum, value, index) => sum + value * (index === 0 ? 1 : index === 1 ? 0.15 : 0.05), 0);
  });
  familyValues.sort((a, b) => b - a);
  const info = familyValues.reduce((sum, value, index) => sum + value * (index === 0 ? 1 : index === 1 ? 0.8 : index === 2 ? 0.1 : 0.05), 0);
  return clamp(info / 1.45, 0, 1);
}
