// The day's budget rules: which limit is in force and what is left of it. Budget days are UTC days (kernel/utc-day.ts).

/** The daily limit in force: the override set with `budget set` when there is one, else AGENT_BUDGET_DAILY_USD. */
export function dailyLimitInForce(overrideUsd: number | null | undefined, configuredUsd: number): number {
  return overrideUsd ?? configuredUsd;
}

/** What is left to spend today: the limit less what is spent and what is reserved for calls in flight. */
export function remainingUsd(day: { limitUsd: number; usedUsd: number; reservedUsd: number }): number {
  return Math.max(0, day.limitUsd - day.usedUsd - day.reservedUsd);
}
