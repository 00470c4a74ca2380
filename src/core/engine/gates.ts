import type { GateEvaluation } from '../session/model.ts';

export interface GateThresholds {
  trainingMinAccuracy: number;
  trainingMaxLoss: number;
  trainingMinLossReduction: number;
  trainingMinDirectionalAccuracy: number;
  backtestMinWinRate: number;
  backtestMaxDrawdown: number;
  backtestMinSharpe: number;
  /** Optional: the deflated Sharpe ratio among the family's trials must reach this (GATE_BACKTEST_MIN_DSR). */
  backtestMinDsr?: number | null;
}

type MetricFormat = 'percent' | 'number';

/** Rates read as percentages (with the names rows stored before the gates read KTRDR's metrics); the rest as numbers. */
const PERCENT_METRICS: ReadonlySet<string> = new Set([
  'test_accuracy',
  'train_loss_reduction',
  'directional_accuracy',
  'win_rate',
  'max_drawdown',
  'deflated_sharpe',
  'accuracy',
  'val_accuracy',
  'loss_reduction',
]);

/** How a gate metric reads, for the gate reasons and for every view of a stored gate check. */
export function metricFormat(metric: string): MetricFormat {
  return PERCENT_METRICS.has(metric) ? 'percent' : 'number';
}

interface Check {
  metric: string;
  value: number | null | undefined;
  threshold: number;
  comparison: '>=' | '<=';
}

function show(value: number, format: MetricFormat): string {
  if (format === 'percent') {
    const pct = value * 100;
    return `${Number.isInteger(pct) ? pct.toFixed(0) : pct.toFixed(1)}%`;
  }
  return Number.isInteger(value) ? value.toFixed(0) : value.toFixed(value !== 0 && Math.abs(value) < 0.01 ? 4 : 2);
}

/**
 * A failed check's value with as many digits as it takes to see why it failed against its threshold: never
 * `final_loss 0.80 > 0.80` for 0.8049 against 0.8, but `final_loss 0.805 > 0.80`.
 */
function showFailedValue(value: number, threshold: number, format: MetricFormat): string {
  const scale = format === 'percent' ? 100 : 1;
  const unit = format === 'percent' ? '%' : '';
  const [v, t] = [value * scale, threshold * scale];
  if (Number.isInteger(v)) return `${v.toFixed(0)}${unit}`;
  const base = format === 'percent' ? 1 : v !== 0 && Math.abs(v) < 0.01 ? 4 : 2;
  for (let digits = base; digits <= 15; digits += 1) {
    if (v.toFixed(digits) !== t.toFixed(digits)) return `${v.toFixed(digits)}${unit}`;
  }
  return `${v}${unit}`;
}

/** A missing metric fails its check; the reason names the value and the threshold, e.g. `win_rate 41.2% < 45%`. */
function evaluate(gate: GateEvaluation['gate'], checks: Check[]): GateEvaluation {
  const results = checks.map((check) => {
    const value = typeof check.value === 'number' && Number.isFinite(check.value) ? check.value : null;
    const passed = value !== null && (check.comparison === '>=' ? value >= check.threshold : value <= check.threshold);
    return { check, value, passed };
  });
  const failures = results.filter((r) => !r.passed);
  const reason =
    failures.length === 0
      ? null
      : failures
          .map(({ check, value }) =>
            value === null
              ? `${check.metric} missing (needs ${check.comparison} ${show(check.threshold, metricFormat(check.metric))})`
              : `${check.metric} ${showFailedValue(value, check.threshold, metricFormat(check.metric))} ${check.comparison === '>=' ? '<' : '>'} ${show(check.threshold, metricFormat(check.metric))}`,
          )
          .join('; ');
  return {
    gate,
    passed: failures.length === 0,
    reason,
    checks: results.map(({ check, value, passed }) => ({
      metric: check.metric,
      value,
      threshold: check.threshold,
      comparison: check.comparison,
      passed,
    })),
  };
}

export interface TrainingGateInput {
  accuracy: number | null;
  finalLoss: number | null;
  lossReduction: number | null;
  testLoss?: number | null;
  directionalAccuracy?: number | null;
  outputFormat?: 'classification' | 'regression' | null;
}

/**
 * The training gate reads what KTRDR's own gate reads (ktrdr/agents/gates.py `check_training_gate` at 2c5c7173):
 * the TEST loss where KTRDR reports one (the final training loss is measured with dropout on and runs higher),
 * the training loss decrease and test accuracy for classification, and directional accuracy for regression,
 * where class accuracy and a loss decrease mean nothing. KTRDR refuses a directional accuracy equal to its floor
 * (`<=`); ours is `>=` like every other floor, so the default floor sits just above a coin flip. Each check names
 * the metric it read.
 */
export function evaluateTrainingGate(result: TrainingGateInput, thresholds: GateThresholds): GateEvaluation {
  const lossCheck: Check =
    typeof result.testLoss === 'number'
      ? { metric: 'test_loss', value: result.testLoss, threshold: thresholds.trainingMaxLoss, comparison: '<=' }
      : { metric: 'final_train_loss', value: result.finalLoss, threshold: thresholds.trainingMaxLoss, comparison: '<=' };
  if (result.outputFormat === 'regression') {
    return evaluate('training', [
      {
        metric: 'directional_accuracy',
        value: result.directionalAccuracy ?? result.accuracy,
        threshold: thresholds.trainingMinDirectionalAccuracy,
        comparison: '>=',
      },
      lossCheck,
    ]);
  }
  return evaluate('training', [
    { metric: 'test_accuracy', value: result.accuracy, threshold: thresholds.trainingMinAccuracy, comparison: '>=' },
    lossCheck,
    { metric: 'train_loss_reduction', value: result.lossReduction, threshold: thresholds.trainingMinLossReduction, comparison: '>=' },
  ]);
}

export function evaluateBacktestGate(
  result: { winRate: number | null; maxDrawdown: number | null; sharpe: number | null; deflatedSharpe?: number | null },
  thresholds: GateThresholds,
): GateEvaluation {
  const dsr = thresholds.backtestMinDsr;
  return evaluate('backtest', [
    { metric: 'win_rate', value: result.winRate, threshold: thresholds.backtestMinWinRate, comparison: '>=' },
    { metric: 'max_drawdown', value: result.maxDrawdown, threshold: thresholds.backtestMaxDrawdown, comparison: '<=' },
    { metric: 'sharpe', value: result.sharpe, threshold: thresholds.backtestMinSharpe, comparison: '>=' },
    ...(dsr === undefined || dsr === null ? [] : [{ metric: 'deflated_sharpe', value: result.deflatedSharpe, threshold: dsr, comparison: '>=' as const }]),
  ]);
}
