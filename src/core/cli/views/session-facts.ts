// What the read views derive from one session row: the figures, the failed gate, the running operation. Stored
// JSON is written by other versions of the engine too, so every field is read defensively and missing is null.
import type { SessionOutcome, SessionPhase, Assessment, GateEvaluation } from '../../session/model.ts';
import type { OperationProgress } from '../../db/repositories/sessions.ts';
import type { BacktestFigures, FailedGate, Invocation, Operation, TrainingFigures } from './schemas.ts';

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

function finite(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export function trainingFigures(results: unknown): TrainingFigures | null {
  const r = asObject(results);
  if (!r) return null;
  return {
    accuracy: finite(r.accuracy),
    valAccuracy: finite(r.valAccuracy),
    testLoss: finite(r.testLoss),
    initialLoss: finite(r.initialLoss),
    finalLoss: finite(r.finalLoss),
    lossReduction: finite(r.lossReduction),
    epochsTrained: finite(r.epochsTrained),
    epochsConfigured: finite(r.epochsConfigured),
    earlyStopped: typeof r.earlyStopped === 'boolean' ? r.earlyStopped : null,
    resumedAtEpoch: finite(r.resumedAtEpoch),
    modelPath: text(r.modelPath),
  };
}

export function backtestFigures(results: unknown): BacktestFigures | null {
  const r = asObject(results);
  if (!r) return null;
  return {
    sharpe: finite(r.sharpe),
    winRate: finite(r.winRate),
    maxDrawdown: finite(r.maxDrawdown),
    totalTrades: finite(r.totalTrades),
    profitFactor: finite(r.profitFactor),
    totalReturnPct: finite(r.totalReturnPct),
  };
}

export function gateEvaluation(value: unknown): GateEvaluation | null {
  const g = asObject(value);
  if (!g || (g.gate !== 'training' && g.gate !== 'backtest') || typeof g.passed !== 'boolean') return null;
  const checks = Array.isArray(g.checks) ? g.checks.map(asObject).filter((c): c is Json => c !== null) : [];
  return {
    gate: g.gate,
    passed: g.passed,
    reason: text(g.reason),
    checks: checks.map((c) => ({
      metric: String(c.metric ?? '?'),
      value: finite(c.value),
      threshold: finite(c.threshold) ?? 0,
      comparison: c.comparison === '<=' ? '<=' : '>=',
      passed: c.passed === true,
    })),
  };
}

/** The gate that ended the session, with its reason; null when no gate failed. */
export function failedGate(trainingGate: unknown, backtestGate: unknown): FailedGate | null {
  for (const gate of [gateEvaluation(trainingGate), gateEvaluation(backtestGate)]) {
    if (gate && !gate.passed) return { gate: gate.gate, reason: gate.reason ?? 'failed' };
  }
  return null;
}

export function assessmentOf(value: unknown): Assessment | null {
  const a = asObject(value);
  if (!a || (a.verdict !== 'promising' && a.verdict !== 'neutral' && a.verdict !== 'poor')) return null;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((item): item is string => typeof item === 'string') : []);
  return {
    verdict: a.verdict,
    explanation: typeof a.explanation === 'string' ? a.explanation : '',
    strengths: list(a.strengths),
    weaknesses: list(a.weaknesses),
    suggestions: list(a.suggestions),
    author: typeof a.author === 'string' ? a.author : 'unknown',
  };
}

/** The first sentence (or line) of a text, at most `max` characters. */
export function firstSentence(value: string, max = 160): string {
  const line = value.trim().split('\n')[0] ?? '';
  const match = /^(.+?[.!?])(\s|$)/.exec(line);
  const sentence = (match?.[1] ?? line).trim();
  return sentence.length > max ? `${sentence.slice(0, max - 1).trimEnd()}…` : sentence;
}

export interface OperationColumns {
  phase: SessionPhase;
  training_operation_id: string | null;
  backtest_operation_id: string | null;
  operation_progress: unknown;
  progress_changed_at: Date | null;
}

/** The KTRDR operation the session is waiting on in its current phase, if any. */
export function currentOperation(row: OperationColumns, now: Date, stallAfterSeconds: number): Operation | null {
  const kind = row.phase === 'training' ? 'training' : row.phase === 'backtesting' ? 'backtest' : null;
  const id = kind === 'training' ? row.training_operation_id : kind === 'backtest' ? row.backtest_operation_id : null;
  if (!kind || !id) return null;
  const progress = asObject(row.operation_progress) as Partial<OperationProgress> | null;
  const status = text(progress?.status);
  const percentage = finite(progress?.percentage);
  const changedAt = row.progress_changed_at;
  const stalled =
    (status === null || status === 'running' || status === 'pending') && changedAt !== null && (now.getTime() - changedAt.getTime()) / 1000 > stallAfterSeconds;
  const seenAt = text(progress?.seenAt);
  return {
    kind,
    id,
    status,
    percentage: percentage === null ? null : Math.min(100, Math.max(0, percentage)),
    currentStep: text(progress?.currentStep),
    seenAt: seenAt && !Number.isNaN(Date.parse(seenAt)) ? new Date(seenAt).toISOString() : null,
    progressChangedAt: changedAt ? changedAt.toISOString() : null,
    stalled,
  };
}

/** A lease still in force means a designer or assessor invocation is running for the session. */
export function currentInvocation(owner: string | null, expiresAt: Date | null, now: Date): Invocation | null {
  if (!owner || !expiresAt || expiresAt.getTime() <= now.getTime()) return null;
  return { owner, expiresAt: expiresAt.toISOString() };
}

export function secondsBetween(from: Date, to: Date): number {
  return Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
}

/** How a person reads an outcome: SUCCESS, FAILED (backtest_gate), CANCELLED. */
export function outcomeLabel(outcome: SessionOutcome): string {
  if (outcome === 'success') return 'SUCCESS';
  if (outcome === 'cancelled') return 'CANCELLED';
  return `FAILED (${outcome.slice('failed_'.length)})`;
}
