// Trial accounting's first rule: one design (fingerprint) on one symbol, timeframe and training window runs once at a
// time. The finished runs are refused from the experiments (earlierRunsOfDesign); the runs in flight from these
// claims, taken in the transaction that saves the design (and narrowed to its window when training starts), under a
// transaction-scoped advisory lock on the design so two sessions saving it at once queue and the second sees the first.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SessionPhase } from '../../session/model.ts';

export interface DesignClaim {
  fingerprint: string;
  symbol: string | null;
  timeframe: string | null;
  /** Null while the window is not chosen yet: then the claim covers every window. */
  window: { startDate: string; endDate: string } | null;
}

/** The live session already running the design, which the refusal names. */
export interface ClaimHolder {
  sessionId: number;
  phase: SessionPhase;
  window: { startDate: string; endDate: string } | null;
}

/**
 * Claims the design for `sessionId` (replacing its earlier claim), unless another session still in flight holds it on
 * the same symbol and timeframe with the same window (or with a window not chosen, on either side). Must run in the
 * transaction that saves the design (or starts its training): the advisory lock lasts until that transaction ends.
 */
export async function claimDesign(trx: Transaction<Database>, sessionId: number, claim: DesignClaim, now: Date): Promise<ClaimHolder | null> {
  const key = `${claim.fingerprint}|${claim.symbol ?? ''}|${claim.timeframe ?? ''}`;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
  const holder = await liveHolder(trx, sessionId, claim);
  if (holder) return holder;
  const row = {
    fingerprint: claim.fingerprint,
    symbol: claim.symbol,
    timeframe: claim.timeframe,
    training_start: claim.window?.startDate ?? null,
    training_end: claim.window?.endDate ?? null,
    claimed_at: now,
  };
  await trx
    .insertInto('agent_design_claims')
    .values({ session_id: sessionId, ...row })
    .onConflict((oc) => oc.column('session_id').doUpdateSet(row))
    .execute();
  return null;
}

/** The in-flight session (not `sessionId`) holding a claim that covers this one, if any; read without locking. */
export async function liveHolder(db: Transaction<Database> | Kysely<Database>, sessionId: number, claim: DesignClaim): Promise<ClaimHolder | null> {
  let query = db
    .selectFrom('agent_design_claims as c')
    .innerJoin('agent_sessions as s', 's.id', 'c.session_id')
    .select(['c.session_id', 's.phase', 'c.training_start', 'c.training_end'])
    .where('c.fingerprint', '=', claim.fingerprint)
    .where('s.outcome', 'is', null)
    .where('c.session_id', '!=', sessionId)
    .where(sql<boolean>`c.symbol IS NOT DISTINCT FROM ${claim.symbol}`)
    .where(sql<boolean>`c.timeframe IS NOT DISTINCT FROM ${claim.timeframe}`);
  if (claim.window) {
    const { startDate, endDate } = claim.window;
    query = query.where((eb) =>
      eb.or([eb('c.training_start', 'is', null), eb.and([eb('c.training_start', '=', startDate), eb('c.training_end', '=', endDate)])]),
    );
  }
  const row = await query.orderBy('c.session_id').limit(1).executeTakeFirst();
  if (!row) return null;
  return {
    sessionId: row.session_id,
    phase: row.phase,
    window: row.training_start && row.training_end ? { startDate: row.training_start, endDate: row.training_end } : null,
  };
}

/** The words every claim refusal carries (the non-LLM designers move on to their next candidate on it). */
export const IN_FLIGHT_REFUSAL = 'is running this design';

/** The refusal the tools return: it names the live session, so the designer knows whose result to wait for. */
export function describeClaimRefusal(holder: ClaimHolder, claim: DesignClaim): string {
  const where = `${claim.symbol ?? '?'} ${claim.timeframe ?? '?'}`;
  const window = holder.window ? `training window ${holder.window.startDate}..${holder.window.endDate}` : 'a training window not chosen yet';
  return (
    `session #${holder.sessionId} ${IN_FLIGHT_REFUSAL} (fingerprint ${claim.fingerprint.slice(0, 12)}) on ${where}, ${window}, now (phase ${holder.phase}); ` +
    'a second run in flight would waste KTRDR compute and count as a second trial. Change what it computes (indicators, parameters, fuzzy sets, model, labels)' +
    `${holder.window ? ', or choose another training_window' : ''}; its result will be in the memory when it ends.`
  );
}
