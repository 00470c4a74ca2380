import { redactSecrets } from '../kernel/secrets.ts';

/** Converts what pg (strings for INT8/NUMERIC) and PGlite (numbers) return into plain numbers, once. */
export function toNumber(value: string | number | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

/** An aggregate (count, sum) as a number: NULL, as SUM gives over no rows, counts as 0. */
export function toCount(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : 0;
}

export function toNumberOrNull(value: string | number | bigint | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDateOrNull(value: Date | string | null | undefined): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/** JSONB comes back parsed from both drivers; this only narrows the type for the caller. */
export function fromJson<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * Text bound for the database: PostgreSQL cannot hold NUL (U+0000), which input from a model or a tool may carry,
 * and a secret must never be stored, whatever error message carried it.
 */
export function withoutNul(text: string): string {
  const safe = redactSecrets(text);
  return safe.includes('\u0000') ? safe.replaceAll('\u0000', '\uFFFD') : safe;
}

export function toJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? withoutNul(item) : item));
}

/** DATE columns: both stores are set to return the text (see connect.ts), read as YYYY-MM-DD. */
export function dayString(value: string): string {
  return value.slice(0, 10);
}
