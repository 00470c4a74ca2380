// The shell around researchSlots(): reads KTRDR's training workers and the database's load and recent costs, and
// says in the pass summary (read by `status` and the TUI) how busy KTRDR is and what limits new cycles now.
import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { activeResearchLoad, recentCostPerCycle } from '../db/read-models/cycle-costs.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError } from '../ktrdr/errors.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';
import { researchSlots, type CycleLimit, type ResearchSlots, type TrainingWorkers } from './research-slots.ts';

/** What limits new cycles, as the pass ends: the slots' bound, or what stopped the pass before it (KTRDR, a fault hold). */
export type CapacityLimit = CycleLimit | 'ktrdr_unreachable' | 'fault_hold';

/** The `capacity` part of a pass summary. */
export interface CapacityReport {
  mode: 'auto' | 'fixed';
  /** Null when KTRDR's worker list was not read or could not be. */
  trainingWorkers: TrainingWorkers | null;
  /** Why the worker list could not be read (`auto` then ran at its fallback). */
  workersError: string | null;
  activeSessions: number;
  maxActive: number;
  /** New cycles the slots allowed at their last reading this pass, and how many the pass started in all. */
  newCyclesAllowed: number;
  newCyclesStarted: number;
  limitedBy: CapacityLimit;
  costPerCycleUsd: number | null;
  affordableCycles: number | null;
}

/** `GET /workers?worker_type=training` (CONTRACT §2.5, ktrdr/api/endpoints/workers.py): `available` is idle, `busy` works. */
export async function readTrainingWorkers(ktrdr: KtrdrClient): Promise<{ workers: TrainingWorkers } | { error: string }> {
  try {
    const listed = await ktrdr.listWorkers({ workerType: 'training' });
    // KTRDR filters by type itself; a worker of another type in the answer is not one of ours to count.
    const training = listed.filter((worker) => worker.worker_type === undefined || worker.worker_type === null || worker.worker_type === 'training');
    const idle = training.filter((worker) => worker.status === 'available').length;
    const busy = training.filter((worker) => worker.status === 'busy').length;
    return { workers: { total: training.length, busy, idle } };
  } catch (error) {
    if (error instanceof KtrdrError) return { error: error.message };
    throw error;
  }
}

export interface SlotsInput {
  db: Kysely<Database>;
  ktrdr: KtrdrClient;
  setting: number | 'auto';
  cap: number;
  budgetBinds: boolean;
  spendableUsd: number;
  /** Skip the worker list (KTRDR already failed this pass): `auto` uses its fallback without a warning. */
  ktrdrKnownDown: boolean;
}

export interface SlotsReading {
  slots: ResearchSlots;
  active: number;
  trainingWorkers: TrainingWorkers | null;
  workersError: string | null;
  costPerCycleUsd: number | null;
}

/** Everything researchSlots() needs, read once per pass (one KTRDR request and two small queries). */
export async function readResearchSlots(input: SlotsInput): Promise<SlotsReading> {
  const read = input.ktrdrKnownDown ? null : await readTrainingWorkers(input.ktrdr);
  const costPerCycleUsd = input.budgetBinds ? await recentCostPerCycle(input.db) : null;
  const load = await activeResearchLoad(input.db, costPerCycleUsd);
  const trainingWorkers = read && 'workers' in read ? read.workers : null;
  const slots = researchSlots({
    setting: input.setting,
    cap: input.cap,
    active: load.active,
    awaitingTrainingWorker: load.designing,
    workers: trainingWorkers,
    budget: { binds: input.budgetBinds, spendableUsd: input.spendableUsd, costPerCycleUsd, owedByActiveUsd: load.owedUsd },
  });
  return { slots, active: load.active, trainingWorkers, workersError: read && 'error' in read ? read.error : null, costPerCycleUsd };
}

/**
 * The worker list again once this pass started cycles, so `status` shows the workers those cycles took rather than
 * the list they were counted from (one more request, only on a pass that started something).
 */
export async function afterNewCycles(reading: SlotsReading, ktrdr: KtrdrClient): Promise<SlotsReading> {
  if (reading.trainingWorkers === null) return reading;
  const read = await readTrainingWorkers(ktrdr);
  return 'workers' in read ? { ...reading, trainingWorkers: read.workers } : reading;
}

/**
 * Whether a pass starts new cycles before moving its sessions on: under `auto`, when KTRDR listed an idle training
 * worker the slots let a cycle take. The sessions' own steps (a backtest or an assessment invocation) need no training
 * worker, so a worker freed since the last pass is refilled first instead of idling through their model calls.
 */
export function refillsFirst(reading: SlotsReading): boolean {
  return reading.slots.mode === 'auto' && !reading.slots.fellBack && (reading.trainingWorkers?.idle ?? 0) > 0 && reading.slots.newCycles > 0;
}

/** What the work that met a fault asked KTRDR for: a backtest worker only (a research or a promotion backtest), or anything. */
export type FaultedWork = 'backtest' | 'any';

/**
 * Whether a fault met this pass stops its training work (new cycles, and following short work) for the rest of the
 * pass. KTRDR busy (a 503 with no free worker, or a 429) answering work that needs a backtest worker says nothing of
 * its training workers, which a new cycle needs, and following only polls: a promotion backtest refused because the
 * backtest workers are taken must not leave a training worker idle until the next tick. Any other fault stops both.
 */
export function stopsTrainingWork(fault: InfrastructureFault, work: FaultedWork): boolean {
  return !(work === 'backtest' && fault.faultClass === 'ktrdr_busy');
}

/** The operator's warning when `auto` could not read KTRDR's worker list and ran at its fallback. */
export function workersWarning(reading: SlotsReading): string | null {
  if (!reading.slots.fellBack || reading.workersError === null) return null;
  return `AGENT_MAX_CONCURRENT_SESSIONS=auto could not read KTRDR's training workers (GET /workers: ${reading.workersError}); this pass allows ${reading.slots.maxActive} active session(s) instead`;
}

export function capacityReport(
  reading: SlotsReading,
  outcome: { started: number; startedThisPass?: number; paused: boolean; budgetExceeded: boolean; ktrdrUnreachable: boolean; held: boolean },
): CapacityReport {
  const { slots } = reading;
  // What stopped the pass before the slots' own bound was reached comes first: there was room it could not use.
  const roomLeft = slots.newCycles > outcome.started;
  const limitedBy: CapacityLimit = outcome.paused
    ? 'paused'
    : outcome.budgetExceeded
      ? 'budget'
      : roomLeft && outcome.ktrdrUnreachable
        ? 'ktrdr_unreachable'
        : roomLeft && outcome.held
          ? 'fault_hold'
          : slots.limitedBy;
  return {
    mode: slots.mode,
    trainingWorkers: reading.trainingWorkers,
    workersError: reading.workersError,
    activeSessions: reading.active + outcome.started,
    maxActive: slots.maxActive,
    newCyclesAllowed: outcome.paused ? 0 : slots.newCycles,
    newCyclesStarted: outcome.startedThisPass ?? outcome.started,
    limitedBy,
    costPerCycleUsd: reading.costPerCycleUsd,
    affordableCycles: slots.affordableCycles,
  };
}
