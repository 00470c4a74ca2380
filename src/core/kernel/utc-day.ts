// Days are UTC days everywhere: budgets, "today", dates sent to KTRDR.

/** A UTC calendar day as YYYY-MM-DD. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Start of the UTC day of `now`. */
export function startOfUtcDay(now: Date): Date {
  return new Date(`${utcDay(now)}T00:00:00.000Z`);
}
