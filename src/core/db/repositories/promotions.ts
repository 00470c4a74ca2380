import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AgentPromotionsTable, AgentValidationBacktestsTable, Database } from '../database-schema.ts';
import { deflatedSharpesNow } from '../read-models/trials.ts';
import { toExperiment } from './experiments.ts';
import { fromJson, toDate, toDateOrNull, toNumber, withoutNul } from '../values.ts';
import { planValidation, replanHeldValidations, type ValidationWindow } from './validation-backtests.ts';

// The validation backtests are written by their repository; the lane and the tests change them through here too.

type Db = Kysely<Database> | Transaction<Database>;

export type PromotionStatus = 'not_candidate' | 'pending' | 'promoted' | 'rejected';

export interface Promotion {
  id: number;
  experimentId: number;
  status: PromotionStatus;
  reason: string | null;
  dsrAtDecision: number | null;
  trialsAtDecision: number | null;
  expectedMaxSharpe: number | null;
  searchSharpe: number | null;
  symbol: string | null;
  timeframe: string | null;
  strategyName: string | null;
  modelPath: string | null;
  lockboxId: number | null;
  createdAt: Date;
  decidedAt: Date | null;
}

export type ValidationKind = 'robustness' | 'lockbox';
export type ValidationStatus = 'planned' | 'starting' | 'running' | 'completed' | 'held';

export interface ValidationBacktest {
  id: number;
  promotionId: number;
  kind: ValidationKind;
  ordinal: number;
  symbol: string;
  timeframe: string;
  startDate: string;
  endDate: string;
  lockboxId: number | null;
  status: ValidationStatus;
  operationId: string | null;
  startedAt: Date | null;
  progress: { percentage: number | null; currentStep: string | null; status: string | null; seenAt: string } | null;
  progressChangedAt: Date | null;
  attempts: number;
  lastError: string | null;
  results: Record<string, unknown> | null;
  gate: { passed: boolean; reason: string | null } | null;
  sharpe: number | null;
  psr: number | null;
  completedAt: Date | null;
}

function toPromotion(row: Selectable<AgentPromotionsTable>): Promotion {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    status: row.status as PromotionStatus,
    reason: row.reason,
    dsrAtDecision: row.dsr_at_decision,
    trialsAtDecision: row.trials_at_decision === null ? null : toNumber(row.trials_at_decision),
    expectedMaxSharpe: row.expected_max_sharpe,
    searchSharpe: row.search_sharpe,
    symbol: row.symbol,
    timeframe: row.timeframe,
    strategyName: row.strategy_name,
    modelPath: row.model_path,
    lockboxId: row.lockbox_id,
    createdAt: toDate(row.created_at),
    decidedAt: toDateOrNull(row.decided_at),
  };
}

function toValidation(row: Selectable<AgentValidationBacktestsTable>): ValidationBacktest {
  return {
    id: row.id,
    promotionId: row.promotion_id,
    kind: row.kind,
    ordinal: row.ordinal,
    symbol: row.symbol,
    timeframe: row.timeframe,
    startDate: row.start_date,
    endDate: row.end_date,
    lockboxId: row.lockbox_id,
    status: row.status as ValidationStatus,
    operationId: row.operation_id,
    startedAt: toDateOrNull(row.started_at),
    progress: fromJson(row.progress),
    progressChangedAt: toDateOrNull(row.progress_changed_at),
    attempts: toNumber(row.attempts),
    lastError: row.last_error,
    results: fromJson(row.results),
    gate: fromJson(row.gate),
    sharpe: row.sharpe,
    psr: row.psr,
    completedAt: toDateOrNull(row.completed_at),
  };
}

/**
 * Screens experiments not screened yet that passed both gates (and were not cancelled), oldest first: each becomes a
 * `pending` promotion when its DSR over its family now reaches `minDsr`, otherwise a `not_candidate` row (shown as no
 * promotion), so it is looked at once. A batch costs three queries whatever its size (the families' moments in one),
 * so an old memory screened on its first pass after the upgrade does not make that pass heavy. Returns the new
 * pending promotions.
 */
export async function screenCandidates(db: Kysely<Database>, input: { minDsr: number; now: Date; limit: number }): Promise<Promotion[]> {
  const rows = await db
    .selectFrom('agent_experiments as e')
    .selectAll('e')
    .where('e.score', 'is not', null)
    .where('e.outcome', '<>', 'cancelled')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('agent_promotions as p').select('p.id').whereRef('p.experiment_id', '=', 'e.id'))))
    .orderBy('e.id')
    .limit(input.limit)
    .execute();
  if (rows.length === 0) return [];
  const experiments = rows.map(toExperiment);
  // Over every trial of the family now (issue #20: never the value frozen when the session ended).
  const dsrs = await deflatedSharpesNow(db, experiments);
  const values = experiments.map((e) => {
    const dsr = dsrs.get(e.id) ?? null;
    const candidate = dsr !== null && dsr.dsr >= input.minDsr;
    const reason =
      dsr === null ? 'no deflated Sharpe could be computed' : `DSR ${dsr.dsr.toFixed(3)} over ${dsr.trials} trials ${candidate ? '>=' : '<'} ${input.minDsr}`;
    const modelPath = e.trainingMetrics?.modelPath;
    return {
      experiment_id: e.id,
      status: candidate ? 'pending' : 'not_candidate',
      reason: candidate ? `candidate: ${reason}` : reason,
      dsr_at_decision: dsr?.dsr ?? null,
      trials_at_decision: dsr?.trials ?? null,
      expected_max_sharpe: dsr?.expectedMaxSharpe ?? null,
      search_sharpe: e.sharpe,
      symbol: e.symbol,
      timeframe: e.timeframe,
      strategy_name: e.strategyName,
      model_path: typeof modelPath === 'string' ? modelPath : null,
      created_at: input.now,
      decided_at: candidate ? null : input.now,
    };
  });
  const inserted = await db
    .insertInto('agent_promotions')
    .values(values)
    .onConflict((oc) => oc.column('experiment_id').doNothing())
    .returningAll()
    .execute();
  return inserted
    .filter((row) => row.status === 'pending')
    .map(toPromotion)
    .sort((a, b) => a.experimentId - b.experimentId);
}

export async function listPromotions(db: Db, statuses: PromotionStatus[], limit = 1000, order: 'oldest' | 'newest' = 'oldest'): Promise<Promotion[]> {
  const rows = await db
    .selectFrom('agent_promotions')
    .selectAll()
    .where('status', 'in', statuses)
    .orderBy('id', order === 'oldest' ? 'asc' : 'desc')
    .limit(limit)
    .execute();
  return rows.map(toPromotion);
}

export async function findPromotion(db: Db, id: number): Promise<Promotion | null> {
  const row = await db.selectFrom('agent_promotions').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toPromotion(row) : null;
}

/** The promotions of these experiments with their validation backtests (not_candidate rows included; views hide them). */
export async function promotionsOfExperiments(
  db: Db,
  experimentIds: number[],
): Promise<Map<number, { promotion: Promotion; validations: ValidationBacktest[] }>> {
  const out = new Map<number, { promotion: Promotion; validations: ValidationBacktest[] }>();
  if (experimentIds.length === 0) return out;
  const rows = await db.selectFrom('agent_promotions').selectAll().where('experiment_id', 'in', experimentIds).execute();
  if (rows.length === 0) return out;
  const validations = await db
    .selectFrom('agent_validation_backtests')
    .selectAll()
    .where(
      'promotion_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('kind')
    .orderBy('ordinal')
    .execute();
  for (const row of rows) {
    out.set(row.experiment_id, { promotion: toPromotion(row), validations: validations.filter((v) => v.promotion_id === row.id).map(toValidation) });
  }
  return out;
}

/** Experiment ids of promotions in these statuses, newest first (for `experiments --promoted`). */
export async function promotedExperimentIds(db: Db, statuses: PromotionStatus[], limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('agent_promotions')
    .select('experiment_id')
    .where('status', 'in', statuses)
    .orderBy('experiment_id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.experiment_id);
}

export interface PromotionCounts {
  promoted: number;
  pending: number;
  rejected: number;
  /** Validation backtests started and not finished (the validation lane's load). */
  validationsInFlight: number;
}

export async function promotionCounts(db: Db): Promise<PromotionCounts> {
  const rows = await db
    .selectFrom('agent_promotions')
    .select(['status', sql<string | number>`count(*)`.as('n')])
    .where('status', '<>', 'not_candidate')
    .groupBy('status')
    .execute();
  const count = (status: string) => toNumber(rows.find((r) => r.status === status)?.n ?? 0);
  const inFlight = await db
    .selectFrom('agent_validation_backtests')
    .select(sql<string | number>`count(*)`.as('n'))
    .where('status', 'in', ['starting', 'running'])
    .executeTakeFirstOrThrow();
  return { promoted: count('promoted'), pending: count('pending'), rejected: count('rejected'), validationsInFlight: toNumber(inFlight.n) };
}

export async function validationsOf(db: Db, promotionId: number): Promise<ValidationBacktest[]> {
  const rows = await db
    .selectFrom('agent_validation_backtests')
    .selectAll()
    .where('promotion_id', '=', promotionId)
    .orderBy('kind', 'desc')
    .orderBy('ordinal')
    .execute();
  return rows.map(toValidation);
}

/** Validation backtests started and not finished: what the lane polls, and what counts against its concurrency. */
export async function validationsInFlight(db: Db): Promise<ValidationBacktest[]> {
  const rows = await db.selectFrom('agent_validation_backtests').selectAll().where('status', 'in', ['starting', 'running']).orderBy('id').execute();
  return rows.map(toValidation);
}

/**
 * Planned validation backtests, robustness before lockbox within a promotion, oldest promotion first. None of a
 * promotion with a `held` backtest: a held run may still live unseen in KTRDR (lost, or answered for with another
 * operation), and the promotion cannot be decided while one of its windows is held anyway.
 */
export async function plannedValidations(db: Db, limit: number): Promise<ValidationBacktest[]> {
  const rows = await db
    .selectFrom('agent_validation_backtests as v')
    .innerJoin('agent_promotions as p', 'p.id', 'v.promotion_id')
    .selectAll('v')
    .where('v.status', '=', 'planned')
    .where('p.status', '=', 'pending')
    .where(({ exists, not, selectFrom }) =>
      not(
        exists(selectFrom('agent_validation_backtests as h').select('h.id').whereRef('h.promotion_id', '=', 'v.promotion_id').where('h.status', '=', 'held')),
      ),
    )
    .orderBy('v.promotion_id')
    .orderBy('v.kind', 'desc')
    .orderBy('v.ordinal')
    .limit(limit)
    .execute();
  return rows.map(toValidation);
}

export async function planValidations(db: Kysely<Database>, promotionId: number, windows: ValidationWindow[], lockboxId: number | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const w of windows) {
      await planValidation(trx, promotionId, w);
    }
    await trx.updateTable('agent_promotions').set({ lockbox_id: lockboxId }).where('id', '=', promotionId).execute();
  });
}

/** Decides a pending promotion once (a second decider finds it decided and changes nothing). */
export async function decidePromotionRow(db: Db, id: number, input: { status: 'promoted' | 'rejected'; reason: string; now: Date }): Promise<boolean> {
  const result = await db
    .updateTable('agent_promotions')
    .set({ status: input.status, reason: withoutNul(input.reason), decided_at: input.now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A pending promotion's note (what it waits for), the status unchanged. */
export async function notePromotion(db: Db, id: number, reason: string): Promise<void> {
  await db
    .updateTable('agent_promotions')
    .set({ reason: withoutNul(reason) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * An operator's retry of a pending promotion's held backtests, in one transaction: they are planned again (no tries
 * counted, no operation) and the promotion's note says so. A promotion decided meanwhile changes nothing (false).
 */
export async function retryHeldPromotion(db: Kysely<Database>, id: number, note: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const noted = await trx
      .updateTable('agent_promotions')
      .set({ reason: withoutNul(note) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(noted.numUpdatedRows) === 0) return false;
    return (await replanHeldValidations(trx, id)) > 0;
  });
}
