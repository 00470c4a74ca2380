// agent_validation_backtests: the backtests that validate a pending promotion (robustness windows, then the lockbox),
// planned with the promotion (promotions.ts) and driven by the validation lane. Only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { ValidationBacktest, ValidationStatus } from './promotions.ts';
import { toJson, withoutNul } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** What a planned backtest is: its place in the promotion's plan and its window. */
export type ValidationWindow = Pick<ValidationBacktest, 'kind' | 'ordinal' | 'symbol' | 'timeframe' | 'startDate' | 'endDate' | 'lockboxId'>;

/** One planned backtest of a promotion; planning the same window twice changes nothing. */
export async function planValidation(db: Db, promotionId: number, w: ValidationWindow): Promise<void> {
  await db
    .insertInto('agent_validation_backtests')
    .values({
      promotion_id: promotionId,
      kind: w.kind,
      ordinal: w.ordinal,
      symbol: w.symbol,
      timeframe: w.timeframe,
      start_date: w.startDate,
      end_date: w.endDate,
      lockbox_id: w.lockboxId,
      status: 'planned',
    })
    .onConflict((oc) => oc.columns(['promotion_id', 'kind', 'ordinal']).doNothing())
    .execute();
}

export interface ValidationChanges {
  status?: ValidationStatus;
  operationId?: string | null;
  startedAt?: Date | null;
  progress?: ValidationBacktest['progress'];
  progressChangedAt?: Date | null;
  attempts?: number;
  lastError?: string | null;
  results?: unknown;
  gate?: { passed: boolean; reason: string | null } | null;
  sharpe?: number | null;
  psr?: number | null;
  completedAt?: Date | null;
}

export async function updateValidation(db: Db, id: number, changes: ValidationChanges): Promise<void> {
  const set: Record<string, unknown> = {};
  if (changes.status !== undefined) set.status = changes.status;
  if (changes.operationId !== undefined) set.operation_id = changes.operationId;
  if (changes.startedAt !== undefined) set.started_at = changes.startedAt;
  if (changes.progress !== undefined) set.progress = toJson(changes.progress);
  if (changes.progressChangedAt !== undefined) set.progress_changed_at = changes.progressChangedAt;
  if (changes.attempts !== undefined) set.attempts = changes.attempts;
  if (changes.lastError !== undefined) set.last_error = changes.lastError === null ? null : withoutNul(changes.lastError).slice(0, 2000);
  if (changes.results !== undefined) set.results = toJson(changes.results);
  if (changes.gate !== undefined) set.gate = toJson(changes.gate);
  if (changes.sharpe !== undefined) set.sharpe = changes.sharpe;
  if (changes.psr !== undefined) set.psr = changes.psr;
  if (changes.completedAt !== undefined) set.completed_at = changes.completedAt;
  if (Object.keys(set).length === 0) return;
  await db.updateTable('agent_validation_backtests').set(set).where('id', '=', id).execute();
}

/**
 * A promotion's `held` backtests planned again from scratch (an operator's retry): no tries counted, no operation,
 * no start time. Returns the windows moved. The lane reads KTRDR's active backtests before it starts a planned one.
 */
export async function replanHeldValidations(db: Db, promotionId: number): Promise<number> {
  const result = await db
    .updateTable('agent_validation_backtests')
    .set({ status: 'planned', attempts: 0, operation_id: null, started_at: null, progress: null, progress_changed_at: null, last_error: null })
    .where('promotion_id', '=', promotionId)
    .where('status', '=', 'held')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
