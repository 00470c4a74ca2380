// The read models of the promotion stage and the lockbox: `promotion` on each experiment row, `experiments
// --promoted`, the counts on `status`, `lockbox`, and the burned boundary `lockbox reset` shows.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { findExperiment, type Experiment } from '../../db/repositories/experiments.ts';
import { listLockboxUses, type LockboxUse } from '../../db/repositories/lockboxes.ts';
import { promotedExperimentIds, promotionCounts, promotionsOfExperiments, type Promotion, type ValidationBacktest } from '../../db/repositories/promotions.ts';
import { searchPeriodEnd } from '../../research/lockbox.ts';
import type { LockboxEntry, LockboxView, PromotionCountsEntry, PromotionEntry } from './promotion-schemas.ts';
import type { ExperimentSummary } from './schemas.ts';

type Db = Kysely<Database>;

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The contract's `promotion` of one experiment; null for one never a candidate. */
export function promotionEntry(promotion: Promotion, validations: ValidationBacktest[]): PromotionEntry | null {
  if (promotion.status === 'not_candidate') return null;
  const lockbox = validations.find((v) => v.kind === 'lockbox' && v.status === 'completed');
  const results = (lockbox?.results ?? {}) as { totalTrades?: unknown; maxDrawdown?: unknown };
  return {
    status: promotion.status,
    reason: promotion.reason,
    dsrAtDecision: promotion.dsrAtDecision,
    trialsAtDecision: promotion.trialsAtDecision,
    searchSharpe: promotion.searchSharpe,
    robustness: validations
      .filter((v) => v.kind === 'robustness')
      .map((v) => ({ startDate: v.startDate, endDate: v.endDate, sharpe: v.status === 'completed' ? v.sharpe : null })),
    lockbox: lockbox
      ? {
          startDate: lockbox.startDate,
          endDate: lockbox.endDate,
          sharpe: lockbox.sharpe,
          psr: lockbox.psr,
          trades: finiteOrNull(results.totalTrades),
          maxDrawdown: finiteOrNull(results.maxDrawdown),
        }
      : null,
    decidedAt: promotion.decidedAt?.toISOString() ?? null,
  };
}

/** Sets `promotion` on every row (null where there is none), in one read for the page. */
export async function withPromotions<T extends ExperimentSummary>(db: Db, rows: T[]): Promise<T[]> {
  const promotions = await promotionsOfExperiments(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const found = promotions.get(row.id);
    return { ...row, promotion: found ? promotionEntry(found.promotion, found.validations) : null };
  });
}

/** The experiments behind `experiments --promoted`: promoted strategies, newest first. */
export async function promotedExperiments(db: Db, limit: number): Promise<Experiment[]> {
  const ids = await promotedExperimentIds(db, ['promoted'], limit);
  const found = await Promise.all(ids.map((id) => findExperiment(db, id)));
  return found.filter((e): e is Experiment => e !== null);
}

export function loadPromotionCounts(db: Db): Promise<PromotionCountsEntry> {
  return promotionCounts(db);
}

export function lockboxEntry(use: LockboxUse): LockboxEntry {
  return {
    symbol: use.symbol,
    timeframe: use.timeframe,
    startDate: use.startDate,
    searchPeriodEnd: searchPeriodEnd(use.startDate),
    months: use.months,
    dataEndWhenFixed: use.dataEnd,
    fixedAt: use.fixedAt.toISOString(),
    burnedAt: use.burnedAt?.toISOString() ?? null,
    burnedReason: use.burnedReason,
    consultations: use.consultations,
    experimentIds: use.experimentIds,
  };
}

export async function loadLockboxView(db: Db, input: { now: Date; lockboxMonths: number }): Promise<LockboxView> {
  const uses = await listLockboxUses(db);
  return { generatedAt: input.now.toISOString(), lockboxMonths: input.lockboxMonths, lockboxes: uses.map(lockboxEntry) };
}

/** A short word for the experiments table: blank when never a candidate. */
export function promotionWord(promotion: PromotionEntry | null | undefined): string {
  return promotion ? promotion.status : '—';
}

/** The detail lines of `experiments show`: the search Sharpe beside the robustness and lockbox ones (the decay). */
export function promotionLines(promotion: PromotionEntry | null | undefined): string[] {
  if (!promotion) return ['Promotion: not a candidate'];
  const sharpe = (value: number | null) => (value === null ? '—' : value.toFixed(2));
  return [
    `Promotion: ${promotion.status}${promotion.reason ? ` (${promotion.reason})` : ''}`,
    `  DSR at candidacy: ${promotion.dsrAtDecision === null ? '—' : promotion.dsrAtDecision.toFixed(3)} over ${promotion.trialsAtDecision ?? '?'} trials`,
    `  Sharpe: search ${sharpe(promotion.searchSharpe)}; robustness ${promotion.robustness.map((r) => `${r.startDate}..${r.endDate} ${sharpe(r.sharpe)}`).join(', ') || '—'}; lockbox ${
      promotion.lockbox
        ? `${promotion.lockbox.startDate}..${promotion.lockbox.endDate} ${sharpe(promotion.lockbox.sharpe)} (PSR ${promotion.lockbox.psr === null ? '—' : promotion.lockbox.psr.toFixed(3)})`
        : 'not run yet'
    }`,
  ];
}
