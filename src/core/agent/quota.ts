import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { readAnthropicQuota, saveAnthropicQuota } from '../db/repositories/control.ts';
import { rateLimitShortage, type RateLimitState } from './budgeted-call.ts';

/** The last quota the API reported, kept so that the next pass can tell before it invokes. */
export async function saveQuota(db: Kysely<Database>, state: RateLimitState, at: Date): Promise<void> {
  await saveAnthropicQuota(db, { ...state, seenAt: at.toISOString() });
}

/**
 * Why a pass must not invoke now (null when it may): the last answer said no request or output token is left, and
 * the reset it named is still ahead. Without a reset time the quota is not trusted beyond one minute.
 */
export async function quotaShortage(db: Kysely<Database>, now: Date): Promise<string | null> {
  const saved = (await readAnthropicQuota(db)) as (RateLimitState & { seenAt?: string }) | null;
  if (saved === null || typeof saved !== 'object') return null;
  const resetAt = saved.resetAt ? Date.parse(saved.resetAt) : Number.NaN;
  const until = Number.isFinite(resetAt) ? resetAt : Date.parse(saved.seenAt ?? '') + 60_000;
  if (!Number.isFinite(until) || now.getTime() >= until) return null;
  // One call needs at least one request, one input and one output token.
  const shortage = rateLimitShortage(saved, 0);
  return shortage === null ? null : `${shortage}; the pass does not invoke until then`;
}
