/** Health and workers: one simulated worker per kind, busy while an operation of its kind is active. */
import { isActive, viewAt } from '../operations.ts';
import type { SimOperationType } from '../operations.ts';
import { detail, iso, json, SIMULATOR_LABEL } from '../reply.ts';
import type { Reply } from '../reply.ts';
import type { SimContext } from '../state.ts';

export function health(): Reply {
  return json(200, { status: 'ok', version: 'simulator', simulator: SIMULATOR_LABEL, orphan_detector: null });
}

export function listWorkers(ctx: SimContext, query: URLSearchParams): Reply {
  if (ctx.faults.noWorkers) return json(200, []);
  const at = ctx.now();
  const busyWith = (type: SimOperationType) =>
    [...ctx.state.operations.values()].find((operation) => {
      const view = viewAt(operation, at, ctx.timeScale);
      return operation.type === type && !view.lost && isActive(view.status);
    })?.id ?? null;
  const workers = [
    { worker_id: 'sim-training-worker-1', worker_type: 'training', endpoint_url: 'http://sim-training-worker:5002', capabilities: { gpu: true, gpu_type: 'simulated', cores: 8, memory_gb: 32 } },
    { worker_id: 'sim-backtest-worker-1', worker_type: 'backtesting', endpoint_url: 'http://sim-backtest-worker:5003', capabilities: { cores: 4, memory_gb: 8 } },
  ].map((worker) => {
    const current = busyWith(worker.worker_type as SimOperationType);
    return {
      ...worker,
      status: current ? 'busy' : 'available',
      current_operation_id: current,
      last_health_check: iso(at),
      last_healthy_at: iso(at),
      health_check_failures: 0,
      metadata: { simulator: SIMULATOR_LABEL },
    };
  });
  const type = query.get('worker_type');
  const status = query.get('status');
  return json(
    200,
    workers.filter((worker) => (type === null || worker.worker_type === type) && (status === null || worker.status === status)),
  );
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
