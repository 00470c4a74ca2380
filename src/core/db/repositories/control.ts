// agent_control: the one row of operator and fault state (pause, the budget override, the held fault, KTRDR's
// reachability and clock, the last Anthropic quota); only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import { faultClasses, type FaultClass } from '../../kernel/faults.ts';
import { fromJson, toDateOrNull, toNumberOrNull, withoutNul } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The infrastructure fault the agent holds invocations back for (see migrations/20261201T080000000Z-infrastructure-fault.ts). */
export interface HeldFault {
  faultClass: FaultClass;
  cause: string;
  since: Date;
  lastAt: Date;
  /** Faults in a row since the last invocation that went through; drives the retry backoff. */
  streak: number;
  /** For an authentication fault: the fingerprint of the refused key (never the key). */
  keyFingerprint: string | null;
}

export interface Control {
  paused: boolean;
  pausedAt: Date | null;
  budgetLimitUsd: number | null;
  fault: HeldFault | null;
  /** Since when every pass that tried failed to reach KTRDR, and why; null once a pass reached it. */
  ktrdrDown: { since: Date; cause: string; faultClass: 'ktrdr_unreachable' | 'ktrdr_auth' } | null;
}

function isFaultClass(value: string | null): value is FaultClass {
  return value !== null && (faultClasses as readonly string[]).includes(value);
}

export async function readControl(db: Db): Promise<Control> {
  const row = await db.selectFrom('agent_control').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  const fault =
    isFaultClass(row.fault_class) && row.fault_since && row.fault_last_at
      ? {
          faultClass: row.fault_class,
          cause: row.fault_cause ?? '',
          since: toDateOrNull(row.fault_since)!,
          lastAt: toDateOrNull(row.fault_last_at)!,
          streak: Number(row.fault_streak),
          keyFingerprint: row.fault_key_fingerprint,
        }
      : null;
  const ktrdrSince = toDateOrNull(row.ktrdr_unreachable_since);
  return {
    paused: row.paused,
    pausedAt: toDateOrNull(row.paused_at),
    budgetLimitUsd: toNumberOrNull(row.budget_limit_usd),
    fault,
    ktrdrDown: ktrdrSince
      ? { since: ktrdrSince, cause: row.ktrdr_fault_cause ?? '', faultClass: row.ktrdr_fault_class === 'ktrdr_auth' ? 'ktrdr_auth' : 'ktrdr_unreachable' }
      : null,
  };
}

/** Records a fault: a new class starts a new streak, the same class lengthens it (and its backoff). */
export async function holdFault(db: Db, fault: { faultClass: FaultClass; cause: string; keyFingerprint: string | null }, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set((eb) => ({
      fault_streak: eb
        .case()
        .when('fault_class', '=', fault.faultClass)
        .then(eb('fault_streak', '+', 1))
        .else(1)
        .end(),
      fault_since: eb.case().when('fault_class', '=', fault.faultClass).then(eb.ref('fault_since')).else(now).end(),
      fault_class: fault.faultClass,
      fault_cause: withoutNul(fault.cause),
      fault_last_at: now,
      fault_key_fingerprint: fault.keyFingerprint,
      updated_at: now,
    }))
    .where('id', '=', 1)
    .execute();
}

/** A pass could not reach KTRDR: the first such pass of a streak sets the time, later ones only the cause. */
export async function markKtrdrDown(db: Db, fault: { faultClass: string; cause: string }, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set((eb) => ({
      ktrdr_unreachable_since: eb.fn.coalesce('ktrdr_unreachable_since', eb.val(now)),
      ktrdr_fault_cause: withoutNul(fault.cause),
      ktrdr_fault_class: fault.faultClass,
    }))
    .where('id', '=', 1)
    .execute();
}

export async function markKtrdrReached(db: Db): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ ktrdr_unreachable_since: null, ktrdr_fault_cause: null, ktrdr_fault_class: null })
    .where('id', '=', 1)
    .where('ktrdr_unreachable_since', 'is not', null)
    .execute();
}

/** An invocation went through (or an operator ran `resume`): nothing is held back any more. */
export async function clearFault(db: Db, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ fault_class: null, fault_cause: null, fault_since: null, fault_last_at: null, fault_streak: 0, fault_key_fingerprint: null, updated_at: now })
    .where('id', '=', 1)
    .where('fault_class', 'is not', null)
    .execute();
}

export async function setPaused(db: Db, paused: boolean, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ paused, paused_at: paused ? now : null, updated_at: now })
    .where('id', '=', 1)
    .execute();
}

/** KTRDR's clock offset (ms; positive: ahead of ours) as the last pass that reached KTRDR measured it. */
export interface KtrdrClockReading {
  offsetMs: number;
  measuredAt: Date;
}

export async function recordKtrdrClock(db: Db, offsetMs: number, now: Date): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ ktrdr_clock_offset_ms: Math.round(offsetMs), ktrdr_clock_measured_at: now })
    .where('id', '=', 1)
    .execute();
}

export async function readKtrdrClock(db: Db): Promise<KtrdrClockReading | null> {
  const row = await db.selectFrom('agent_control').select(['ktrdr_clock_offset_ms', 'ktrdr_clock_measured_at']).where('id', '=', 1).executeTakeFirst();
  const measuredAt = toDateOrNull(row?.ktrdr_clock_measured_at ?? null);
  if (row?.ktrdr_clock_offset_ms === null || row?.ktrdr_clock_offset_ms === undefined || measuredAt === null) return null;
  return { offsetMs: Number(row.ktrdr_clock_offset_ms), measuredAt };
}

/** The last `anthropic-ratelimit-*` state the API reported, as the agent keeps it (its shape is the agent's). */
export async function saveAnthropicQuota(db: Db, quota: Record<string, unknown>): Promise<void> {
  await db
    .updateTable('agent_control')
    .set({ anthropic_quota: JSON.stringify(quota) })
    .where('id', '=', 1)
    .execute();
}

export async function readAnthropicQuota(db: Db): Promise<unknown> {
  const row = await db.selectFrom('agent_control').select('anthropic_quota').where('id', '=', 1).executeTakeFirst();
  return fromJson<unknown>(row?.anthropic_quota ?? null);
}

/**
 * Whether the operator paused the agent. With `lock`, the row is read FOR SHARE: `pause` (an UPDATE of this row)
 * waits for the caller's transaction, and an effect that comes after it sees it (agent/operator-control.ts).
 */
export async function readPaused(db: Db, options: { lock: boolean }): Promise<boolean> {
  let query = db.selectFrom('agent_control').select('paused').where('id', '=', 1);
  if (options.lock) query = query.forShare();
  return (await query.executeTakeFirst())?.paused ?? false;
}

/** The operator's override of the daily limit (`budget set`), or null when AGENT_BUDGET_DAILY_USD applies. */
export async function readBudgetLimitOverride(db: Db): Promise<number | null> {
  const row = await db.selectFrom('agent_control').select('budget_limit_usd').where('id', '=', 1).executeTakeFirst();
  return toNumberOrNull(row?.budget_limit_usd);
}

/** `budget set`'s override of the configured daily limit, or null to clear it (budget/ says what is in force). */
export async function setBudgetLimitOverrideRow(db: Db, limitUsd: number | null, now: Date): Promise<void> {
  await db.updateTable('agent_control').set({ budget_limit_usd: limitUsd, updated_at: now }).where('id', '=', 1).execute();
}
