import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AgentSessionsTable, Database, PhaseChange } from '../database-schema.ts';
import type { Assessment, GateEvaluation, HypothesisStatus, SessionOutcome, SessionPhase } from '../../session/model.ts';
import type { SearchDirective, SearchMode } from '../../research/search-policy.ts';
import { fromJson, toDate, toDateOrNull, toJson, toNumber, withoutNul } from '../values.ts';

export interface OperationProgress {
  percentage: number | null;
  currentStep: string | null;
  status: string;
  seenAt: string;
}

export interface TrainingParams {
  strategyName: string;
  symbols: string[];
  timeframes: string[];
  startDate: string;
  endDate: string;
}

export interface BacktestParams {
  symbol: string;
  timeframe: string;
  startDate: string;
  endDate: string;
  modelPath: string;
}

export interface Session {
  id: number;
  phase: SessionPhase;
  designer: string;
  strategyName: string | null;
  strategyConfig: Record<string, unknown> | null;
  strategyFilePath: string | null;
  trainingOperationId: string | null;
  backtestOperationId: string | null;
  trainingParams: TrainingParams | null;
  backtestParams: BacktestParams | null;
  trainingResults: Record<string, unknown> | null;
  backtestResults: Record<string, unknown> | null;
  trainingGate: GateEvaluation | null;
  backtestGate: GateEvaluation | null;
  assessment: Assessment | null;
  outcome: SessionOutcome | null;
  failureReason: string | null;
  operationProgress: OperationProgress | null;
  progressChangedAt: Date | null;
  resumeAttempts: number;
  invocationAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  tokensInput: number;
  tokensOutput: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  costUsd: number;
  phaseStartedAt: Date;
  phaseHistory: PhaseChange[];
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

type Db = Kysely<Database> | Transaction<Database>;

export function toSession(row: Selectable<AgentSessionsTable>): Session {
  return {
    id: row.id,
    phase: row.phase,
    designer: row.designer,
    strategyName: row.strategy_name,
    strategyConfig: fromJson(row.strategy_config),
    strategyFilePath: row.strategy_file_path,
    trainingOperationId: row.training_operation_id,
    backtestOperationId: row.backtest_operation_id,
    trainingParams: fromJson(row.training_params),
    backtestParams: fromJson(row.backtest_params),
    trainingResults: fromJson(row.training_results),
    backtestResults: fromJson(row.backtest_results),
    trainingGate: fromJson(row.training_gate),
    backtestGate: fromJson(row.backtest_gate),
    assessment: fromJson(row.assessment),
    outcome: row.outcome,
    failureReason: row.failure_reason,
    operationProgress: fromJson(row.operation_progress),
    progressChangedAt: toDateOrNull(row.progress_changed_at),
    resumeAttempts: row.resume_attempts,
    invocationAttempts: row.invocation_attempts,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: toDateOrNull(row.lease_expires_at),
    tokensInput: toNumber(row.tokens_input),
    tokensOutput: toNumber(row.tokens_output),
    tokensCacheRead: toNumber(row.tokens_cache_read),
    tokensCacheWrite: toNumber(row.tokens_cache_write),
    costUsd: toNumber(row.cost_usd),
    phaseStartedAt: toDate(row.phase_started_at),
    phaseHistory: fromJson<PhaseChange[]>(row.phase_history) ?? [],
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    completedAt: toDateOrNull(row.completed_at),
  };
}

export async function findSession(db: Db, id: number): Promise<Session | null> {
  const row = await db.selectFrom('agent_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toSession(row) : null;
}

/**
 * The session's outcome (null while it runs), or undefined when it does not exist. With `lock`, the row is read FOR
 * UPDATE: `cancel` (an UPDATE of this row) waits for the caller's transaction (agent/operator-control.ts).
 */
export async function readSessionOutcome(db: Db, id: number, options: { lock: boolean }): Promise<{ outcome: SessionOutcome | null } | undefined> {
  let query = db.selectFrom('agent_sessions').select('outcome').where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function listActiveSessions(db: Db): Promise<Session[]> {
  const rows = await db.selectFrom('agent_sessions').selectAll().where('outcome', 'is', null).orderBy('id').execute();
  return rows.map(toSession);
}

export async function countActiveSessions(db: Db): Promise<number> {
  const row = await db
    .selectFrom('agent_sessions')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('outcome', 'is', null)
    .executeTakeFirstOrThrow();
  return toNumber(row.count as string | number);
}

export async function createSession(db: Db, input: { designer: string; now: Date; leaseOwner: string; leaseExpiresAt: Date }): Promise<Session> {
  const row = await db
    .insertInto('agent_sessions')
    .values({
      phase: 'designing',
      designer: input.designer,
      phase_started_at: input.now,
      created_at: input.now,
      updated_at: input.now,
      lease_owner: input.leaseOwner,
      lease_expires_at: input.leaseExpiresAt,
      invocation_attempts: 1,
      phase_history: JSON.stringify([{ phase: 'designing', at: input.now.toISOString() }]),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSession(row);
}

export interface SessionChanges {
  phase?: SessionPhase;
  strategyName?: string;
  strategyConfig?: unknown;
  strategyFilePath?: string;
  trainingOperationId?: string;
  backtestOperationId?: string;
  trainingParams?: TrainingParams;
  backtestParams?: BacktestParams;
  trainingResults?: unknown;
  backtestResults?: unknown;
  trainingGate?: GateEvaluation;
  backtestGate?: GateEvaluation;
  assessment?: Assessment;
  operationProgress?: OperationProgress | null;
  progressChangedAt?: Date | null;
  resumeAttempts?: number;
  invocationAttempts?: number;
  lease?: { owner: string; expiresAt: Date } | null;
}

/**
 * Applies changes to an active session; a phase change restarts the phase clock and the invocation count.
 * Returns false when the session has already ended (cancelled meanwhile, say).
 */
export async function updateSession(db: Db, id: number, changes: SessionChanges, now: Date): Promise<boolean> {
  const values: Record<string, unknown> = { updated_at: now };
  if (changes.phase !== undefined) {
    values.phase = changes.phase;
    values.phase_history = sql`phase_history || ${JSON.stringify([{ phase: changes.phase, at: now.toISOString() }])}::jsonb`;
    values.phase_started_at = now;
    values.operation_progress = null;
    values.progress_changed_at = now;
    values.resume_attempts = 0;
    values.invocation_attempts = 0;
  }
  const json: [keyof SessionChanges, string][] = [
    ['strategyConfig', 'strategy_config'],
    ['trainingParams', 'training_params'],
    ['backtestParams', 'backtest_params'],
    ['trainingResults', 'training_results'],
    ['backtestResults', 'backtest_results'],
    ['trainingGate', 'training_gate'],
    ['backtestGate', 'backtest_gate'],
    ['assessment', 'assessment'],
    ['operationProgress', 'operation_progress'],
  ];
  for (const [key, column] of json) if (changes[key] !== undefined) values[column] = toJson(changes[key]);
  const plain: [keyof SessionChanges, string][] = [
    ['strategyName', 'strategy_name'],
    ['strategyFilePath', 'strategy_file_path'],
    ['trainingOperationId', 'training_operation_id'],
    ['backtestOperationId', 'backtest_operation_id'],
    ['progressChangedAt', 'progress_changed_at'],
    ['resumeAttempts', 'resume_attempts'],
    ['invocationAttempts', 'invocation_attempts'],
  ];
  for (const [key, column] of plain) if (changes[key] !== undefined) values[column] = changes[key];
  if (changes.lease !== undefined) {
    values.lease_owner = changes.lease?.owner ?? null;
    values.lease_expires_at = changes.lease?.expiresAt ?? null;
  }
  const result = await db.updateTable('agent_sessions').set(values).where('id', '=', id).where('outcome', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Takes an active session's invocation lease only if it is free: unowned, already this owner's, or expired. A
 * compare-and-set in one statement, and only in the phase the caller decided on: two passes can never both hold it,
 * and a pass that decided on a phase another pass has since left does not invoke for it again.
 */
export async function takeLease(db: Db, id: number, lease: { owner: string; expiresAt: Date }, now: Date, expected: { phase: SessionPhase }): Promise<boolean> {
  const result = await db
    .updateTable('agent_sessions')
    .set({ lease_owner: lease.owner, lease_expires_at: lease.expiresAt, updated_at: now })
    .where('id', '=', id)
    .where('outcome', 'is', null)
    .where('phase', '=', expected.phase)
    .where((eb) =>
      eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', lease.owner), eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends a session: IDLE with its outcome. Returns false when it had already ended. */
export async function finishSession(db: Db, id: number, input: { outcome: SessionOutcome; failureReason: string | null; now: Date }): Promise<boolean> {
  const result = await db
    .updateTable('agent_sessions')
    .set({
      phase: 'idle',
      outcome: input.outcome,
      failure_reason: input.failureReason === null ? null : withoutNul(input.failureReason),
      completed_at: input.now,
      updated_at: input.now,
      phase_history: sql`phase_history || ${JSON.stringify([{ phase: 'idle', at: input.now.toISOString() }])}::jsonb`,
      lease_owner: null,
      lease_expires_at: null,
    })
    .where('id', '=', id)
    .where('outcome', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function addSessionUsage(
  db: Db,
  id: number,
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number; costUsd: number },
): Promise<void> {
  await db
    .updateTable('agent_sessions')
    .set({
      tokens_input: sql`tokens_input + ${usage.input}`,
      tokens_output: sql`tokens_output + ${usage.output}`,
      tokens_cache_read: sql`tokens_cache_read + ${usage.cacheRead}`,
      tokens_cache_write: sql`tokens_cache_write + ${usage.cacheWrite}`,
      cost_usd: sql`cost_usd + ${usage.costUsd}`,
    })
    .where('id', '=', id)
    .execute();
}

export interface RecentStrategy {
  sessionId: number;
  strategyName: string | null;
  outcome: SessionOutcome | null;
  failureReason: string | null;
  indicators: string[];
  hypothesis: string | null;
  accuracy: number | null;
  sharpe: number | null;
  winRate: number | null;
  verdict: string | null;
  completedAt: Date | null;
}

/** The last finished sessions, newest first, in the compact shape the designer reads. */
export async function recentStrategies(db: Db, limit: number): Promise<RecentStrategy[]> {
  if (limit <= 0) return [];
  const rows = await db
    .selectFrom('agent_sessions')
    .selectAll()
    .where('completed_at', 'is not', null)
    .orderBy('completed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toSession).map((s) => {
    const config = s.strategyConfig ?? {};
    const indicators =
      config.indicators && typeof config.indicators === 'object' && !Array.isArray(config.indicators)
        ? Object.entries(config.indicators as Record<string, { type?: string }>).map(([id, v]) => `${id}:${v?.type ?? '?'}`)
        : [];
    const training = s.trainingResults as { accuracy?: number | null } | null;
    const backtest = s.backtestResults as { sharpe?: number | null; winRate?: number | null } | null;
    return {
      sessionId: s.id,
      strategyName: s.strategyName,
      outcome: s.outcome,
      failureReason: s.failureReason,
      indicators,
      hypothesis: typeof config.hypothesis === 'string' ? config.hypothesis : null,
      accuracy: training?.accuracy ?? null,
      sharpe: backtest?.sharpe ?? null,
      winRate: backtest?.winRate ?? null,
      verdict: s.assessment?.verdict ?? null,
      completedAt: s.completedAt,
    };
  });
}

/**
 * Frees every invocation lease still held on an unfinished session. Only for a store one process owns outright (the
 * demo's sandbox, after an interrupt): elsewhere a lease may belong to a live pass on another host.
 */
export async function releaseAllLeases(db: Db, now: Date): Promise<number[]> {
  const rows = await db
    .updateTable('agent_sessions')
    .set({ lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('outcome', 'is', null)
    .where('lease_owner', 'is not', null)
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

export interface Lineage {
  model: string | null;
  testsHypothesisId: number | null;
  exploration: boolean;
  parentExperimentId: number | null;
}

export async function findLineage(db: Db, sessionId: number): Promise<Lineage> {
  const row = await db
    .selectFrom('agent_sessions')
    .select(['design_model', 'tests_hypothesis_id', 'exploration', 'parent_experiment_id'])
    .where('id', '=', sessionId)
    .executeTakeFirst();
  return {
    model: row?.design_model ?? null,
    testsHypothesisId: row?.tests_hypothesis_id ?? null,
    exploration: row?.exploration ?? false,
    parentExperimentId: row?.parent_experiment_id ?? null,
  };
}

/** Written by save_strategy_config with the strategy: what the design tests and what it builds on. */
export async function recordLineage(db: Db, sessionId: number, lineage: Lineage): Promise<void> {
  await db
    .updateTable('agent_sessions')
    .set({
      design_model: lineage.model,
      tests_hypothesis_id: lineage.testsHypothesisId,
      exploration: lineage.exploration,
      parent_experiment_id: lineage.parentExperimentId,
    })
    .where('id', '=', sessionId)
    .execute();
}

/** Remembers the status the assessing model is being shown for the hypothesis its session tests (see applyModelVerdict). */
export async function recordStatusShown(db: Db, sessionId: number, status: HypothesisStatus): Promise<void> {
  await db.updateTable('agent_sessions').set({ hypothesis_status_shown: status }).where('id', '=', sessionId).execute();
}

/** The hypothesis a session tests (null: none) and the status its assessing model was shown; undefined without the session. */
export async function findHypothesisTest(
  db: Db,
  sessionId: number,
): Promise<{ hypothesisId: number | null; statusShown: HypothesisStatus | null } | undefined> {
  const row = await db.selectFrom('agent_sessions').select(['tests_hypothesis_id', 'hypothesis_status_shown']).where('id', '=', sessionId).executeTakeFirst();
  return row ? { hypothesisId: row.tests_hypothesis_id, statusShown: row.hypothesis_status_shown } : undefined;
}

/** Whether a live session other than `exceptSessionId` tests the hypothesis. */
export async function anotherLiveSessionTests(db: Db, hypothesisId: number, exceptSessionId: number): Promise<boolean> {
  const row = await db
    .selectFrom('agent_sessions')
    .select('id')
    .where('tests_hypothesis_id', '=', hypothesisId)
    .where('outcome', 'is', null)
    .where('id', '!=', exceptSessionId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Experiments active sessions were told to refine: a new cycle's exploit target must be another. */
export async function claimedSearchTargets(db: Db): Promise<Set<number>> {
  const rows = await db
    .selectFrom('agent_sessions')
    .select('search_target_experiment_id')
    .where('outcome', 'is', null)
    .where('search_target_experiment_id', 'is not', null)
    .execute();
  return new Set(rows.map((row) => row.search_target_experiment_id!));
}

/** What a session was told, and what became of it. */
export interface SessionSearch {
  mode: SearchMode;
  targetExperimentId: number | null;
  directive: SearchDirective & {
    /** Set when the directive could not be followed as given (its experiment is gone): why it fell back to exploring. */
    fallback?: string;
    /** What the policy asked before a fallback. */
    asked?: { mode: SearchMode; parentExperimentId: number | null };
  };
  declined: string | null;
}

/** Records the cycle's directive; the exploit target's claim is the session's `search_target_experiment_id`. */
export async function recordSearchDirective(db: Db, sessionId: number, directive: SearchDirective): Promise<void> {
  await db
    .updateTable('agent_sessions')
    .set({ search_mode: directive.mode, search_target_experiment_id: directive.parentExperimentId, search_directive: toJson(directive) })
    .where('id', '=', sessionId)
    .execute();
}

export async function findSessionSearch(db: Db, sessionId: number): Promise<SessionSearch | null> {
  const row = await db
    .selectFrom('agent_sessions')
    .select(['search_mode', 'search_target_experiment_id', 'search_directive', 'search_declined'])
    .where('id', '=', sessionId)
    .executeTakeFirst();
  const directive = fromJson<SessionSearch['directive']>(row?.search_directive ?? null);
  if (!row || !directive || (row.search_mode !== 'explore' && row.search_mode !== 'exploit')) return null;
  return { mode: row.search_mode, targetExperimentId: row.search_target_experiment_id, directive, declined: row.search_declined };
}

/** The directive's experiment is gone: the cycle explores instead, the reason kept with what was asked. */
export async function recordSearchFallback(db: Db, sessionId: number, search: SessionSearch, reason: string): Promise<SessionSearch> {
  const directive = {
    ...search.directive,
    mode: 'explore' as const,
    parentExperimentId: null,
    fallback: reason,
    asked: { mode: search.mode, parentExperimentId: search.targetExperimentId },
  };
  await db
    .updateTable('agent_sessions')
    .set({ search_mode: 'explore', search_target_experiment_id: null, search_directive: toJson(directive) })
    .where('id', '=', sessionId)
    .execute();
  return { ...search, mode: 'explore', targetExperimentId: null, directive };
}

/** A designer's stated reason for not following the directive: recorded, never an error. */
export async function recordSearchDecline(db: Db, sessionId: number, reason: string): Promise<void> {
  await db.updateTable('agent_sessions').set({ search_declined: reason }).where('id', '=', sessionId).execute();
}
