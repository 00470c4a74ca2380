/** Health and workers: a pool of simulated workers per kind (one each by default), busy while running an operation. */
import { isActive, viewAt } from '../operations.ts';
import type { SimOperationType } from '../operations.ts';
import { detail, iso, json, SIMULATOR_LABEL } from '../reply.ts';
import type { Reply } from '../reply.ts';
import type { SimContext } from '../state.ts';

export function health(): Reply {
  return json(200, { status: 'ok', version: 'simulator', simulator: SIMULATOR_LABEL, orphan_detector: null });
}

/** The operations of one kind holding a worker now, oldest first (a lost operation frees its worker). */
function activeOperations(ctx: SimContext, type: SimOperationType, at: number): string[] {
  return [...ctx.state.operations.values()]
    .filter((operation) => {
      const view = viewAt(operation, at, ctx.timeScale);
      return operation.type === type && !view.lost && isActive(view.status);
    })
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((operation) => operation.id);
}

const workerShapes: Record<SimOperationType, { name: string; port: number; capabilities: Record<string, unknown> }> = {
  training: { name: 'training', port: 5002, capabilities: { gpu: true, gpu_type: 'simulated', cores: 8, memory_gb: 32 } },
  backtesting: { name: 'backtest', port: 5003, capabilities: { cores: 4, memory_gb: 8 } },
};

export function listWorkers(ctx: SimContext, query: URLSearchParams): Reply {
  if (ctx.faults.workersMissing) return detail(404, 'Not Found');
  if (ctx.faults.workersMalformed) return json(200, { workers: 'unavailable', simulator: SIMULATOR_LABEL });
  if (ctx.faults.noWorkers) return json(200, []);
  const at = ctx.now();
  const workers = (['training', 'backtesting'] as const).flatMap((type) => {
    const active = activeOperations(ctx, type, at);
    const shape = workerShapes[type];
    // Without a pool the one worker shows the oldest active operation, however many run (no start is ever refused).
    const count = ctx.workers ? ctx.workers[type] : 1;
    return Array.from({ length: count }, (_, index) => {
      const current = active[index] ?? null;
      return {
        worker_id: `sim-${shape.name}-worker-${index + 1}`,
        worker_type: type,
        endpoint_url: `http://sim-${shape.name}-worker-${index + 1}:${shape.port}`,
        capabilities: shape.capabilities,
        status: current ? 'busy' : 'available',
        current_operation_id: current,
        last_health_check: iso(at),
        last_healthy_at: iso(at),
        health_check_failures: 0,
        metadata: { simulator: SIMULATOR_LABEL },
      };
    });
  });
  const type = query.get('worker_type');
  const status = query.get('status');
  return json(
    200,
    workers.filter((worker) => (type === null || worker.worker_type === type) && (status === null || worker.status === status)),
  );
}

/**
 * KTRDR's 503 when every registered worker of the kind is busy (ktrdr/api/services/training_service.py at 2c5c7173:
 * "All training workers are currently busy"); null when one is free or the simulator has no pool.
 */
export function allWorkersBusy(ctx: SimContext, workerType: SimOperationType): Reply | null {
  if (!ctx.workers) return null;
  const registered = ctx.workers[workerType];
  if (activeOperations(ctx, workerType, ctx.now()).length < registered) return null;
  return detail(503, {
    error: `No ${workerType} workers available`,
    worker_type: workerType,
    registered_workers: registered,
    backend_uptime_seconds: Math.round((ctx.now() - ctx.startedAt) / 1000),
    hint: `All ${workerType} workers are currently busy. Retry in a few seconds.`,
  });
}

/** KTRDR's 503 to a start when no worker of its kind has registered. */
export function workerUnavailable(ctx: SimContext, workerType: 'training' | 'backtesting'): Reply {
  return detail(503, {
    error: `No ${workerType} workers available`,
    worker_type: workerType,
    registered_workers: 0,
    backend_uptime_seconds: Math.round((ctx.now() - ctx.startedAt) / 1000),
    hint: `Start a ${workerType} worker and let it register with the backend (in the simulator: POST /__sim/faults {"noWorkers": false})`,
  });
}
