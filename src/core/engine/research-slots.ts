// How many research sessions may be active now: a pure function of the setting, KTRDR's training workers and the
// budget. Validation work (promotion backtests) is not counted here: it runs in a lane of its own beside these slots,
// so `active` is research sessions only and nothing of validation's reaches this function.

/** What keeps the pass from starting more cycles than it does: the first bound reached. */
export type CycleLimit = 'workers' | 'budget' | 'cap' | 'setting' | 'paused';

/** KTRDR's training workers as `GET /workers?worker_type=training` listed them this pass. */
export interface TrainingWorkers {
  total: number;
  busy: number;
  idle: number;
}

export interface ResearchSlotsInput {
  /** AGENT_MAX_CONCURRENT_SESSIONS. */
  setting: number | 'auto';
  /** AGENT_MAX_SESSIONS_CAP: the most `auto` ever runs at once. */
  cap: number;
  /** Research sessions active now. */
  active: number;
  /** Active sessions that will claim a training worker without holding one yet (designing: their training is next). */
  awaitingTrainingWorker: number;
  /** Null when the worker list could not be read (or was not asked for). */
  workers: TrainingWorkers | null;
  budget: {
    /** Whether a spent budget stops invocations (the claude designer with enforcement on). */
    binds: boolean;
    /** What is left above the buffer today. */
    spendableUsd: number;
    /** Mean cost of the recent finished cycles; null when none cost anything yet. */
    costPerCycleUsd: number | null;
    /** What the active sessions are still expected to spend, at that cost per cycle, beyond what they spent. */
    owedByActiveUsd: number;
  };
}

export interface ResearchSlots {
  mode: 'auto' | 'fixed';
  /** The most sessions this pass lets be active; a new cycle starts only below it. */
  maxActive: number;
  /** New cycles this pass may start. */
  newCycles: number;
  /** The bound that sets `maxActive` (with none left, what stops new cycles now). */
  limitedBy: CycleLimit;
  /** New cycles the budget pays for at the recent cost per cycle; null when it sets no bound. */
  affordableCycles: number | null;
  /** `auto` could not read the worker list and used the fixed fallback. */
  fellBack: boolean;
}

/** What `auto` runs when KTRDR's worker list cannot be read: today's default of one session at a time. */
export const AUTO_FALLBACK_SESSIONS = 1;

/** New cycles the rest of today's budget pays for, once the active sessions have finished theirs. */
export function affordableCycles(budget: ResearchSlotsInput['budget']): number | null {
  if (!budget.binds || budget.costPerCycleUsd === null || budget.costPerCycleUsd <= 0) return null;
  return Math.max(0, Math.floor((budget.spendableUsd - budget.owedByActiveUsd) / budget.costPerCycleUsd));
}

export function researchSlots(input: ResearchSlotsInput): ResearchSlots {
  const affordable = affordableCycles(input.budget);
  const byBudget = affordable === null ? Number.POSITIVE_INFINITY : input.active + affordable;
  if (input.setting !== 'auto' || input.workers === null) {
    const fixed = input.setting === 'auto' ? AUTO_FALLBACK_SESSIONS : input.setting;
    // A fixed setting keeps today's rule: the budget stops an invocation when it is spent, not before.
    return {
      mode: input.setting === 'auto' ? 'auto' : 'fixed',
      maxActive: fixed,
      newCycles: Math.max(0, fixed - input.active),
      limitedBy: 'setting',
      affordableCycles: affordable,
      fellBack: input.setting === 'auto',
    };
  }
  const freeWorkers = Math.max(0, input.workers.idle - input.awaitingTrainingWorker);
  const bounds: [CycleLimit, number][] = [
    ['workers', input.active + freeWorkers],
    ['budget', byBudget],
    ['cap', input.cap],
  ];
  // The tightest bound wins; on a tie the first named (workers, then budget) is what an operator can act on.
  const [limitedBy, maxActive] = bounds.reduce((tightest, bound) => (bound[1] < tightest[1] ? bound : tightest));
  return { mode: 'auto', maxActive, newCycles: Math.max(0, maxActive - input.active), limitedBy, affordableCycles: affordable, fellBack: false };
}
