import type { BudgetDay } from '../db/repositories/budget.ts';
import type { TickSummary } from '../db/repositories/ticks.ts';
import { remainingUsd } from '../budget/daily-limit.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';
import { meansKtrdrDown, type InvocationHold } from './after-invocation.ts';
import { stopsTrainingWork, type CapacityReport, type FaultedWork } from './capacity.ts';
import type { DecisionRecord } from './decision-record.ts';
import type { ValidationLaneSummary } from './validation-lane.ts';

/** The tick summary the pass writes whole (`finishTick`): the parts the store reads back are declared by `TickSummary`. */
export interface PassSummary extends TickSummary {
  status: 'ok' | 'paused';
  decisions: DecisionRecord[];
  sessionsCreated: number[];
  budget: { date: string; limitUsd: number; usedUsd: number; remainingUsd: number; invocations: number };
  ktrdrUnreachable: boolean;
  budgetExceeded: boolean;
  /** Every fault of the world met this pass (none is a research result). */
  faults: InfrastructureFault[];
  /** Why invocations were held back at the end of the pass, if they were. */
  invocationsHeld: { reason: 'anthropic_auth' | 'fault_backoff'; fault: InfrastructureFault; since: string; retryAt: string | null } | null;
  /** What the validation lane did this pass (promotion backtests beside the sessions). */
  validation?: ValidationLaneSummary;
  /** KTRDR's training workers and what limits new cycles, as this pass left them (null when it never got that far). */
  capacity: CapacityReport | null;
}

/**
 * What one pass did, met and will report: the one record of the pass, handed to each of its pieces. A piece reads
 * it to know what the pass already learnt (KTRDR down, the budget spent, a fault, a pause) and notes its own doing
 * in it; the tick summary is read from it at the end.
 */
export interface PassLedger {
  /** Every decision recorded, in order (the summary's `decisions`). */
  readonly decisions: DecisionRecord[];
  /** Sessions this pass created. */
  readonly sessionsCreated: number[];
  /** Every fault of the world met this pass. */
  readonly faults: InfrastructureFault[];
  /** A fault met this pass said KTRDR is down: nothing more is asked of it. */
  ktrdrUnreachable: boolean;
  /** KTRDR answered at least once (an operation, a 404, its health): the pass may clear a held "down". */
  ktrdrReached: boolean;
  /** Any fault met this pass: no new cycle starts and no short work is followed after it. */
  faultThisPass: boolean;
  /** The budget could not pay for another call: no new cycle starts. */
  budgetExceeded: boolean;
  /**
   * An operator paused the agent, before the pass began or during it: from then on the pass starts and invokes
   * nothing, and every session's decision goes through the one rule of a pause (whilePaused).
   */
  paused: boolean;
  /** Why invocations are held back (a held fault), as the pass began or as an invocation left it. */
  hold: InvocationHold;
  /** What the validation lane did, once it ran. */
  validation?: ValidationLaneSummary;
  /** KTRDR's training workers and what limits new cycles, once the pass read them. */
  capacity: CapacityReport | null;
}

export function openLedger(hold: InvocationHold, paused = false): PassLedger {
  return {
    decisions: [],
    sessionsCreated: [],
    faults: [],
    ktrdrUnreachable: false,
    ktrdrReached: false,
    faultThisPass: false,
    budgetExceeded: false,
    paused,
    hold,
    capacity: null,
  };
}

/**
 * Notes a fault met this pass (for the summary and the exit code) and returns it. A fault met by backtest work
 * (KTRDR's backtest workers busy) does not stop training work: new cycles and following go on (capacity.ts).
 */
export function noteFault(ledger: PassLedger, fault: InfrastructureFault, work: FaultedWork = 'any'): InfrastructureFault {
  ledger.faults.push(fault);
  if (stopsTrainingWork(fault, work)) ledger.faultThisPass = true;
  if (meansKtrdrDown(fault.faultClass)) ledger.ktrdrUnreachable = true;
  return fault;
}

/** New cycles may start (again, as when followed training ends): the budget pays, no fault met, no fault held. */
export function mayStartCycles(ledger: PassLedger): boolean {
  return !ledger.budgetExceeded && !ledger.faultThisPass && !ledger.hold.held;
}

/** Short work is followed only when the pass met no fault: KTRDR's trouble means the next pass looks instead. */
export function mayFollow(ledger: PassLedger): boolean {
  return !ledger.ktrdrUnreachable && !ledger.faultThisPass;
}

/** What the pass learnt of KTRDR's health, to hold: the fault that says it is down, it answered, or nothing known. */
export function ktrdrHealth(ledger: PassLedger): { kind: 'down'; fault: InfrastructureFault } | { kind: 'reached' } | { kind: 'unknown' } {
  const fault = ledger.faults.find((met) => meansKtrdrDown(met.faultClass));
  if (fault) return { kind: 'down', fault };
  return ledger.ktrdrReached ? { kind: 'reached' } : { kind: 'unknown' };
}

function invocationsHeld(hold: InvocationHold): PassSummary['invocationsHeld'] {
  if (!hold.held) return null;
  return {
    reason: hold.skipReason,
    fault: { faultClass: hold.fault.faultClass, cause: hold.fault.cause },
    since: hold.fault.since.toISOString(),
    retryAt: hold.skipReason === 'fault_backoff' ? hold.retryAt.toISOString() : null,
  };
}

/** The tick summary, read from the ledger and today's budget row as the pass left them. */
export function passSummary(ledger: PassLedger, status: PassSummary['status'], day: BudgetDay): PassSummary {
  return {
    status,
    decisions: ledger.decisions,
    sessionsCreated: ledger.sessionsCreated,
    budget: { date: day.date, limitUsd: day.limitUsd, usedUsd: day.usedUsd, remainingUsd: remainingUsd(day), invocations: day.invocations },
    ktrdrUnreachable: ledger.ktrdrUnreachable,
    budgetExceeded: ledger.budgetExceeded,
    faults: ledger.faults,
    ...(ledger.validation ? { validation: ledger.validation } : {}),
    capacity: ledger.capacity,
    invocationsHeld: invocationsHeld(ledger.hold),
  };
}
