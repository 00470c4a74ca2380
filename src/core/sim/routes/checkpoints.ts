/** `GET /checkpoints` and `GET /checkpoints/{id}`: what KTRDR keeps of failed or cancelled runs to resume from. */
import { checkpointAt } from '../operations.ts';
import type { SimOperation } from '../operations.ts';
import { detail, iso, json } from '../reply.ts';
import type { Reply } from '../reply.ts';
import type { SimContext } from '../state.ts';

function checkpointState(operation: SimOperation, step: number): Record<string, unknown> {
  const history = operation.training?.history;
  const index = Math.max(0, step - 1);
  return {
    operation_type: operation.type,
    epoch: operation.type === 'training' ? step : null,
    progress_percentage: operation.type === 'backtesting' ? step : null,
    train_loss: history?.trainLoss[index] ?? null,
    val_loss: history?.valLoss[index] ?? null,
  };
}

export function listCheckpoints(ctx: SimContext, query: URLSearchParams): Reply {
  const at = ctx.now();
  const olderThanDays = query.has('older_than_days') ? Number(query.get('older_than_days')) : null;
  const entries = [...ctx.state.operations.values()]
    .map((operation) => ({ operation, checkpoint: checkpointAt(operation, at, ctx.timeScale) }))
    .filter((entry) => entry.checkpoint !== null)
    .filter((entry) => olderThanDays === null || entry.checkpoint!.createdAt <= at - olderThanDays * 86_400_000)
    .sort((a, b) => b.checkpoint!.createdAt - a.checkpoint!.createdAt);
  return json(200, {
    success: true,
    data: entries.map(({ operation, checkpoint }) => ({
      operation_id: operation.id,
      checkpoint_type: checkpoint!.type,
      created_at: iso(checkpoint!.createdAt),
      state_summary: checkpointState(operation, checkpoint!.step),
      artifacts_size_bytes: operation.type === 'training' ? 2_400_000 : 48_000,
    })),
    total_count: entries.length,
  });
}

export function getCheckpoint(ctx: SimContext, id: string): Reply {
  const at = ctx.now();
  const operation = ctx.state.operations.get(id);
  const checkpoint = operation ? checkpointAt(operation, at, ctx.timeScale) : null;
  if (!operation || !checkpoint) return detail(404, `Checkpoint not found: ${id}`);
  const history = operation.training?.history;
  return json(200, {
    success: true,
    data: {
      operation_id: id,
      checkpoint_type: checkpoint.type,
      created_at: iso(checkpoint.createdAt),
      state: {
        ...checkpointState(operation, checkpoint.step),
        training_history:
          operation.type === 'training' && history
            ? { train_loss: history.trainLoss.slice(0, checkpoint.step), val_loss: history.valLoss.slice(0, checkpoint.step) }
            : null,
      },
      artifacts_path: `data/checkpoints/${id}`,
    },
  });
}
