// The day's budget rules: which limit is in force and what is left of it. Budget days are UTC days (kernel/utc-day.ts).
import { utcDay } from '../kernel/utc-day.ts';
import { MICRO_USD_PER_USD, microUsdOf } from './money.ts';

export interface LimitInForce {
  /** The UTC day the limit is for. */
  date: string;
  limitUsd: number;
  /** `override`: set with `budget set`, it wins over the setting; `setting`: AGENT_BUDGET_DAILY_USD. */
  source: 'override' | 'setting';
}

/**
 * The daily limit in force at `now`: the operator's override (`budget set`) when there is one, else the setting
 * AGENT_BUDGET_DAILY_USD, for the UTC day `now` falls in. Every caller works the limit out here; the store only
 * supplies the override (`readLimitInForce` in db/budget-ledger.ts).
 */
export function limitInForce(input: { settingUsd: number; overrideUsd: number | null | undefined; now: Date }): LimitInForce {
  const override = input.overrideUsd ?? null;
  return {
    date: utcDay(input.now),
    limitUsd: override ?? input.settingUsd,
    source: override === null ? 'setting' : 'override',
  };
}

/** What the day has cost so far: what is spent and what is reserved for calls in flight. */
export function spentTodayUsd(day: { usedUsd: number; reservedUsd: number }): number {
  return (microUsdOf(day.usedUsd) + microUsdOf(day.reservedUsd)) / MICRO_USD_PER_USD;
}

/** What is left to spend today: the limit less what is spent and what is reserved for calls in flight. */
export function remainingUsd(day: { limitUsd: number; usedUsd: number; reservedUsd: number }): number {
  const micros = microUsdOf(day.limitUsd) - microUsdOf(day.usedUsd) - microUsdOf(day.reservedUsd);
  return Math.max(0, micros) / MICRO_USD_PER_USD;
}

/** What is left above the buffer (AGENT_BUDGET_BUFFER_USD, never spent), counted in whole micro-dollars. */
export function spendableUsd(day: { limitUsd: number; usedUsd: number; reservedUsd: number }, bufferUsd: number): number {
  return Math.max(0, microUsdOf(remainingUsd(day)) - microUsdOf(bufferUsd)) / MICRO_USD_PER_USD;
}
