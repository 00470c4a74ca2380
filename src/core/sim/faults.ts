/** The faults the simulator can inject, set at start or through `POST /__sim/faults`. */
import { isRecord } from '../kernel/records.ts';
import { clamp } from '../kernel/random.ts';

export interface SimFaults {
  /** Share of operations whose worker fails partway (with a checkpoint, so they can be resumed). */
  failureRate: number;
  /** Share of requests answered with a 500 before doing anything. */
  errorRate: number;
  /** Delay added to every API request, in real milliseconds. */
  latencyMs: number;
  /** Share of requests carried out whose connection is then destroyed, so the caller never hears the answer. */
  dropRate: number;
  /** Share of operations that vanish partway (404 from then on), like operations lost in a backend restart. */
  lostRate: number;
  /** Share of operations whose progress stops forever. */
  stallRate: number;
  /** No worker registered: starts answer 503 WorkerUnavailableError. */
  noWorkers: boolean;
  /** `GET /workers` answers 404, like a KTRDR without the worker registry's route. */
  workersMissing: boolean;
  /** `GET /workers` answers 200 with a body that is not a worker list. */
  workersMalformed: boolean;
  /**
   * A resumed run keeps answering `status: "resuming"` at its resume point with no result, for ever, like KTRDR at
   * 2c5c7173 after a resume whose training had in fact finished.
   */
  staleResuming: boolean;
  /**
   * Failures drawn by `failureRate` are those of KTRDR's orphan detector after a backend restart: "Operation was
   * RUNNING but no worker claimed it", with no checkpoint to resume from.
   */
  orphaned: boolean;
  /** Cancels fail with a 500 and the operation runs on, like a backend whose worker does not answer the cancel. */
  cancelFails: boolean;
  /**
   * Starts and resumes answered with this status (401, 403, 429) and nothing started. KTRDR itself enforces no auth
   * (CONTRACT §1), but a proxy in front of it can refuse credentials or rate-limit.
   */
  refuseStarts: number | null;
  /**
   * How far the simulator's clock is ahead of the real one, in ms (negative: behind): every time it writes
   * (created_at, progress) and its `Date` header read this clock, like a KTRDR host whose clock is off.
   */
  clockOffsetMs: number;
}

export const NO_FAULTS: Readonly<SimFaults> = {
  failureRate: 0,
  errorRate: 0,
  latencyMs: 0,
  dropRate: 0,
  lostRate: 0,
  stallRate: 0,
  noWorkers: false,
  workersMissing: false,
  workersMalformed: false,
  staleResuming: false,
  orphaned: false,
  cancelFails: false,
  refuseStarts: null,
  clockOffsetMs: 0,
};

/** Applies a partial fault update, keeping rates within 0..1. */
export function applyFaults(target: SimFaults, update: unknown): void {
  if (!isRecord(update)) return;
  for (const key of ['failureRate', 'errorRate', 'dropRate', 'lostRate', 'stallRate'] as const) {
    const value = update[key];
    if (typeof value === 'number' && Number.isFinite(value)) target[key] = clamp(value, 0, 1);
  }
  if (typeof update.latencyMs === 'number' && Number.isFinite(update.latencyMs)) target.latencyMs = Math.max(0, update.latencyMs);
  if (typeof update.noWorkers === 'boolean') target.noWorkers = update.noWorkers;
  if (typeof update.workersMissing === 'boolean') target.workersMissing = update.workersMissing;
  if (typeof update.workersMalformed === 'boolean') target.workersMalformed = update.workersMalformed;
  if (typeof update.staleResuming === 'boolean') target.staleResuming = update.staleResuming;
  if (typeof update.orphaned === 'boolean') target.orphaned = update.orphaned;
  if (typeof update.cancelFails === 'boolean') target.cancelFails = update.cancelFails;
  if (typeof update.clockOffsetMs === 'number' && Number.isFinite(update.clockOffsetMs)) target.clockOffsetMs = Math.round(update.clockOffsetMs);
  if (update.refuseStarts === null || (typeof update.refuseStarts === 'number' && update.refuseStarts >= 400 && update.refuseStarts <= 499))
    target.refuseStarts = update.refuseStarts;
}
