// A transaction across tables (agent_promotions and the hypotheses), so it belongs to neither table's repository.
import type { Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import { recordPromotionForHypotheses } from '../repositories/hypotheses.ts';
import { decidePromotionRow } from '../repositories/promotions.ts';

/**
 * A promotion's decision and what it says of the hypotheses its experiment tested, in one transaction. False when
 * the promotion was already decided (another pass got there first): nothing is written.
 */
export async function settlePromotion(
  db: Kysely<Database>,
  input: { promotionId: number; experimentId: number; status: 'promoted' | 'rejected'; reason: string; now: Date },
): Promise<boolean> {
  const { promotionId, experimentId, status, reason, now } = input;
  return db.transaction().execute(async (trx) => {
    if (!(await decidePromotionRow(trx, promotionId, { status, reason, now }))) return false;
    await recordPromotionForHypotheses(trx, { experimentId, promoted: status === 'promoted', reason, now });
    return true;
  });
}
