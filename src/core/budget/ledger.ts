// The reservation ledger as a port: what the budget needs from a store, declared here and implemented by the
// database (db/budget-ledger.ts). Every amount crossing it is booked (money.ts `bookedUsd`) by the implementation.
import { limitInForce, type LimitInForce } from './daily-limit.ts';

/** One UTC day of the budget as booked. */
export interface BudgetDay {
  date: string;
  limitUsd: number;
  usedUsd: number;
  reservedUsd: number;
  invocations: number;
  cyclesStarted: number;
  cyclesCompleted: number;
  updatedAt: Date;
}

export interface Reservation {
  id: string;
  date: string;
  /** The amount held, as booked (rounded up to the micro-dollar). */
  amountUsd: number;
}

export interface ReservationRequest {
  date: string;
  amountUsd: number;
  bufferUsd: number;
  /** AGENT_BUDGET_ENFORCEMENT: false books the reservation even past the limit. */
  enforce: boolean;
  /** The session the spend is charged to, or null for spend outside a session. */
  sessionId: number | null;
}

/** The session a settled call is charged to, with the tokens behind the amount (zero for a call that failed). */
export interface SessionCharge {
  id: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface SettlementFacts {
  /** The amount is the reservation kept for an attempt of unknown outcome: an estimate, not a confirmed charge. */
  estimated?: boolean;
  requestId?: string;
  inferenceGeo?: string;
  serviceTier?: string;
}

export interface BudgetLedger {
  /** The operator's override of the daily limit (`budget set`), or null when the setting applies. */
  limitOverrideUsd(): Promise<number | null>;
  findDay(date: string): Promise<BudgetDay | null>;
  /** The day's row, created (or brought to `limitUsd`) in one step. */
  openDay(date: string, limitUsd: number): Promise<BudgetDay>;
  /** Holds a call's worst case atomically when used + reserved + amount fits under limit - buffer; null when refused. */
  reserve(request: ReservationRequest): Promise<Reservation | null>;
  /** Replaces a reservation by what was spent (and charges the session in the same step); settling twice does nothing. */
  settle(reservationId: string, actualUsd: number, session?: SessionCharge, facts?: SettlementFacts): Promise<void>;
}

/** The limit in force now, with the override the ledger holds. */
export async function readLimitInForce(ledger: Pick<BudgetLedger, 'limitOverrideUsd'>, settingUsd: number, now: Date): Promise<LimitInForce> {
  return limitInForce({ settingUsd, overrideUsd: await ledger.limitOverrideUsd(), now });
}

/** Today's day in the ledger, opened at (or brought to) the limit in force. */
export async function openDayInForce(ledger: Pick<BudgetLedger, 'limitOverrideUsd' | 'openDay'>, settingUsd: number, now: Date): Promise<BudgetDay> {
  const limit = await readLimitInForce(ledger, settingUsd, now);
  return ledger.openDay(limit.date, limit.limitUsd);
}
