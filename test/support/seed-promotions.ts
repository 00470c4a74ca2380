// Promotions in three states over seeded experiments, written through the repositories (no KTRDR): one promoted,
// one rejected, the rest pending. For the read commands' and the report's tests.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/core/db/database-schema.ts';
import { fixLockbox } from '../../src/core/db/repositories/lockboxes.ts';
import { decidePromotionRow, listPromotions, planValidations, screenCandidates, validationsOf } from '../../src/core/db/repositories/promotions.ts';
import { updateValidation } from '../../src/core/db/repositories/validation-backtests.ts';

export async function seedPromotions(db: Kysely<Database>, now = new Date()): Promise<{ promoted: number; rejected: number; pending: number[] }> {
  const lockbox = await fixLockbox(db, {
    symbol: 'EURUSD',
    timeframe: '1h',
    startDate: '2025-12-06',
    months: 12,
    dataStart: '2005-01-03',
    dataEnd: '2026-12-06',
    now,
  });
  await screenCandidates(db, { minDsr: 0, now, limit: 1000 });
  const pending = await listPromotions(db, ['pending']);
  if (pending.length < 3) throw new Error(`seedPromotions needs three candidates, found ${pending.length}`);
  const settle = async (index: number, sharpes: [number, number, number], status: 'promoted' | 'rejected', reason: string) => {
    const promotion = pending[index]!;
    await planValidations(
      db,
      promotion.id,
      [
        { kind: 'robustness', ordinal: 1, symbol: 'EURUSD', timeframe: '1h', startDate: '2024-12-06', endDate: '2025-12-05', lockboxId: null },
        { kind: 'robustness', ordinal: 2, symbol: 'EURUSD', timeframe: '1h', startDate: '2018-12-05', endDate: '2019-12-04', lockboxId: null },
        { kind: 'lockbox', ordinal: 1, symbol: 'EURUSD', timeframe: '1h', startDate: lockbox.startDate, endDate: '2026-12-05', lockboxId: lockbox.id },
      ],
      lockbox.id,
    );
    const validations = await validationsOf(db, promotion.id);
    for (const [i, v] of validations.entries()) {
      const sharpe = v.kind === 'lockbox' ? sharpes[2] : sharpes[v.ordinal - 1]!;
      await updateValidation(db, v.id, {
        status: 'completed',
        sharpe,
        psr: v.kind === 'lockbox' ? (sharpe > 0.3 ? 0.95 : 0.6) : null,
        results: { sharpe, totalTrades: 40 + i, maxDrawdown: 0.12 },
        gate: { passed: true, reason: null },
        completedAt: now,
      });
    }
    await decidePromotionRow(db, promotion.id, { status, reason, now });
    return promotion.experimentId;
  };
  const promoted = await settle(0, [0.6, 0.4, 0.5], 'promoted', 'lockbox Sharpe 0.50, PSR 0.950 >= 0.9; robustness median Sharpe 0.50 > 0');
  const rejected = await settle(1, [0.2, -0.4, 0.1], 'rejected', 'lockbox PSR 0.600 < 0.9; robustness median Sharpe -0.10 is not positive');
  return { promoted, rejected, pending: pending.slice(2).map((p) => p.experimentId) };
}
