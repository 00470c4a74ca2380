import type { Session } from '../db/repositories/sessions.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError, ktrdrFaultOf } from '../ktrdr/errors.ts';
import { ownershipMismatch } from '../ktrdr/ownership.ts';
import { flattenBacktestResult, flattenTrainingOperation, operationProgress, type BacktestResult, type TrainingResult } from '../ktrdr/results.ts';
import type { Tracer } from '../kernel/tracer.ts';
import { phaseOperationId } from '../session/model.ts';
import type { OperationObservation } from './decide.ts';
import type { PassLedger } from './pass-ledger.ts';
import { priorRunOf, sessionClaim } from './recovery.ts';

/** One session with what a poll of its KTRDR operation found, and the results once the operation completed. */
export interface Polled {
  session: Session;
  observation: OperationObservation;
  training: TrainingResult | null;
  backtest: BacktestResult | null;
}

function isNotFound(error: unknown): boolean {
  return error instanceof KtrdrError && error.status === 404;
}

function outputFormat(session: Session): string | null {
  const decisions = session.strategyConfig?.decisions as { output_format?: unknown } | undefined;
  return typeof decisions?.output_format === 'string' ? decisions.output_format : null;
}

function epochsConfigured(session: Session): number | null {
  const training = session.strategyConfig?.training as { epochs?: unknown } | undefined;
  return typeof training?.epochs === 'number' ? training.epochs : null;
}

/**
 * Asks KTRDR about the session's operation: its status and progress, whether it is still this session's, and the
 * results once it completed. KTRDR answering (even with a 404) is noted in the ledger.
 */
export async function pollSession(deps: { ktrdr: KtrdrClient; tracer: Tracer; ledger: PassLedger }, session: Session): Promise<Polled> {
  const { ktrdr, ledger } = deps;
  const operationId = phaseOperationId(session);
  if (!operationId) return { session, observation: { kind: 'none' }, training: null, backtest: null };
  return deps.tracer.span('check_operation_status', { 'trigger.session_id': session.id, 'ktrdr.operation_id': operationId }, async (span) => {
    try {
      const operation = await ktrdr.getOperation(operationId);
      ledger.ktrdrReached = true;
      span.setAttributes({ 'ktrdr.operation_status': operation.status });
      const claim = sessionClaim(session);
      const mismatch = claim ? ownershipMismatch(operation, claim, ktrdr.clockOffsetMs()) : null;
      if (mismatch) return { session, observation: { kind: 'foreign', operationId, reason: mismatch }, training: null, backtest: null };
      const completed = operation.status === 'completed';
      return {
        session,
        observation: statusObservation(operation),
        training:
          completed && session.phase === 'training'
            ? flattenTrainingOperation(operation, {
                epochsConfigured: epochsConfigured(session),
                outputFormat: outputFormat(session),
                priorRun: priorRunOf(session),
              })
            : null,
        backtest: completed && session.phase === 'backtesting' ? flattenBacktestResult(operation.result_summary) : null,
      };
    } catch (error) {
      if (isNotFound(error)) {
        ledger.ktrdrReached = true;
        return { session, observation: { kind: 'not_found' }, training: null, backtest: null };
      }
      // Any other KTRDR failure (down, 429, a malformed answer) leaves this session as it is until the next pass;
      // it must not stop the pass for the other sessions.
      if (error instanceof KtrdrError) {
        span.recordError(error);
        const fault = ktrdrFaultOf(error);
        return { session, observation: { kind: 'unreachable', error: fault.cause, faultClass: fault.faultClass }, training: null, backtest: null };
      }
      throw error;
    }
  });
}

/** What an operation KTRDR returned says for a decision: its status, progress and error (decide.ts). */
export function statusObservation(operation: Awaited<ReturnType<KtrdrClient['getOperation']>>): OperationObservation {
  const progress = operationProgress(operation);
  return {
    kind: 'status',
    status: operation.status,
    percentage: progress.percentage,
    currentStep: progress.currentStep,
    errorMessage: operation.error_message ?? null,
  };
}
