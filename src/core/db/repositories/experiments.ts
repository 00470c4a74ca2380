import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import { canonicalStrategy, strategyFeatures, strategyFingerprint } from '../../research/fingerprint.ts';
import { deflatedSharpeOfBacktest, type FamilyMoments } from '../../research/deflated-sharpe.ts';
import type { AgentExperimentsTable, Database } from '../database-schema.ts';
import { gateFailureLabels, type SessionOutcome, type Assessment, type GateEvaluation } from '../../session/model.ts';
import { fromJson, toDate, toDateOrNull, toJson, toNumber, withoutNul } from '../values.ts';
import { findLineage, findSession, toSession, type Lineage, type Session } from './sessions.ts';
import { designFailureOfSession } from './actions.ts';
import { rebuildTallies, tally } from './experiment-tallies.ts';
import type { DesignFailure } from '../../research/design-failure.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface Experiment {
  id: number;
  sessionId: number;
  outcome: SessionOutcome;
  designer: string;
  model: string | null;
  strategyName: string | null;
  strategy: Record<string, unknown> | null;
  fingerprint: string | null;
  indicatorTypes: string[];
  indicatorKey: string | null;
  labelSource: string | null;
  labelThreshold: number | null;
  architecture: string | null;
  symbol: string | null;
  timeframe: string | null;
  symbols: string[];
  timeframes: string[];
  trainingWindow: { startDate: string; endDate: string } | null;
  backtestWindow: { startDate: string; endDate: string } | null;
  trainingGate: GateEvaluation | null;
  backtestGate: GateEvaluation | null;
  gateFailed: string | null;
  failedChecks: string[];
  failureReason: string | null;
  trainingMetrics: Record<string, unknown> | null;
  backtestMetrics: Record<string, unknown> | null;
  accuracy: number | null;
  finalLoss: number | null;
  lossReduction: number | null;
  sharpe: number | null;
  winRate: number | null;
  maxDrawdown: number | null;
  totalTrades: number | null;
  totalReturnPct: number | null;
  deflatedSharpe: number | null;
  dsrTrials: number | null;
  score: number | null;
  assessment: Assessment | null;
  verdict: string | null;
  tokensInput: number;
  tokensOutput: number;
  costUsd: number;
  hypothesisId: number | null;
  exploration: boolean;
  parentExperimentId: number | null;
  startedAt: Date | null;
  completedAt: Date;
  /** Why a design never reached training (failed_design only). */
  designFailure: DesignFailure | null;
}

/**
 * The stated score the memory ranks experiments by: the backtest's (annualised) Sharpe ratio when both gates
 * passed, nothing otherwise. A design that failed a gate has no score, however good one of its numbers looked.
 */
export const SCORE_DESCRIPTION = 'backtest Sharpe ratio of experiments that passed both gates';

export function toExperiment(row: Selectable<AgentExperimentsTable>): Experiment {
  const window = (start: string | null, end: string | null) => (start && end ? { startDate: start, endDate: end } : null);
  return {
    id: row.id,
    sessionId: row.session_id,
    outcome: row.outcome,
    designer: row.designer,
    model: row.model,
    strategyName: row.strategy_name,
    strategy: fromJson(row.strategy),
    fingerprint: row.fingerprint?.trim() ?? null,
    indicatorTypes: row.indicator_types ?? [],
    indicatorKey: row.indicator_key,
    labelSource: row.label_source,
    labelThreshold: row.label_threshold,
    architecture: row.architecture,
    symbol: row.symbol,
    timeframe: row.timeframe,
    symbols: row.symbols ?? [],
    timeframes: row.timeframes ?? [],
    trainingWindow: window(row.training_start, row.training_end),
    backtestWindow: window(row.backtest_start, row.backtest_end),
    trainingGate: fromJson(row.training_gate),
    backtestGate: fromJson(row.backtest_gate),
    gateFailed: row.gate_failed,
    failedChecks: row.failed_checks ?? [],
    failureReason: row.failure_reason,
    trainingMetrics: fromJson(row.training_metrics),
    backtestMetrics: fromJson(row.backtest_metrics),
    accuracy: row.accuracy,
    finalLoss: row.final_loss,
    lossReduction: row.loss_reduction,
    sharpe: row.sharpe,
    winRate: row.win_rate,
    maxDrawdown: row.max_drawdown,
    totalTrades: row.total_trades,
    totalReturnPct: row.total_return_pct,
    deflatedSharpe: row.deflated_sharpe,
    dsrTrials: row.dsr_trials,
    score: row.score,
    assessment: fromJson(row.assessment),
    verdict: row.verdict,
    tokensInput: toNumber(row.tokens_input),
    tokensOutput: toNumber(row.tokens_output),
    costUsd: toNumber(row.cost_usd),
    hypothesisId: row.hypothesis_id,
    exploration: row.exploration,
    parentExperimentId: row.parent_experiment_id,
    startedAt: toDateOrNull(row.started_at),
    completedAt: toDate(row.completed_at),
    designFailure: row.design_failure_kind && row.design_failure ? { kind: row.design_failure_kind, detail: row.design_failure } : null,
  };
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

// The lineage is the session's (sessions.ts): save_strategy_config writes it there, and the experiment copies it.

function withCandidate(family: FamilyMoments, sharpe: number): FamilyMoments {
  return { n: family.n + 1, sum: family.sum + sharpe, sumSquares: family.sumSquares + sharpe * sharpe };
}

/** The family's backtests so far (count, Σ sharpe, Σ sharpe²) on one symbol and timeframe: one index range. */
export async function familyMoments(db: Db, symbol: string, timeframe: string): Promise<FamilyMoments> {
  const row = await db
    .selectFrom('agent_experiments')
    .select([
      sql<string | number>`count(*)`.as('n'),
      sql<string | number | null>`sum(sharpe)`.as('sum'),
      sql<string | number | null>`sum(sharpe * sharpe)`.as('sum_squares'),
    ])
    .where('symbol', '=', symbol)
    .where('timeframe', '=', timeframe)
    .where('sharpe', 'is not', null)
    .executeTakeFirstOrThrow();
  return { n: toNumber(row.n), sum: Number(row.sum ?? 0), sumSquares: Number(row.sum_squares ?? 0) };
}

/**
 * The deflated Sharpe of a backtest among every backtest of its family (symbol, timeframe) so far, itself
 * included: each backtest is one trial.
 */
export async function deflatedSharpeInFamily(
  db: Db,
  input: { symbol: string | null; timeframe: string | null; sharpe: number | null; bars?: number | null; startDate: string | null; endDate: string | null },
): Promise<{ dsr: number; trials: number; expectedMaxSharpe: number } | null> {
  if (input.sharpe === null || !input.symbol || !input.timeframe) return null;
  const moments = await familyMoments(db, input.symbol, input.timeframe);
  return deflatedSharpeOfBacktest({
    sharpe: input.sharpe,
    bars: input.bars ?? null,
    startDate: input.startDate,
    endDate: input.endDate,
    family: withCandidate(moments, input.sharpe),
  });
}

/** The experiment row of a finished session: everything the memory reads, flattened once. */
function experimentRow(session: Session, lineage: Lineage, family: (symbol: string, timeframe: string) => FamilyMoments): Insertable<AgentExperimentsTable> {
  const config = session.strategyConfig;
  const features = strategyFeatures(config);
  const training = (session.trainingResults ?? {}) as Record<string, unknown>;
  const backtest = (session.backtestResults ?? {}) as Record<string, unknown>;
  const symbol = session.backtestParams?.symbol ?? session.trainingParams?.symbols[0] ?? features.symbol;
  const timeframe = session.backtestParams?.timeframe ?? session.trainingParams?.timeframes[0] ?? features.timeframe;
  const sharpe = finite(backtest.sharpe);
  const dsr =
    sharpe !== null && symbol && timeframe
      ? deflatedSharpeOfBacktest({
          sharpe,
          bars: finite(backtest.bars),
          startDate: session.backtestParams?.startDate ?? null,
          endDate: session.backtestParams?.endDate ?? null,
          family: withCandidate(family(symbol, timeframe), sharpe),
        })
      : null;
  const gates = [session.trainingGate, session.backtestGate];
  const failedGate = gates.find((g) => g && !g.passed) ?? null;
  const bothPassed = session.trainingGate?.passed === true && session.backtestGate?.passed === true;
  return {
    session_id: session.id,
    outcome: session.outcome!,
    designer: session.designer,
    model: lineage.model,
    strategy_name: session.strategyName,
    strategy: toJson(config),
    canonical: config ? toJson(canonicalStrategy(config)) : null,
    fingerprint: config ? strategyFingerprint(config) : null,
    indicator_types: features.indicatorTypes,
    indicator_key: features.indicatorKey || null,
    label_source: features.labelSource,
    label_threshold: features.labelThreshold,
    architecture: features.architecture,
    symbol,
    timeframe,
    symbols: session.trainingParams?.symbols ?? (features.symbol ? [features.symbol] : []),
    timeframes: session.trainingParams?.timeframes ?? (features.timeframe ? [features.timeframe] : []),
    training_start: session.trainingParams?.startDate ?? null,
    training_end: session.trainingParams?.endDate ?? null,
    backtest_start: session.backtestParams?.startDate ?? null,
    backtest_end: session.backtestParams?.endDate ?? null,
    training_gate: toJson(session.trainingGate),
    backtest_gate: toJson(session.backtestGate),
    gate_failed: failedGate?.gate ?? null,
    failed_checks: failedGate ? gateFailureLabels(failedGate) : [],
    failure_reason: session.failureReason === null ? null : withoutNul(session.failureReason),
    training_metrics: toJson(session.trainingResults),
    backtest_metrics: toJson(session.backtestResults),
    accuracy: finite(training.accuracy),
    final_loss: finite(training.finalLoss),
    loss_reduction: finite(training.lossReduction),
    sharpe,
    win_rate: finite(backtest.winRate),
    max_drawdown: finite(backtest.maxDrawdown),
    total_trades: finite(backtest.totalTrades),
    total_return_pct: finite(backtest.totalReturnPct),
    deflated_sharpe: dsr?.dsr ?? null,
    dsr_trials: dsr?.trials ?? null,
    score: bothPassed ? sharpe : null,
    assessment: toJson(session.assessment),
    verdict: session.assessment?.verdict ?? null,
    tokens_input: session.tokensInput,
    tokens_output: session.tokensOutput,
    cost_usd: session.costUsd,
    hypothesis_id: lineage.testsHypothesisId,
    exploration: lineage.exploration,
    parent_experiment_id: lineage.parentExperimentId,
    started_at: session.createdAt,
    completed_at: session.completedAt ?? session.updatedAt,
  };
}

/**
 * Writes the experiment of a session that has just ended (call it inside the transaction that ended it).
 * Idempotent: a session has exactly one experiment. Returns its id, or null when the session is not finished.
 */
export async function recordExperiment(db: Db, sessionId: number): Promise<number | null> {
  const session = await findSession(db, sessionId);
  if (!session?.outcome) return null;
  const existing = await experimentIdOfSession(db, sessionId);
  if (existing !== null) return existing;
  const lineage = await findLineage(db, session.id);
  const symbol = session.backtestParams?.symbol ?? session.trainingParams?.symbols[0] ?? null;
  const timeframe = session.backtestParams?.timeframe ?? session.trainingParams?.timeframes[0] ?? null;
  const moments = symbol && timeframe ? await familyMoments(db, symbol, timeframe) : { n: 0, sum: 0, sumSquares: 0 };
  const values = experimentRow(session, lineage, () => moments);
  if (values.outcome === 'failed_design') {
    const failure = await designFailureOfSession(db, sessionId, session.failureReason);
    values.design_failure_kind = failure.kind;
    values.design_failure = failure.detail;
  }
  const row = await db.insertInto('agent_experiments').values(values).returning('id').executeTakeFirstOrThrow();
  await tally(db, values);
  return row.id;
}

/**
 * Writes the missing experiments of finished sessions, oldest first (so each DSR counts the trials before it), in
 * batches: 500 sessions read, their rows built with the families' moments kept in memory, one multi-row insert; the
 * tallies are recounted once at the end. Idempotent.
 */
export async function backfillExperiments(db: Kysely<any>): Promise<number> {
  const typed = db as Kysely<Database>;
  const families = new Map<string, FamilyMoments>();
  const family = async (symbol: string, timeframe: string): Promise<FamilyMoments> => {
    const key = `${symbol}\u0000${timeframe}`;
    if (!families.has(key)) families.set(key, await familyMoments(typed, symbol, timeframe));
    return families.get(key)!;
  };
  let written = 0;
  for (;;) {
    const missing = await typed
      .selectFrom('agent_sessions')
      .selectAll()
      .where('outcome', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('agent_experiments').select('id').whereRef('agent_experiments.session_id', '=', 'agent_sessions.id'))),
      )
      .orderBy('completed_at')
      .orderBy('id')
      .limit(500)
      .execute();
    if (missing.length === 0) break;
    const rows: Insertable<AgentExperimentsTable>[] = [];
    for (const raw of missing) {
      const session = toSession(raw);
      const lineage = {
        model: raw.design_model ?? null,
        testsHypothesisId: raw.tests_hypothesis_id ?? null,
        exploration: raw.exploration ?? false,
        parentExperimentId: raw.parent_experiment_id ?? null,
      };
      const symbol = session.backtestParams?.symbol ?? session.trainingParams?.symbols[0] ?? null;
      const timeframe = session.backtestParams?.timeframe ?? session.trainingParams?.timeframes[0] ?? null;
      const moments = symbol && timeframe ? await family(symbol, timeframe) : { n: 0, sum: 0, sumSquares: 0 };
      const row = experimentRow(session, lineage, () => moments);
      if (row.sharpe !== null && row.sharpe !== undefined && symbol && timeframe)
        families.set(`${symbol}\u0000${timeframe}`, withCandidate(moments, row.sharpe));
      rows.push(row);
    }
    await typed
      .insertInto('agent_experiments')
      .values(rows)
      .onConflict((oc) => oc.column('session_id').doNothing())
      .execute();
    written += rows.length;
  }
  if (written > 0) await rebuildTallies(typed);
  return written;
}

export async function experimentIdOfSession(db: Db, sessionId: number): Promise<number | null> {
  const row = await db.selectFrom('agent_experiments').select('id').where('session_id', '=', sessionId).executeTakeFirst();
  return row?.id ?? null;
}

export async function findExperiment(db: Db, id: number): Promise<Experiment | null> {
  const row = await db.selectFrom('agent_experiments').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toExperiment(row) : null;
}

/** The experiments of these sessions (one indexed lookup for a page of them). */
export async function findExperimentsOfSessions(db: Db, sessionIds: readonly number[]): Promise<Experiment[]> {
  if (sessionIds.length === 0) return [];
  const rows = await db.selectFrom('agent_experiments').selectAll().where('session_id', 'in', sessionIds).execute();
  return rows.map(toExperiment);
}

export async function findExperimentOfSession(db: Db, sessionId: number): Promise<Experiment | null> {
  const row = await db.selectFrom('agent_experiments').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
  return row ? toExperiment(row) : null;
}

export async function childrenOf(db: Db, id: number): Promise<Experiment[]> {
  const rows = await db.selectFrom('agent_experiments').selectAll().where('parent_experiment_id', '=', id).orderBy('id').limit(100).execute();
  return rows.map(toExperiment);
}

/**
 * Earlier runs of the same design (fingerprint) on the same symbol and timeframe that produced an answer (training
 * finished and met its gate, for better or worse), newest first. A run that never got that far (a design, a KTRDR
 * or a process failure, a cancel) taught nothing about the design, so it does not forbid running it again.
 */
export async function earlierRunsOfDesign(db: Db, input: { fingerprint: string; symbol: string | null; timeframe: string | null }): Promise<Experiment[]> {
  let query = db.selectFrom('agent_experiments').selectAll().where('fingerprint', '=', input.fingerprint).where('training_gate', 'is not', null);
  query = input.symbol === null ? query.where('symbol', 'is', null) : query.where('symbol', '=', input.symbol);
  query = input.timeframe === null ? query.where('timeframe', 'is', null) : query.where('timeframe', '=', input.timeframe);
  const rows = await query.orderBy('id', 'desc').limit(20).execute();
  return rows.map(toExperiment);
}

export const experimentSortKeys = ['score', 'sharpe', 'deflated_sharpe', 'accuracy', 'win_rate', 'completed_at', 'id'] as const;
export type ExperimentSortKey = (typeof experimentSortKeys)[number];
export const experimentMetrics = ['score', 'sharpe', 'deflated_sharpe', 'accuracy', 'win_rate', 'max_drawdown', 'final_loss', 'total_trades'] as const;
export type ExperimentMetric = (typeof experimentMetrics)[number];

export interface ExperimentQuery {
  outcomes?: SessionOutcome[] | null;
  /** Every one of these indicator types (GIN index on indicator_types). */
  indicators?: string[] | null;
  symbol?: string | null;
  timeframe?: string | null;
  hypothesisId?: number | null;
  designer?: string | null;
  since?: Date | null;
  metric?: { name: ExperimentMetric; min?: number | null; max?: number | null } | null;
  sort?: ExperimentSortKey;
  limit: number;
  offset?: number;
}

/** The filtered, sorted page of experiments behind `experiments` and `query_experiments`. */
export async function queryExperiments(db: Db, query: ExperimentQuery): Promise<{ experiments: Experiment[]; total: number | null }> {
  let q = db.selectFrom('agent_experiments');
  if (query.outcomes && query.outcomes.length > 0) q = q.where('outcome', 'in', query.outcomes);
  if (query.indicators && query.indicators.length > 0)
    q = q.where(sql<boolean>`indicator_types @> ${sql.val(query.indicators.map((i) => i.toLowerCase()))}::text[]`);
  if (query.symbol) q = q.where('symbol', '=', query.symbol);
  if (query.timeframe) q = q.where('timeframe', '=', query.timeframe);
  if (query.hypothesisId !== undefined && query.hypothesisId !== null) q = q.where('hypothesis_id', '=', query.hypothesisId);
  if (query.designer) q = q.where('designer', '=', query.designer);
  if (query.since) q = q.where('completed_at', '>=', query.since);
  if (query.metric) {
    const column = sql.ref(query.metric.name);
    if (query.metric.min !== undefined && query.metric.min !== null) q = q.where(sql<boolean>`${column} >= ${query.metric.min}`);
    if (query.metric.max !== undefined && query.metric.max !== null) q = q.where(sql<boolean>`${column} <= ${query.metric.max}`);
  }
  const sort = query.sort ?? 'completed_at';
  let page = q.selectAll();
  if (sort === 'completed_at') page = page.orderBy('completed_at', 'desc').orderBy('id', 'desc');
  else if (sort === 'id') page = page.orderBy('id', 'desc');
  else {
    // Experiments without the metric sort last; the score sort walks idx_experiments_score.
    page = page.where(sql.ref(sort), 'is not', null).orderBy(sql.ref(sort), 'desc').orderBy('id', 'desc');
  }
  const rows = await page
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
  return { experiments: rows.map(toExperiment), total: null };
}

export async function bestExperiment(db: Db): Promise<Experiment | null> {
  const row = await db
    .selectFrom('agent_experiments')
    .selectAll()
    .where('score', 'is not', null)
    .orderBy('score', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toExperiment(row) : null;
}

/** Every experiment in the memory, from the running tally (experiment-tallies.ts; no count over the table). */
export async function countExperiments(db: Db): Promise<number> {
  const row = await db.selectFrom('agent_experiment_tallies').select('tried').where('dimension', '=', 'total').where('value', '=', '').executeTakeFirst();
  return row ? toNumber(row.tried) : 0;
}

/** A few ids to offer when a tool was given one that does not exist: the best and the newest. */
export async function someExperimentIds(db: Db): Promise<number[]> {
  const best = await db.selectFrom('agent_experiments').select('id').where('score', 'is not', null).orderBy('score', 'desc').limit(5).execute();
  const recent = await db.selectFrom('agent_experiments').select('id').orderBy('id', 'desc').limit(10).execute();
  return [...new Set([...best, ...recent].map((r) => r.id))];
}

/** A design the memory holds, and its score (null unless it passed both gates). */
export interface ScoredDesign {
  id: number;
  strategyName: string | null;
  strategy: Record<string, unknown> | null;
  score: number | null;
}

function toScoredDesign(row: { id: number; strategy_name: string | null; strategy: unknown; score: number | null }): ScoredDesign {
  return { id: row.id, strategyName: row.strategy_name, strategy: fromJson<Record<string, unknown>>(row.strategy), score: row.score };
}

/** The designs of the latest experiments that reached the training gate, newest first. */
export async function recentGatedDesigns(db: Db, limit: number): Promise<ScoredDesign[]> {
  const rows = await db
    .selectFrom('agent_experiments')
    .select(['id', 'strategy_name', 'strategy', 'score'])
    .where('training_gate', 'is not', null)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toScoredDesign);
}

/** The latest designs with these indicators made by other sessions, newest first (the near-copy check reads them). */
export async function designsWithIndicators(db: Db, input: { indicatorKey: string; exceptSessionId: number; limit: number }): Promise<ScoredDesign[]> {
  const rows = await db
    .selectFrom('agent_experiments')
    .select(['id', 'strategy_name', 'strategy', 'score'])
    .where('indicator_key', '=', input.indicatorKey)
    .where('session_id', '!=', input.exceptSessionId)
    .orderBy('id', 'desc')
    .limit(input.limit)
    .execute();
  return rows.map(toScoredDesign);
}
