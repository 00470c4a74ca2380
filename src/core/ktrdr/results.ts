/**
 * KTRDR's results are nested (CONTRACT §3); reading them flat is the bug that showed 0% accuracy in KTRDR's own
 * agent. They are flattened here, once, and everything downstream (gates, prompts, storage) reads these shapes.
 * A value KTRDR did not report is null, never 0, so a gate can tell "missing" from "bad".
 */
import type { OperationInfo } from './schemas.ts';
import { isRecord } from '../kernel/records.ts';

export interface TrainingResult {
  /** Test accuracy (directional accuracy for regression), 0..1. */
  accuracy: number | null;
  testLoss: number | null;
  /** First epoch's training loss. */
  initialLoss: number | null;
  /** Last epoch's training loss. */
  finalLoss: number | null;
  /** (initial − final) / initial. */
  lossReduction: number | null;
  epochsTrained: number | null;
  epochsConfigured: number | null;
  /** Inferred as epochsTrained < epochsConfigured; KTRDR reports no flag. Null when either is unknown. */
  earlyStopped: boolean | null;
  valAccuracy: number | null;
  modelPath: string | null;
  /** `decisions.output_format` of the strategy; the gate reads directional accuracy for regression. */
  outputFormat: 'classification' | 'regression' | null;
  /** `test_metrics.directional_accuracy`, else the test accuracy of a regression (KTRDR reports it there). */
  directionalAccuracy: number | null;
  /** The epoch a resume continued from; KTRDR then reports only the epochs after it. Null when never resumed. */
  resumedAtEpoch: number | null;
}

/** What the session saw of its operation before a resume, so the resumed slice is read against the whole run. */
export interface PriorRun {
  /** The first run's first-epoch training loss. */
  initialLoss: number | null;
  resumedAtEpoch: number | null;
}

export interface BacktestResult {
  sharpe: number | null;
  winRate: number | null;
  /** Fraction of equity, 0..1, from `max_drawdown_pct` (`max_drawdown` is in dollars). */
  maxDrawdown: number | null;
  totalTrades: number | null;
  profitFactor: number | null;
  /** Fraction, 0..1 scale (0.12 = 12%). */
  totalReturnPct: number | null;
  /** Dollars. */
  totalReturn: number | null;
  winningTrades: number | null;
  losingTrades: number | null;
  sortino: number | null;
  calmar: number | null;
  /** Bars the backtest really ran over (`equity_curve_length`): fewer than the window holds means partial data. */
  bars: number | null;
}

export interface OperationProgressView {
  percentage: number | null;
  currentStep: string | null;
  stepsCompleted: number | null;
  stepsTotal: number | null;
}

function at(source: unknown, ...path: (string | number)[]): unknown {
  let current: unknown = source;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function firstNumber(...values: unknown[]): number | null {
  for (const value of values) {
    const number = numberOrNull(value);
    if (number !== null) return number;
  }
  return null;
}

function integerOrNull(value: unknown): number | null {
  const number = numberOrNull(value);
  return number === null ? null : Math.round(number);
}

export function flattenTrainingResult(
  resultSummary: unknown,
  options: { epochsConfigured?: number | null; outputFormat?: string | null; priorRun?: PriorRun | null } = {},
): TrainingResult {
  const metrics = at(resultSummary, 'training_metrics');
  const history = at(metrics, 'history', 'train_loss');
  const accuracy = firstNumber(at(resultSummary, 'test_metrics', 'test_accuracy'), at(resultSummary, 'accuracy'));
  const resumedAtEpoch = integerOrNull(options.priorRun?.resumedAtEpoch);
  // After a resume the history holds only the resumed slice: the first run's initial loss is the true start.
  const initialLoss = numberOrNull(options.priorRun?.initialLoss) ?? numberOrNull(at(history, 0));
  const finalLoss = numberOrNull(at(metrics, 'final_train_loss'));
  const lossReduction = initialLoss !== null && finalLoss !== null && initialLoss !== 0 ? (initialLoss - finalLoss) / initialLoss : null;
  // The per-epoch history has one entry per epoch trained: a fallback when the counter is missing.
  const sliceEpochs = integerOrNull(at(metrics, 'epochs_trained')) ?? (Array.isArray(history) && history.length > 0 ? history.length : null);
  const epochsTrained = sliceEpochs !== null && resumedAtEpoch !== null ? resumedAtEpoch + sliceEpochs : sliceEpochs;
  const epochsConfigured = integerOrNull(options.epochsConfigured);
  const modelPath = at(resultSummary, 'model_path');
  const declared = options.outputFormat ?? at(resultSummary, 'output_format');
  const outputFormat = declared === 'regression' ? 'regression' : declared === 'classification' ? 'classification' : null;
  return {
    accuracy,
    testLoss: numberOrNull(at(resultSummary, 'test_metrics', 'test_loss')),
    initialLoss,
    finalLoss,
    lossReduction,
    epochsTrained: epochsConfigured !== null && epochsTrained !== null ? Math.min(epochsTrained, epochsConfigured) : epochsTrained,
    epochsConfigured,
    earlyStopped: epochsTrained !== null && epochsConfigured !== null ? epochsTrained < epochsConfigured : null,
    valAccuracy: numberOrNull(at(metrics, 'final_val_accuracy')),
    modelPath: typeof modelPath === 'string' && modelPath !== '' ? modelPath : null,
    outputFormat,
    directionalAccuracy: firstNumber(at(resultSummary, 'test_metrics', 'directional_accuracy'), outputFormat === 'regression' ? accuracy : null),
    resumedAtEpoch,
  };
}

/**
 * Flattens a training operation: the configured epoch count comes from the caller when it knows the strategy,
 * else from the operation's `metadata.parameters.epochs`.
 */
export function flattenTrainingOperation(
  operation: Pick<OperationInfo, 'result_summary' | 'metadata'>,
  options: { epochsConfigured?: number | null; outputFormat?: string | null; priorRun?: PriorRun | null } = {},
): TrainingResult {
  const epochsConfigured = options.epochsConfigured ?? numberOrNull(at(operation.metadata, 'parameters', 'epochs'));
  return flattenTrainingResult(operation.result_summary, { ...options, epochsConfigured });
}

export function flattenBacktestResult(resultSummary: unknown): BacktestResult {
  const metrics = at(resultSummary, 'metrics');
  const drawdown = numberOrNull(at(metrics, 'max_drawdown_pct'));
  return {
    sharpe: numberOrNull(at(metrics, 'sharpe_ratio')),
    winRate: numberOrNull(at(metrics, 'win_rate')),
    // A drawdown is a loss; some engines sign it negative. Compared as a magnitude, or `<= 0.4` would always pass.
    maxDrawdown: drawdown === null ? null : Math.abs(drawdown),
    totalTrades: integerOrNull(at(metrics, 'total_trades')) ?? integerOrNull(at(resultSummary, 'trade_count')),
    profitFactor: numberOrNull(at(metrics, 'profit_factor')),
    totalReturnPct: numberOrNull(at(metrics, 'total_return_pct')),
    totalReturn: numberOrNull(at(metrics, 'total_return')),
    winningTrades: integerOrNull(at(metrics, 'winning_trades')),
    losingTrades: integerOrNull(at(metrics, 'losing_trades')),
    sortino: numberOrNull(at(metrics, 'sortino_ratio')),
    calmar: numberOrNull(at(metrics, 'calmar_ratio')),
    bars: integerOrNull(at(resultSummary, 'equity_curve_length')),
  };
}

const epochStep = /Epoch\s+(\d+)\s*\/\s*(\d+)/i;

/** Progress of an operation; for training the epoch counters are read from `current_step` when absent. */
export function operationProgress(operation: Pick<OperationInfo, 'progress'>): OperationProgressView {
  const progress = operation.progress as unknown;
  const currentStep = at(progress, 'current_step');
  const step = typeof currentStep === 'string' && currentStep !== '' ? currentStep : null;
  const match = step ? epochStep.exec(step) : null;
  return {
    percentage: numberOrNull(at(progress, 'percentage')),
    currentStep: step,
    stepsCompleted: integerOrNull(at(progress, 'steps_completed')) ?? (match ? Number(match[1]) : null),
    stepsTotal: integerOrNull(at(progress, 'steps_total')) ?? (match ? Number(match[2]) : null),
  };
}

export interface EpochMetric {
  epoch: number;
  trainLoss: number | null;
  valLoss: number | null;
}

/**
 * The per-epoch metrics in whatever nesting KTRDR returns them (a `{epochs}` object, a flat list, or lists of
 * (metrics, cursor) pairs): every object with a numeric `epoch`, one per epoch (the last report wins), in order.
 */
export function epochMetricsOf(metrics: unknown): EpochMetric[] {
  const byEpoch = new Map<number, EpochMetric>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (!isRecord(value)) return;
    const epoch = numberOrNull(value.epoch);
    if (epoch !== null) {
      byEpoch.set(epoch, { epoch, trainLoss: numberOrNull(value.train_loss), valLoss: numberOrNull(value.val_loss) });
      return;
    }
    if ('epochs' in value) visit(value.epochs, depth + 1);
  };
  visit(metrics, 0);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}
