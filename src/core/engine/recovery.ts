/**
 * Getting a session's operation going again: a resume from its checkpoint after a failure a resume can fix, or a
 * fresh start after it made no progress. Either way the operation is read back and checked to be this session's
 * (KTRDR's failure checkpoint can hold another request), and nothing of a foreign one is adopted.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { installationId } from '../db/installation.ts';
import type { Session } from '../db/repositories/sessions.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError, ktrdrFaultIn } from '../ktrdr/errors.ts';
import { isTerminalStatus, type OperationStatus } from '../ktrdr/schemas.ts';
import { ownershipMismatch, type OperationClaim } from '../ktrdr/ownership.ts';
import type { PriorRun } from '../ktrdr/results.ts';
import { trainingTaskId } from '../ktrdr/task-id.ts';
import { FRESH_START_CANCEL_PREFIX } from './decide.ts';

/** What the session asked KTRDR for, to check that an operation is the one it started. */
export function sessionClaim(session: Session): OperationClaim | null {
  const notBeforeMs = session.createdAt.getTime();
  if (session.phase === 'training' && session.trainingParams) {
    const p = session.trainingParams;
    return {
      kind: 'training',
      strategyName: p.strategyName,
      symbols: p.symbols,
      timeframes: p.timeframes,
      startDate: p.startDate,
      endDate: p.endDate,
      notBeforeMs,
    };
  }
  if (session.phase === 'backtesting' && session.backtestParams && session.strategyName) {
    const p = session.backtestParams;
    return {
      kind: 'backtest',
      strategyName: session.strategyName,
      symbols: [p.symbol],
      timeframes: [p.timeframe],
      startDate: p.startDate,
      endDate: p.endDate,
      notBeforeMs,
      modelPath: p.modelPath,
    };
  }
  return null;
}

/** The run before a resume, kept in `trainingResults.priorRun` until the training completes. */
export function priorRunOf(session: Session): PriorRun | null {
  const prior = (session.trainingResults as { priorRun?: PriorRun } | null)?.priorRun;
  return prior && typeof prior === 'object' ? prior : null;
}

export type RecoveryOutcome =
  | { kind: 'resumed'; operationId: string; resumedAtEpoch: number | null; priorRun: PriorRun | null }
  | { kind: 'restarted'; operationId: string }
  /** The operation KTRDR now runs under this id is not this session's; it was cancelled when it was ours to cancel. */
  | { kind: 'foreign'; operationId: string; reason: string }
  /** The stalled run could not be cancelled and still runs: no fresh start beside it. */
  | { kind: 'still_running'; operationId: string; reason: string };

async function verify(ktrdr: KtrdrClient, operationId: string, claim: OperationClaim | null): Promise<string | null> {
  if (!claim) return null;
  try {
    const operation = await ktrdr.getOperation(operationId);
    return ownershipMismatch(operation, claim, ktrdr.clockOffsetMs());
  } catch (error) {
    // Not visible yet, or KTRDR failing just now: every later poll checks the same facts before reading a result, and
    // the id came from this session's own call, so it is kept rather than orphaned.
    if ((error instanceof KtrdrError && error.isNotFound) || ktrdrFaultIn(error)) return null;
    throw error;
  }
}

/** The first run's first-epoch loss: after a resume KTRDR reports only the epochs after the resume point. */
async function firstRunInitialLoss(ktrdr: KtrdrClient, operationId: string): Promise<number | null> {
  try {
    const metrics = await ktrdr.getOperationMetrics(operationId);
    const first = metrics.epochs[0];
    return first && first.epoch <= 1 ? first.trainLoss : null;
  } catch {
    return null;
  }
}

export async function resumeAndVerify(ktrdr: KtrdrClient, session: Session, operationId: string): Promise<RecoveryOutcome> {
  const claim = sessionClaim(session);
  const earlier = priorRunOf(session);
  const initialLoss = session.phase === 'training' ? (earlier?.initialLoss ?? (await firstRunInitialLoss(ktrdr, operationId))) : null;
  const resumed = await ktrdr.resumeOperation(operationId);
  const mismatch = await verify(ktrdr, operationId, claim);
  if (mismatch) {
    await ktrdr.cancelOperation(operationId, { reason: `the resume runs another request: ${mismatch}` }).catch(() => undefined);
    return { kind: 'foreign', operationId, reason: mismatch };
  }
  const resumedAtEpoch = typeof resumed.resumed_from?.epoch === 'number' ? resumed.resumed_from.epoch : null;
  const priorRun = session.phase === 'training' ? { initialLoss, resumedAtEpoch } : null;
  return { kind: 'resumed', operationId, resumedAtEpoch, priorRun };
}

async function restartOutcome(ktrdr: KtrdrClient, operationId: string, claim: OperationClaim | null): Promise<RecoveryOutcome> {
  const mismatch = await verify(ktrdr, operationId, claim);
  return mismatch ? { kind: 'foreign', operationId, reason: mismatch } : { kind: 'restarted', operationId };
}

/**
 * After a cancel that failed: why the old run still holds the request (it is live), or null when it has surely ended
 * or KTRDR no longer knows it. A KTRDR fault while asking is thrown (the next pass asks again).
 */
export async function stillLiveAfterFailedCancel(ktrdr: KtrdrClient, operationId: string, cancelError: unknown): Promise<string | null> {
  let status: OperationStatus;
  try {
    status = (await ktrdr.getOperation(operationId)).status;
  } catch (error) {
    if (error instanceof KtrdrError && error.isNotFound) return null;
    throw ktrdrFaultIn(error) ? error : cancelError;
  }
  if (isTerminalStatus(status)) return null;
  const cause = cancelError instanceof Error ? cancelError.message : String(cancelError);
  return `operation ${operationId} could not be cancelled (${cause}) and is still ${status}; the fresh start waits for a pass that can cancel it`;
}

/**
 * A live backtest of the session's request other than `operationId`: the fresh start of a pass that died before it
 * recorded it (a backtest has no task id that KTRDR would answer with the run it already started).
 */
async function liveFreshBacktest(ktrdr: KtrdrClient, claim: OperationClaim, operationId: string): Promise<string | null> {
  const { operations } = await ktrdr.listOperations({ operationType: 'backtesting', activeOnly: true, limit: 100 });
  for (const summary of operations) {
    if (summary.operation_id === operationId) continue;
    const operation = await ktrdr.getOperation(summary.operation_id).catch((error: unknown) => {
      if (error instanceof KtrdrError && error.isNotFound) return null;
      throw error;
    });
    if (operation && !isTerminalStatus(operation.status) && ownershipMismatch(operation, claim, ktrdr.clockOffsetMs()) === null) return operation.operation_id;
  }
  return null;
}

/** Cancels the stalled operation and starts the same request afresh under a new id, never beside a live old run. */
export async function restartAfresh(db: Kysely<Database>, ktrdr: KtrdrClient, session: Session, operationId: string, reason: string): Promise<RecoveryOutcome> {
  // Two live runs of one request must never be: the fresh start waits while the old run cannot be cancelled. The
  // cancel says why, so a pass that finds it cancelled knows a fresh start may be out (decide.ts).
  const cancelReason = `${FRESH_START_CANCEL_PREFIX}${reason}`.slice(0, 500);
  const live = await ktrdr.cancelOperation(operationId, { reason: cancelReason, force: true }).then(
    () => null,
    (error: unknown) => stillLiveAfterFailedCancel(ktrdr, operationId, error),
  );
  if (live !== null) return { kind: 'still_running', operationId, reason: live };
  const claim = sessionClaim(session);
  const freshStart = session.resumeAttempts + 1;
  if (session.phase === 'training' && session.trainingParams) {
    const p = session.trainingParams;
    const started = await ktrdr.startTraining({
      strategyName: p.strategyName,
      symbols: p.symbols,
      timeframes: p.timeframes,
      startDate: p.startDate,
      endDate: p.endDate,
      taskId: trainingTaskId(await installationId(db), session.id, p.strategyName, freshStart),
    });
    return restartOutcome(ktrdr, started.operationId, claim);
  }
  if (session.phase === 'backtesting' && session.backtestParams && session.strategyName) {
    const p = session.backtestParams;
    const adopted = claim ? await liveFreshBacktest(ktrdr, claim, operationId) : null;
    if (adopted) return { kind: 'restarted', operationId: adopted };
    const started = await ktrdr.startBacktest({
      strategyName: session.strategyName,
      modelPath: p.modelPath,
      startDate: p.startDate,
      endDate: p.endDate,
      symbol: p.symbol,
      timeframe: p.timeframe,
    });
    return restartOutcome(ktrdr, started.operationId, claim);
  }
  return { kind: 'foreign', operationId, reason: 'the session has no parameters to start its operation again' };
}
