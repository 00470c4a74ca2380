/**
 * Simulated operations. Nothing ticks: an operation stores when each run started and how it will end, and its
 * status, progress and results are computed from the clock whenever someone asks, like KTRDR's pull model.
 */
import type { BacktestOutcome, BacktestRequest, DesignAnalysis, TrainingOutcome } from './quality.ts';

export type SimOperationType = 'training' | 'backtesting';
export type SimStatus = 'pending' | 'resuming' | 'running' | 'completed' | 'failed' | 'cancelled';

/** How a run ends. `atStep` counts completed steps (epochs, or percent of bars). */
export type RunFate =
  | { kind: 'complete' }
  | { kind: 'fail'; atStep: number; message: string; checkpoint: boolean }
  | { kind: 'stall'; atStep: number }
  | { kind: 'lost'; atStep: number };

export interface SimRun {
  startedAt: number;
  fromStep: number;
  fate: RunFate;
  resumed: boolean;
  cancelled: { at: number; step: number; reason: string | null } | null;
  /** The resume never leaves `resuming` in what KTRDR reports (SimFaults.staleResuming). */
  staleResume?: boolean;
}

export interface SimOperation {
  id: string;
  type: SimOperationType;
  createdAt: number;
  strategyName: string;
  symbol: string;
  timeframe: string;
  symbols: string[];
  timeframes: string[];
  startDate: string;
  endDate: string;
  /** `metadata.parameters`, as KTRDR fills it. */
  parameters: Record<string, unknown>;
  /** Steps the work really takes: epochs trained (early stopping included), or 100 for a backtest. */
  workSteps: number;
  /** Steps announced in progress: configured epochs, or 100. */
  displaySteps: number;
  simMsPerStep: number;
  design: DesignAnalysis | null;
  training: TrainingOutcome | null;
  backtest: BacktestOutcome | null;
  backtestRequest: BacktestRequest | null;
  modelPath: string | null;
  runs: SimRun[];
  retryOf: string | null;
}

export interface OperationView {
  status: SimStatus;
  /** Completed steps at this instant. */
  step: number;
  startedAt: number;
  endedAt: number | null;
  lost: boolean;
  errorMessage: string | null;
}

export interface CheckpointView {
  type: 'failure' | 'cancellation';
  step: number;
  createdAt: number;
}

/** Simulated time an operation spends queued before its worker picks it up. */
export const PENDING_SIM_MS = 5_000;

function lastRun(operation: SimOperation): SimRun {
  const run = operation.runs[operation.runs.length - 1];
  if (!run) throw new Error(`simulated operation ${operation.id} has no run`);
  return run;
}

/** Real time (ms) at which a run, started at `run.startedAt`, has completed `step` steps. */
function timeOfStep(operation: SimOperation, run: SimRun, step: number, timeScale: number): number {
  return run.startedAt + (PENDING_SIM_MS + (step - run.fromStep) * operation.simMsPerStep) / timeScale;
}

export function viewAt(operation: SimOperation, now: number, timeScale: number): OperationView {
  const run = lastRun(operation);
  const firstStart = operation.runs[0]?.startedAt ?? operation.createdAt;
  const startedAt = firstStart + PENDING_SIM_MS / timeScale;
  const elapsedSim = (now - run.startedAt) * timeScale;
  if (run.cancelled && run.cancelled.at <= now) {
    // KTRDR keeps the cancel's reason as the error message (OperationsService.cancel_operation at 2c5c7173).
    const errorMessage = run.cancelled.reason ?? 'Operation cancelled by user';
    return { status: 'cancelled', step: run.cancelled.step, startedAt, endedAt: run.cancelled.at, lost: false, errorMessage };
  }
  if (elapsedSim < PENDING_SIM_MS || run.staleResume) {
    return { status: run.resumed ? 'resuming' : 'pending', step: run.fromStep, startedAt, endedAt: null, lost: false, errorMessage: null };
  }
  const reached = run.fromStep + Math.floor((elapsedSim - PENDING_SIM_MS) / operation.simMsPerStep);
  const fate = run.fate;
  if (fate.kind === 'fail' && reached >= fate.atStep) {
    const endedAt = timeOfStep(operation, run, fate.atStep, timeScale);
    return { status: 'failed', step: fate.atStep, startedAt, endedAt, lost: false, errorMessage: fate.message };
  }
  if (fate.kind === 'lost' && reached >= fate.atStep) {
    return { status: 'running', step: fate.atStep, startedAt, endedAt: null, lost: true, errorMessage: null };
  }
  if (fate.kind === 'stall') {
    return { status: 'running', step: Math.min(reached, fate.atStep), startedAt, endedAt: null, lost: false, errorMessage: null };
  }
  if (reached >= operation.workSteps) {
    const endedAt = timeOfStep(operation, run, operation.workSteps, timeScale);
    return { status: 'completed', step: operation.workSteps, startedAt, endedAt, lost: false, errorMessage: null };
  }
  return { status: 'running', step: reached, startedAt, endedAt: null, lost: false, errorMessage: null };
}

export function isActive(status: SimStatus): boolean {
  return status === 'pending' || status === 'resuming' || status === 'running';
}

function checkpointOfRunEnd(operation: SimOperation, run: SimRun, timeScale: number): CheckpointView | null {
  if (run.cancelled) {
    return run.cancelled.step > 0 ? { type: 'cancellation', step: run.cancelled.step, createdAt: run.cancelled.at } : null;
  }
  if (run.fate.kind === 'fail' && run.fate.checkpoint && run.fate.atStep > 0) {
    return { type: 'failure', step: run.fate.atStep, createdAt: timeOfStep(operation, run, run.fate.atStep, timeScale) };
  }
  return null;
}

/**
 * The checkpoint KTRDR would hold at `now`: saved when a run fails or is cancelled, kept while a resumed run goes
 * on, deleted when the operation succeeds.
 */
export function checkpointAt(operation: SimOperation, now: number, timeScale: number): CheckpointView | null {
  const view = viewAt(operation, now, timeScale);
  if (view.lost || view.status === 'completed') return null;
  const runs = operation.runs;
  const current = runs[runs.length - 1];
  if (current && (view.status === 'failed' || view.status === 'cancelled')) {
    const own = checkpointOfRunEnd(operation, current, timeScale);
    if (own) return own;
  }
  for (let index = runs.length - 2; index >= 0; index--) {
    const run = runs[index];
    const checkpoint = run ? checkpointOfRunEnd(operation, run, timeScale) : null;
    if (checkpoint) return checkpoint;
  }
  return null;
}
