// `lockbox retry`: the operator plans a promotion's held validation backtests again.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { findExperiment } from '../../db/repositories/experiments.ts';
import { promotionsOfExperiments, retryHeldPromotion } from '../../db/repositories/promotions.ts';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import type { LockboxRetryResult } from '../views/promotion-schemas.ts';

type Db = Kysely<Database>;

/**
 * Moves the held validation backtests of an experiment's pending promotion back to planned (no tries counted, no
 * operation) and notes the retry on the promotion, in one transaction. The lane reads KTRDR's active backtests before
 * it starts a planned window, so a lost run that turns out to be live is waited for, never doubled. An unknown
 * experiment or one with no promotion exits 4; a decided promotion or one with nothing held exits 1, unchanged.
 */
export async function retryHeldValidations(db: Db, input: { experimentId: number; now: Date }): Promise<LockboxRetryResult> {
  const { experimentId } = input;
  if (!(await findExperiment(db, experimentId))) {
    throw new AgentError(`No experiment #${experimentId}. \`ktrdr-agent experiments\` lists them.`, ExitCode.NotFound, 'experiment_not_found');
  }
  const found = (await promotionsOfExperiments(db, [experimentId])).get(experimentId);
  if (!found || found.promotion.status === 'not_candidate') {
    throw new AgentError(
      `Experiment #${experimentId} has no promotion: it never became a candidate, so it has no validation backtests to retry. \`ktrdr-agent experiments --promoted\` lists the promotions.`,
      ExitCode.NotFound,
      'promotion_not_found',
    );
  }
  const { promotion, validations } = found;
  if (promotion.status !== 'pending') {
    throw new AgentError(
      `Nothing changed: the promotion of experiment #${experimentId} is already ${promotion.status} (${promotion.reason ?? 'no reason recorded'}); a decided promotion is final.`,
      ExitCode.Error,
      'promotion_decided',
    );
  }
  const held = validations.filter((v) => v.status === 'held');
  const nothingHeld = () =>
    new AgentError(
      `Nothing changed: no validation backtest of experiment #${experimentId} is held (its promotion is pending: ${promotion.reason ?? 'waiting for its backtests'}). ` +
        '`ktrdr-agent experiments show` shows its windows; the validation lane runs them on the next tick.',
      ExitCode.Error,
      'nothing_held',
    );
  if (held.length === 0) throw nothingHeld();
  const reason = `retried by the operator at ${input.now.toISOString()} (lockbox retry): ${held.length} held backtest(s) planned again`;
  if (!(await retryHeldPromotion(db, promotion.id, reason))) throw nothingHeld();
  return {
    experimentId,
    retried: held.map((v) => ({ kind: v.kind, ordinal: v.ordinal, startDate: v.startDate, endDate: v.endDate, heldFor: v.lastError })),
    reason,
    retriedAt: input.now.toISOString(),
  };
}
