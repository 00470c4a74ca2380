/** The operation routes: list, read, results, metrics, and the cancel, resume and retry that change a run. */
import { startRun } from '../fate.ts';
import { operationInfo, summaryOf } from '../operation-info.ts';
import { checkpointAt, isActive, PENDING_SIM_MS, viewAt } from '../operations.ts';
import type { SimOperation, SimStatus } from '../operations.ts';
import { detail, globalError, iso, json, notFound, refused, SIMULATOR_LABEL, validationError } from '../reply.ts';
import { isRecord } from '../../kernel/records.ts';
import type { Reply } from '../reply.ts';
import { newOperationId, visibleOperation } from '../state.ts';
import type { SimContext } from '../state.ts';

const STATUSES: readonly SimStatus[] = ['pending', 'resuming', 'running', 'completed', 'failed', 'cancelled'];
const OPERATION_TYPES = ['training', 'backtesting', 'data_load', 'agent_research', 'agent_design', 'agent_assessment', 'dummy'];

export function listOperations(ctx: SimContext, query: URLSearchParams): Reply {
  const status = query.get('status');
  if (status !== null && !STATUSES.includes(status as SimStatus)) {
    return validationError([{ field: 'query -> status', message: `Input should be ${STATUSES.map((s) => `'${s}'`).join(', ')}`, type: 'enum' }]);
  }
  const type = query.get('operation_type');
  if (type !== null && !OPERATION_TYPES.includes(type)) {
    return validationError([{ field: 'query -> operation_type', message: `Input should be ${OPERATION_TYPES.map((t) => `'${t}'`).join(', ')}`, type: 'enum' }]);
  }
  const limit = query.has('limit') ? Number(query.get('limit')) : 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return validationError([{ field: 'query -> limit', message: 'Input should be an integer from 1 to 1000', type: 'less_than_equal' }]);
  }
  const offset = query.has('offset') ? Number(query.get('offset')) : 0;
  if (!Number.isInteger(offset) || offset < 0) {
    return validationError([{ field: 'query -> offset', message: 'Input should be greater than or equal to 0', type: 'greater_than_equal' }]);
  }
  const activeOnly = query.get('active_only') === 'true';
  const at = ctx.now();
  const all = [...ctx.state.operations.values()]
    .map((operation, index) => ({ operation, index, view: viewAt(operation, at, ctx.timeScale) }))
    .filter((entry) => !entry.view.lost)
    .sort((a, b) => b.operation.createdAt - a.operation.createdAt || b.index - a.index);
  const matching = all.filter(
    (entry) =>
      (status === null || entry.view.status === status) && (type === null || entry.operation.type === type) && (!activeOnly || isActive(entry.view.status)),
  );
  return json(200, {
    success: true,
    data: matching.slice(offset, offset + limit).map((entry) => summaryOf(ctx, entry.operation, at)),
    total_count: matching.length,
    active_count: all.filter((entry) => isActive(entry.view.status)).length,
  });
}

export function getOperation(ctx: SimContext, id: string): Reply {
  const at = ctx.now();
  const operation = visibleOperation(ctx, id, at);
  return operation ? json(200, { success: true, data: operationInfo(ctx, operation, at) }) : notFound(id);
}

/** The simulator's operations have no children; KTRDR's agent operations do. */
export function operationChildren(ctx: SimContext, id: string): Reply {
  return visibleOperation(ctx, id, ctx.now()) ? json(200, { success: true, data: [], total_count: 0, active_count: 0 }) : notFound(id);
}

export function cancelOperation(ctx: SimContext, id: string, body: unknown): Reply {
  if (ctx.faults.cancelFails)
    return globalError(500, 'INTERNAL_SERVER_ERROR', 'Failed to cancel operation', { type: 'SimulatedCancelFailure', simulator: SIMULATOR_LABEL });
  const at = ctx.now();
  const operation = visibleOperation(ctx, id, at);
  if (!operation) return notFound(id);
  const view = viewAt(operation, at, ctx.timeScale);
  if (!isActive(view.status)) return detail(400, `Operation ${id} cannot be cancelled (status: ${view.status})`);
  const reason = isRecord(body) && typeof body.reason === 'string' ? body.reason : null;
  const run = operation.runs[operation.runs.length - 1];
  if (run) run.cancelled = { at, step: view.step, reason };
  return json(200, {
    success: true,
    data: {
      success: true,
      operation_id: id,
      status: 'cancelled',
      cancelled_at: iso(at),
      cancellation_reason: reason,
      task_cancelled: true,
      children_cancelled: 0,
    },
  });
}

export function operationResults(ctx: SimContext, id: string): Reply {
  const at = ctx.now();
  const operation = visibleOperation(ctx, id, at);
  if (!operation) return notFound(id);
  const info = operationInfo(ctx, operation, at);
  if (info.status !== 'completed' && info.status !== 'failed') return detail(400, `Operation not finished (status: ${String(info.status)})`);
  return json(200, {
    success: true,
    operation_id: id,
    operation_type: operation.type,
    status: info.status,
    results: info.result_summary ?? {},
  });
}

export function operationMetrics(ctx: SimContext, id: string): Reply {
  const at = ctx.now();
  const operation = visibleOperation(ctx, id, at);
  if (!operation) return notFound(id);
  const view = viewAt(operation, at, ctx.timeScale);
  const training = operation.training;
  let metrics: Record<string, unknown> = {};
  if (operation.type === 'training' && training && view.step > 0 && !(view.status === 'failed' && view.step === 0)) {
    const count = Math.min(view.step, training.history.trainLoss.length);
    const epochs = Array.from({ length: count }, (_, index) => ({
      epoch: index + 1,
      train_loss: training.history.trainLoss[index],
      val_loss: training.history.valLoss[index],
      train_accuracy: training.history.trainAccuracy[index],
      val_accuracy: training.history.valAccuracy[index],
    }));
    let best = 0;
    epochs.forEach((epoch, index) => {
      if ((epoch.val_loss ?? Infinity) < (epochs[best]?.val_loss ?? Infinity)) best = index;
    });
    metrics = {
      epochs,
      best_epoch: count > 0 ? best + 1 : null,
      is_overfitting: training.overfit > 0.5 && count > training.history.trainLoss.length / 2,
      is_plateaued: training.quality < 0.15 && count >= 10,
      total_epochs_completed: count,
    };
  }
  // KTRDR (2c5c7173) appends each (new metrics, cursor) pair it reads from the worker, so a training's `/metrics`
  // comes back as a nested list: [[[{epoch…}…], cursor], cursor].
  const epochs = Array.isArray(metrics.epochs) ? metrics.epochs : null;
  const body = epochs && epochs.length > 0 ? [[epochs, epochs.length], epochs.length] : metrics;
  return json(200, { success: true, data: { operation_id: id, operation_type: operation.type, metrics: body } });
}

export function resumeOperation(ctx: SimContext, id: string): Reply {
  if (ctx.faults.refuseStarts !== null) return refused(ctx.faults.refuseStarts);
  const at = ctx.now();
  const operation = visibleOperation(ctx, id, at);
  if (!operation) return notFound(id);
  const view = viewAt(operation, at, ctx.timeScale);
  if (view.status !== 'failed' && view.status !== 'cancelled') {
    return detail(409, `Operation ${id} cannot be resumed (status: ${view.status})`);
  }
  const checkpoint = checkpointAt(operation, at, ctx.timeScale);
  if (!checkpoint) {
    // KTRDR marks an operation it cannot resume as FAILED.
    const run = operation.runs[operation.runs.length - 1];
    if (run?.cancelled && view.status === 'cancelled') {
      const step = run.cancelled.step;
      run.cancelled = null;
      run.fate = { kind: 'fail', atStep: step, message: `Cancelled with no checkpoint to resume from (${SIMULATOR_LABEL})`, checkpoint: false };
      // Re-anchor the run so that its failure lands now, at the step where it was cancelled.
      run.startedAt = at - (PENDING_SIM_MS + (step - run.fromStep) * operation.simMsPerStep) / ctx.timeScale;
    }
    return detail(404, `No checkpoint found for operation ${id}`);
  }
  startRun(ctx, operation, at, checkpoint.step, true);
  if (ctx.faults.staleResuming) operation.runs[operation.runs.length - 1]!.staleResume = true;
  return json(200, {
    success: true,
    data: {
      operation_id: id,
      status: 'resuming',
      resumed_from: {
        checkpoint_type: checkpoint.type,
        created_at: iso(checkpoint.createdAt),
        epoch: operation.type === 'training' ? checkpoint.step : null,
      },
    },
  });
}

export function retryOperation(ctx: SimContext, id: string): Reply {
  const at = ctx.now();
  const original = visibleOperation(ctx, id, at);
  if (!original) return notFound(id);
  const status = viewAt(original, at, ctx.timeScale).status;
  if (status !== 'failed') return detail(400, `Operation ${id} cannot be retried (status: ${status})`);
  const newId = newOperationId(ctx, original.type, at);
  const copy: SimOperation = { ...original, id: newId, createdAt: at, runs: [], retryOf: id };
  ctx.designFailures.set(newId, ctx.designFailures.get(id) ?? null);
  ctx.state.operations.set(newId, copy);
  startRun(ctx, copy, at, 0, false);
  return json(200, { success: true, data: operationInfo(ctx, copy, at) });
}
