/**
 * The simulator's model of how a strategy design trains and trades. It is not a market model: it turns the
 * lessons KTRDR's own research wrote down (CONTRACT §5.7) into outcomes a reader can trace back to the design:
 * - fuzzy ranges off an indicator's scale, or price-unit indicators in fuzzy sets, learn nothing (loss flat ~1.09);
 * - two complementary bounded indicators beat one, and beat two that measure the same thing; a third adds little;
 * - big networks overfit (train loss falls, test accuracy does not follow, the val–test gap grows);
 * - a zigzag threshold around 1.5% labels well, 3.5% overfits, under 0.5% is noise;
 * - ZigZag as an input leaks the future: great training numbers, useless backtests.
 * Every number also carries a seeded draw, so outcomes are deterministic for (seed, strategy content).
 */
import type { IndicatorSpec } from '../strategy/indicator-spec.ts';
import { builtinIndicatorRegistry } from '../strategy/indicators.ts';
import { barsPerDay, dayCount, findSymbol } from './market.ts';
import { clamp, SeededRandom } from '../kernel/random.ts';
import { sharpeNoise } from './planted-world.ts';
import { isRecord } from '../kernel/records.ts';
import {
  combineSignals,
  FUZZY_SET_KEYS,
  membershipFit,
  membershipOf,
  outputPhysics,
  parseReference,
  type Membership,
  type SignalAssessment,
} from './signals.ts';

export interface DesignAnalysis {
  outputFormat: 'classification' | 'regression';
  classes: number;
  epochsConfigured: number;
  symbols: string[];
  timeframes: string[];
  signals: SignalAssessment[];
  /** 0..1, how much there is to learn from the inputs and labels. */
  quality: number;
  /** 0..1, how prone the design is to memorising the training period. */
  overfit: number;
  /** An input that sees the future (ZigZag). */
  leak: boolean;
  modelType: string;
  hiddenUnits: number;
  confidenceThreshold: number;
  /** Indicator types the registry does not know: the worker fails on them. */
  unknownTypes: string[];
  notes: string[];
  /** Set by a planted world (`planted-world.ts`): the Sharpe the design truly has, which its backtests show plus noise. */
  trueSharpe?: number;
}

function numberAt(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function listOfStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Symbols and timeframes as KTRDR reads them from `training_data` (`list`, else the single value). */
export function trainingDataOf(config: unknown): { symbols: string[]; timeframes: string[]; startDate: string | null; endDate: string | null } {
  const data = isRecord(config) && isRecord(config.training_data) ? config.training_data : {};
  const symbolsNode = isRecord(data.symbols) ? data.symbols : {};
  const timeframesNode = isRecord(data.timeframes) ? data.timeframes : {};
  const symbols = listOfStrings(symbolsNode.list);
  if (symbols.length === 0 && typeof symbolsNode.symbol === 'string') symbols.push(symbolsNode.symbol);
  const timeframes = listOfStrings(timeframesNode.list);
  if (timeframes.length === 0 && typeof timeframesNode.timeframe === 'string') timeframes.push(timeframesNode.timeframe);
  const range = isRecord(data.date_range) ? data.date_range : {};
  const start = typeof range.start === 'string' ? range.start : typeof data.start_date === 'string' ? data.start_date : null;
  const end = typeof range.end === 'string' ? range.end : typeof data.end_date === 'string' ? data.end_date : null;
  return { symbols, timeframes, startDate: start, endDate: end };
}

/** KTRDR's v3 orchestrator reads top-level `training.epochs`, default 100. */
export function epochsOf(config: unknown): number {
  const training = isRecord(config) && isRecord(config.training) ? config.training : {};
  const epochs = numberAt(training.epochs, 100);
  return Math.max(1, Math.round(epochs));
}

function zigzagEffect(threshold: number): { factor: number; overfit: number } {
  const distance = Math.log(Math.max(threshold, 1e-4) / 0.015);
  return {
    factor: Math.max(0.35, Math.exp(-(distance ** 2) / (2 * 0.8 ** 2))),
    overfit: clamp((threshold - 0.02) * 25, 0, 0.5),
  };
}

const TIMEFRAME_EFFECTS: Record<string, { factor: number; overfit: number }> = {
  '1m': { factor: 0.55, overfit: 0 },
  '5m': { factor: 0.7, overfit: 0 },
  '15m': { factor: 0.85, overfit: 0 },
  '30m': { factor: 0.92, overfit: 0 },
  '1h': { factor: 1, overfit: 0 },
  '4h': { factor: 0.97, overfit: 0.05 },
  '1d': { factor: 0.9, overfit: 0.2 },
};

/** Reads a strategy the way the simulator's worker "trains" it. `config` is the parsed, validated YAML. */
export function analyzeDesign(config: unknown, symbolOverride?: string[], timeframeOverride?: string[]): DesignAnalysis {
  const root = isRecord(config) ? config : {};
  const notes: string[] = [];
  const data = trainingDataOf(config);
  const symbols = symbolOverride && symbolOverride.length > 0 ? symbolOverride : data.symbols;
  const timeframes = timeframeOverride && timeframeOverride.length > 0 ? timeframeOverride : data.timeframes;
  const priceLevel = findSymbol(symbols[0] ?? 'EURUSD')?.priceLevel ?? 1;

  const decisions = isRecord(root.decisions) ? root.decisions : {};
  const outputFormat = decisions.output_format === 'regression' ? 'regression' : 'classification';
  const confidenceThreshold = clamp(numberAt(decisions.confidence_threshold, 0.6), 0, 1);
  const training = isRecord(root.training) ? root.training : {};
  const labels = isRecord(training.labels) ? training.labels : {};
  const labelSource = typeof labels.source === 'string' ? labels.source : outputFormat === 'regression' ? 'forward_return' : 'zigzag';
  const classes = labelSource === 'regime' ? 4 : 3;

  const indicators = isRecord(root.indicators) ? root.indicators : {};
  const unknownTypes: string[] = [];
  const specs = new Map<string, IndicatorSpec>();
  for (const [id, definition] of Object.entries(indicators)) {
    const type = isRecord(definition) && typeof definition.type === 'string' ? definition.type : '';
    const spec = builtinIndicatorRegistry.resolve(type);
    if (spec) specs.set(id, spec);
    else unknownTypes.push(type || `(no type for ${id})`);
  }

  const fuzzySets = isRecord(root.fuzzy_sets) ? root.fuzzy_sets : {};
  const inputs = Array.isArray(root.nn_inputs) ? root.nn_inputs : [];
  const signals: SignalAssessment[] = [];
  const seenOutputs = new Map<string, SignalAssessment>();
  let leak = false;
  let featureCount = 0;
  const inputTimeframes = Math.max(1, timeframes.length);

  for (const input of inputs) {
    if (!isRecord(input)) continue;
    let assessment: SignalAssessment | null = null;
    if (typeof input.fuzzy_set === 'string') {
      const set = fuzzySets[input.fuzzy_set];
      if (!isRecord(set)) continue;
      const reference = parseReference(set.indicator);
      const spec = reference ? specs.get(reference.id) : undefined;
      if (!reference || !spec) continue;
      const physics = outputPhysics(spec, reference.output, priceLevel);
      const memberships = Object.entries(set)
        .filter(([key]) => !FUZZY_SET_KEYS.has(key))
        .map(([, value]) => membershipOf(value))
        .filter((membership): membership is Membership => membership !== null);
      featureCount += memberships.length * inputTimeframes;
      leak ||= physics.leak;
      const fit = physics.band ? membershipFit(memberships, physics.band) : 0.5;
      const strength = physics.edge * fit * physics.stationarity;
      let note: string;
      if (physics.leak) note = `${input.fuzzy_set}: ZigZag as an input sees future turning points (leak)`;
      else if (physics.stationarity < 1) note = `${input.fuzzy_set}: ${spec.canonicalType} is in price units, fixed fuzzy ranges do not transfer (weak)`;
      else if (fit < 0.2) note = `${input.fuzzy_set}: fuzzy ranges miss ${physics.key}'s values (${physics.band?.join('..') ?? '?'}), almost never active`;
      else if (fit < 0.75) note = `${input.fuzzy_set}: fuzzy ranges cover ${physics.key} partly (fit ${fit.toFixed(2)})`;
      else note = `${input.fuzzy_set}: fuzzy ranges fit ${physics.key}`;
      assessment = { input: input.fuzzy_set, indicator: physics.key, family: physics.family, fit, strength, note };
    } else if (typeof input.raw_indicator === 'string') {
      const reference = parseReference(input.raw_indicator);
      const spec = reference ? specs.get(reference.id) : undefined;
      if (!reference || !spec) continue;
      const physics = outputPhysics(spec, reference.output, priceLevel);
      const normalization = typeof input.normalization === 'string' ? input.normalization : 'none';
      featureCount += inputTimeframes;
      leak ||= physics.leak;
      // Raw values need normalization; price-unit values stay weak even normalized (they drift with the price).
      let fit: number;
      if (physics.stationarity >= 1) fit = normalization === 'none' ? 0.5 : 0.65;
      else fit = normalization === 'zscore' ? 0.35 : normalization === 'minmax' ? 0.2 : 0.1;
      const strength = physics.edge * fit;
      const note = `${input.raw_indicator}: raw ${physics.key} with ${normalization} normalization`;
      assessment = { input: input.raw_indicator, indicator: physics.key, family: physics.family, fit, strength, note };
    }
    if (!assessment) continue;
    // The same output fed twice (two fuzzy sets on one RSI) is one signal: keep the better reading.
    const previous = seenOutputs.get(assessment.indicator);
    if (!previous || previous.strength < assessment.strength) seenOutputs.set(assessment.indicator, assessment);
    notes.push(assessment.note);
  }
  signals.push(...seenOutputs.values());

  let quality = combineSignals(signals);
  let overfit = 0;

  if (labelSource === 'zigzag') {
    const threshold = numberAt(labels.zigzag_threshold, 0.025);
    const effect = zigzagEffect(threshold);
    quality *= effect.factor;
    overfit += effect.overfit;
    notes.push(`zigzag labels at ${(threshold * 100).toFixed(1)}%: label quality ${effect.factor.toFixed(2)}${effect.overfit > 0 ? ', prone to overfit' : ''}`);
  } else {
    const factors: Record<string, number> = { forward_return: 0.8, triple_barrier: 0.9, regime: 0.75, context: 0.7 };
    quality *= factors[labelSource] ?? 0.6;
    notes.push(`${labelSource} labels`);
  }

  const baseTimeframe = timeframes[0] ?? '1h';
  const timeframeEffect = TIMEFRAME_EFFECTS[baseTimeframe] ?? { factor: 0.8, overfit: 0.1 };
  quality *= timeframeEffect.factor;
  overfit += timeframeEffect.overfit;
  if (timeframes.length > 1) {
    quality = Math.min(1, quality * (1 + 0.06 * (timeframes.length - 1)));
    overfit += 0.08 * (timeframes.length - 1);
    notes.push(`${timeframes.length} timeframes: a little more context, a little more overfitting`);
  }
  if (symbols.length > 1) {
    quality *= 0.95;
    overfit = Math.max(0, overfit - 0.1);
    notes.push(`${symbols.length} symbols: more data, slightly blurred signal`);
  }

  const model = isRecord(root.model) ? root.model : {};
  const architecture = isRecord(model.architecture) ? model.architecture : {};
  const modelType = typeof model.type === 'string' ? model.type.toLowerCase() : 'mlp';
  let hiddenUnits: number;
  let depth: number;
  if (modelType === 'lstm' || modelType === 'gru') {
    const size = numberAt(model.hidden_size ?? architecture.hidden_size, 64);
    depth = numberAt(model.num_layers ?? architecture.num_layers, 2);
    hiddenUnits = size * depth * 1.5;
  } else {
    const layers = Array.isArray(architecture.hidden_layers)
      ? architecture.hidden_layers.filter((item): item is number => typeof item === 'number' && item > 0)
      : [64, 32];
    hiddenUnits = layers.reduce((sum, units) => sum + units, 0) || 96;
    depth = Math.max(1, layers.length);
  }
  const dropout = clamp(numberAt(architecture.dropout ?? model.dropout, 0.2), 0, 0.9);
  if (hiddenUnits < 12) {
    quality *= 0.8;
    notes.push(`${hiddenUnits} hidden units: too small to learn the pattern`);
  } else if (hiddenUnits < 24) quality *= 0.92;
  const sizeOverfit = (clamp(Math.log2(hiddenUnits / 256) / 2.2, 0, 1) + Math.max(0, depth - 4) * 0.12) * (1 - Math.min(dropout, 0.6) * 0.8);
  if (sizeOverfit > 0.3) notes.push(`${hiddenUnits} hidden units in ${depth} layers: large enough to memorise the training period`);
  overfit += sizeOverfit;
  if (featureCount > 40) {
    overfit += 0.1;
    notes.push(`${featureCount} input features: many for the data`);
  }
  const epochsConfigured = epochsOf(config);
  if (epochsConfigured > 150) overfit += 0.1;
  const learningRate = numberAt(training.learning_rate, 0.001);
  if (learningRate > 0.01) {
    quality *= 0.85;
    notes.push(`learning rate ${learningRate}: unstable`);
  } else if (learningRate < 1e-5) {
    quality *= 0.7;
    notes.push(`learning rate ${learningRate}: too slow to converge`);
  }

  return {
    outputFormat,
    classes,
    epochsConfigured,
    symbols,
    timeframes,
    signals,
    quality: clamp(quality, 0, 1),
    overfit: clamp(overfit, 0, 1),
    leak,
    modelType,
    hiddenUnits,
    confidenceThreshold,
    unknownTypes,
    notes,
  };
}

export interface TrainingOutcome {
  epochsTrained: number;
  initialLoss: number;
  finalTrainLoss: number;
  finalValLoss: number;
  finalTrainAccuracy: number;
  finalValAccuracy: number;
  testAccuracy: number;
  testLoss: number;
  precision: number;
  recall: number;
  f1: number;
  mae: number | null;
  /** Per-epoch curves, index 0 = epoch 1. */
  history: { trainLoss: number[]; valLoss: number[]; trainAccuracy: number[]; valAccuracy: number[] };
  overfit: number;
  leak: boolean;
  quality: number;
}

function curve(start: number, end: number, length: number, random: SeededRandom, steepness = 3.5, wobble = 0.004): number[] {
  const values: number[] = [];
  for (let i = 0; i < length; i++) {
    const x = length === 1 ? 1 : i / (length - 1);
    const shape = (Math.exp(-steepness * x) - Math.exp(-steepness)) / (1 - Math.exp(-steepness));
    const value = end + (start - end) * shape;
    values.push(i === 0 || i === length - 1 ? value : value * (1 + random.normal(0, wobble)));
  }
  return values;
}

/** Eval-mode loss over the dropout-on training loss of the same weights (from the real runs quoted below). */
const DROPOUT_EVALUATION_RATIO = 0.82;

const round = (value: number, digits = 4) => Number(value.toFixed(digits));

/** The training's results, drawn once per (seed, content) from the design analysis. */
export function simulateTraining(design: DesignAnalysis, random: SeededRandom): TrainingOutcome {
  const quality = clamp(design.quality + random.normal(0, 0.07), 0, 1);
  const overfit = design.overfit;
  const regression = design.outputFormat === 'regression';
  const chance = regression ? 0.5 : 1 / design.classes;
  const lossScale = regression ? 0.00018 : Math.log(design.classes);
  const leakBoost = design.leak ? 0.27 : 0;

  const initialLoss = lossScale * (1 + random.normal(0, 0.006));
  const reduction = clamp(0.4 * quality + 0.3 * overfit - 0.03 + (design.leak ? 0.3 : 0) + random.normal(0, 0.03), 0.005, 0.9);
  const finalTrainLoss = initialLoss * (1 - reduction);
  const accuracySpan = regression ? 0.14 : 0.3;
  const finalTrainAccuracy = clamp(chance + (accuracySpan + 0.03) * quality + 0.22 * overfit + leakBoost + 0.03, 0, 0.97);
  const finalValAccuracy = clamp(chance + (accuracySpan + 0.01) * quality - 0.04 * overfit + leakBoost + random.normal(0, 0.012), 0, 0.97);
  const testAccuracy = clamp(chance + accuracySpan * quality - 0.16 * overfit + leakBoost + random.normal(0, 0.015), 0, 0.97);
  // KTRDR measures the training loss with dropout on and the validation and test losses with it off, so a model that
  // generalises scores lower on held-out data than on its own training batches: the real KTRDR (2c5c7173) gave
  // final_train_loss 0.807 against test_loss 0.713, and test losses of 0.686 and 0.694 after 14-20% loss reductions.
  const evaluatedTrainLoss = finalTrainLoss * DROPOUT_EVALUATION_RATIO;
  const finalValLoss = evaluatedTrainLoss + lossScale * (0.01 + 0.35 * overfit + Math.abs(random.normal(0, 0.01)));
  const testLoss = finalValLoss + lossScale * (0.01 + 0.1 * overfit + Math.abs(random.normal(0, 0.01)));

  // ModelTrainer stops when validation loss stops improving: early on a flat design, midway on an overfitting one.
  let epochsTrained = design.epochsConfigured;
  if (quality < 0.15 && !design.leak) epochsTrained = Math.min(design.epochsConfigured, 15 + Math.floor(random.next() * 10));
  else if (overfit > 0.45) epochsTrained = Math.min(design.epochsConfigured, Math.max(10, Math.round(design.epochsConfigured * (0.75 - 0.4 * overfit))));

  const noise = new SeededRandom(Math.floor(random.next() * 2 ** 32));
  const history = {
    trainLoss: curve(initialLoss, finalTrainLoss, epochsTrained, noise).map((value) => round(value, regression ? 8 : 4)),
    valLoss: curve(initialLoss * 1.01, finalValLoss, epochsTrained, noise).map((value) => round(value, regression ? 8 : 4)),
    trainAccuracy: curve(chance, finalTrainAccuracy, epochsTrained, noise).map((value) => round(value)),
    valAccuracy: curve(chance, finalValAccuracy, epochsTrained, noise).map((value) => round(value)),
  };
  return {
    epochsTrained,
    initialLoss: history.trainLoss[0] ?? initialLoss,
    finalTrainLoss: history.trainLoss[history.trainLoss.length - 1] ?? finalTrainLoss,
    finalValLoss: round(finalValLoss, regression ? 8 : 4),
    finalTrainAccuracy: round(finalTrainAccuracy),
    finalValAccuracy: round(finalValAccuracy),
    testAccuracy: round(testAccuracy),
    testLoss: round(testLoss, regression ? 8 : 4),
    precision: round(clamp(testAccuracy - 0.01 + random.normal(0, 0.01), 0, 1)),
    recall: round(clamp(testAccuracy + random.normal(0, 0.01), 0, 1)),
    f1: round(clamp(testAccuracy - 0.02 + random.normal(0, 0.01), 0, 1)),
    mae: regression ? round(0.004 * (1 - 0.3 * quality), 6) : null,
    history,
    overfit,
    leak: design.leak,
    quality,
  };
}

export interface BacktestRequest {
  symbol: string;
  timeframe: string;
  startDate: string;
  endDate: string;
  initialCapital: number;
  commission: number;
  slippage: number;
}

export interface BacktestOutcome {
  totalTrades: number;
  winningTrades: number;
  losingTrades: number;
  winRate: number;
  sharpe: number;
  sortino: number;
  calmar: number;
  maxDrawdownPct: number;
  maxDrawdown: number;
  totalReturn: number;
  totalReturnPct: number;
  annualizedReturn: number;
  volatility: number;
  profitFactor: number;
  avgWin: number;
  avgLoss: number;
  largestWin: number;
  largestLoss: number;
  bars: number;
}

const TRADES_PER_BAR: Record<string, number> = { '1m': 0.002, '5m': 0.004, '15m': 0.008, '30m': 0.01, '1h': 0.012, '4h': 0.03, '1d': 0.06 };

/** Trading results follow the model's out-of-sample edge, plus a draw: some good models still lose. */
export function simulateBacktest(training: TrainingOutcome, design: DesignAnalysis, request: BacktestRequest, random: SeededRandom): BacktestOutcome {
  const chance = design.outputFormat === 'regression' ? 0.5 : 1 / design.classes;
  const truth = design.trueSharpe;
  // In a planted world the edge that sets the win rate and drawdown is the one the true Sharpe implies.
  const edge =
    truth !== undefined
      ? Math.max(0, (truth + 0.5) / 6.5)
      : design.leak
        ? 0.01
        : Math.max(0, training.testAccuracy - chance - 0.02) * (1 - 0.6 * training.overfit);
  const symbol = findSymbol(request.symbol);
  const days = Math.max(1, dayCount(request.startDate, request.endDate));
  const bars = Math.round(days * (symbol ? barsPerDay(symbol, request.timeframe) : 17));
  const activity = clamp((1.4 - design.confidenceThreshold) / 0.8, 0.1, 2);
  const expectedTrades = bars * (TRADES_PER_BAR[request.timeframe] ?? 0.012) * activity;
  const totalTrades = Math.max(0, Math.round(expectedTrades * (1 + random.normal(0, 0.15))));

  const rawWinRate = clamp(0.35 + 0.5 * edge + random.normal(0, 0.05), 0.05, 0.9);
  const winningTrades = Math.round(totalTrades * rawWinRate);
  const losingTrades = totalTrades - winningTrades;
  const winRate = totalTrades === 0 ? 0 : winningTrades / totalTrades;

  const years = days / 365;
  const volatility = clamp((symbol?.type === 'forex' ? 0.07 : 0.18) * (1 + random.normal(0, 0.1)), 0.02, 0.6);
  const noise = truth !== undefined ? sharpeNoise(bars) : 0.45;
  const sharpe = totalTrades === 0 ? 0 : (truth ?? -0.5 + 6.5 * edge) + random.normal(0, noise);
  const annualizedReturn = sharpe * volatility;
  const totalReturnPct = totalTrades === 0 ? 0 : (1 + annualizedReturn) ** years - 1;
  const totalReturn = totalReturnPct * request.initialCapital;
  const maxDrawdownPct = clamp(0.16 + 0.25 * (1 - Math.min(1, edge / 0.2)) + 0.2 * training.overfit + Math.abs(random.normal(0, 0.08)), 0.01, 0.95);
  const maxDrawdown = maxDrawdownPct * request.initialCapital;

  let avgLoss = request.initialCapital * 0.006;
  let grossLoss = losingTrades * avgLoss;
  let grossProfit = totalReturn + grossLoss;
  if (grossProfit < 0 && losingTrades > 0) {
    grossProfit = 0;
    grossLoss = -totalReturn;
    avgLoss = grossLoss / losingTrades;
  }
  const avgWin = winningTrades > 0 ? grossProfit / winningTrades : 0;
  const profitFactor = grossLoss > 0 ? grossProfit / grossLoss : grossProfit > 0 ? 999999 : 0;
  const downside = 1.3 + random.normal(0, 0.1);
  return {
    totalTrades,
    winningTrades,
    losingTrades,
    winRate: round(winRate),
    sharpe: round(sharpe),
    sortino: round(sharpe * downside),
    calmar: round(maxDrawdownPct > 0 ? annualizedReturn / maxDrawdownPct : 0),
    maxDrawdownPct: round(maxDrawdownPct),
    maxDrawdown: round(maxDrawdown, 2),
    totalReturn: round(totalReturn, 2),
    totalReturnPct: round(totalReturnPct),
    annualizedReturn: round(annualizedReturn),
    volatility: round(volatility),
    profitFactor: round(Math.min(profitFactor, 999999)),
    avgWin: round(avgWin, 2),
    avgLoss: round(-avgLoss, 2),
    largestWin: round(avgWin * (2 + random.next()), 2),
    largestLoss: round(-avgLoss * (2 + random.next()), 2),
    bars,
  };
}
