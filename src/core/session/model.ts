// The session model, shared by the store (db), the settings, the agent and the engine: what a session's phases and
// outcomes are, why a pass looks at a session, what an invocation is for, and what gates and assessments say.
export const sessionPhases = ['idle', 'designing', 'training', 'backtesting', 'assessing'] as const;
export type SessionPhase = (typeof sessionPhases)[number];

/** The KTRDR operation a session's phase waits on: its training while `training`, its backtest while `backtesting`. */
export function phaseOperationId(session: { phase: SessionPhase; trainingOperationId: string | null; backtestOperationId: string | null }): string | null {
  if (session.phase === 'training') return session.trainingOperationId;
  if (session.phase === 'backtesting') return session.backtestOperationId;
  return null;
}

export const sessionOutcomes = [
  'success',
  'failed_design',
  'failed_training',
  'failed_training_gate',
  'failed_backtest',
  'failed_backtest_gate',
  'failed_assessment',
  'cancelled',
] as const;
export type SessionOutcome = (typeof sessionOutcomes)[number];

export type TriggerReason =
  | 'start_new_cycle'
  | 'training_completed'
  | 'training_failed'
  | 'backtest_completed'
  | 'backtest_failed'
  | 'operation_still_running'
  | 'invocation_check'
  | 'paused';

export type InvocationPurpose = 'design' | 'backtest' | 'assess';

export const gateKinds = ['training', 'backtest'] as const;
export type GateKind = (typeof gateKinds)[number];

/** `>=` for a minimum, `<=` for a maximum. */
export const gateComparisons = ['>=', '<='] as const;

export interface GateEvaluation {
  gate: GateKind;
  passed: boolean;
  reason: string | null;
  checks: { metric: string; value: number | null; threshold: number; comparison: (typeof gateComparisons)[number]; passed: boolean }[];
}

export const verdicts = ['promising', 'neutral', 'poor'] as const;

export interface Assessment {
  verdict: (typeof verdicts)[number];
  explanation: string;
  strengths: string[];
  weaknesses: string[];
  suggestions: string[];
  author: string;
}

/**
 * `supported`: a model's verdict on an in-sample backtest found the effect. `validated`: an experiment that tested it
 * was promoted (held up on robustness windows and the lockbox), which only the promotion stage decides.
 */
export const hypothesisStatuses = ['untested', 'testing', 'supported', 'validated', 'refuted', 'inconclusive'] as const;
export type HypothesisStatus = (typeof hypothesisStatuses)[number];

/**
 * What kind of failure a tool call met, stored with the call (`agent_actions.error_kind`) and the label of
 * `agent_tool_errors_total`: the model's input was invalid, KTRDR was unavailable (down, busy, refusing our
 * credentials), KTRDR rejected the request, KTRDR answered outside its contract, a fault of the world on our side
 * (the strategies directory), the tool itself threw, or the tool refused the call by its own rules.
 */
export const toolErrorKinds = [
  'invalid_input',
  'ktrdr_unavailable',
  'ktrdr_rejected',
  'ktrdr_invalid_response',
  'infrastructure_fault',
  'exception',
  'rejected',
  'operator_stopped',
] as const;
export type ToolErrorKind = (typeof toolErrorKinds)[number];

/**
 * One short label per failing check of a gate (`test_accuracy_low`, `max_drawdown_high`, `sharpe_missing`): stored
 * with the experiment (`failed_checks`), read by the memory's failure groups and the gate-failure metric.
 */
export function gateFailureLabels(evaluation: GateEvaluation): string[] {
  return evaluation.checks
    .filter((c) => !c.passed)
    .map((c) => (c.value === null ? `${c.metric}_missing` : `${c.metric}_${c.comparison === '<=' ? 'high' : 'low'}`));
}
