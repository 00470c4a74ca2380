import type { GateEvaluation } from '../db/repositories/sessions.ts';

export interface GateThresholds {
  trainingMinAccuracy: number;
  trainingMaxLoss: number;
  trainingMinLossReduction: number;
  backtestMinWinRate: number;
  backtestMaxDrawdown: number;
  backtestMinSharpe: number;
}

interface Check {
  metric: string;
  value: number | null | undefined;
  threshold: number;
  comparison: '>=' | '<=';
  format: 'percent' | 'number';
}

function show(value: number, format: Check['format']): string {
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
function showFailedValue(value: number, threshold: number, format: Check['format']): string {
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
              ? `${check.metric} missing (needs ${check.comparison} ${show(check.threshold, check.format)})`
              : `${check.metric} ${showFailedValue(value, check.threshold, check.format)} ${check.comparison === '>=' ? '<' : '>'} ${show(check.threshold, check.format)}`,
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

export function evaluateTrainingGate(
  result: { accuracy: number | null; finalLoss: number | null; lossReduction: number | null },
  thresholds: GateThresholds,
): GateEvaluation {
  return evaluate('training', [
    { metric: 'accuracy', value: result.accuracy, threshold: thresholds.trainingMinAccuracy, comparison: '>=', format: 'percent' },
    { metric: 'final_loss', value: result.finalLoss, threshold: thresholds.trainingMaxLoss, comparison: '<=', format: 'number' },
    { metric: 'loss_reduction', value: result.lossReduction, threshold: thresholds.trainingMinLossReduction, comparison: '>=', format: 'percent' },
  ]);
}

export function evaluateBacktestGate(
  result: { winRate: number | null; maxDrawdown: number | null; sharpe: number | null },
  thresholds: GateThresholds,
): GateEvaluation {
  return evaluate('backtest', [
    { metric: 'win_rate', value: result.winRate, threshold: thresholds.backtestMinWinRate, comparison: '>=', format: 'percent' },
    { metric: 'max_drawdown', value: result.maxDrawdown, threshold: thresholds.backtestMaxDrawdown, comparison: '<=', format: 'percent' },
    { metric: 'sharpe', value: result.sharpe, threshold: thresholds.backtestMinSharpe, comparison: '>=', format: 'number' },
  ]);
}

/** Short labels for the gate failure metric (`agent_gate_failure_reasons_total{reason}`): bounded cardinality. */
export function gateFailureLabels(evaluation: GateEvaluation): string[] {
  return evaluation.checks.filter((c) => !c.passed).map((c) => (c.value === null ? `${c.metric}_missing` : `${c.metric}_${c.comparison === '>=' ? 'low' : 'high'}`));
}
