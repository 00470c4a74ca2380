/** Which route answers a request under `/api/v1`, by method and path (the prefix already taken off). */
import { detail } from './reply.ts';
import type { Reply } from './reply.ts';
import { startBacktest } from './routes/backtests.ts';
import { getCheckpoint, listCheckpoints } from './routes/checkpoints.ts';
import { dataRangeReply, listIndicators, listSymbols, redirectIndicators } from './routes/data.ts';
import {
  cancelOperation,
  getOperation,
  listOperations,
  operationChildren,
  operationMetrics,
  operationResults,
  resumeOperation,
  retryOperation,
} from './routes/operations.ts';
import { validateStrategyReply } from './routes/strategies.ts';
import { startTraining } from './routes/trainings.ts';
import { health, listWorkers } from './routes/workers.ts';
import type { SimContext } from './state.ts';

type OperationRoute = (ctx: SimContext, id: string, body: unknown) => Reply;
type FixedRoute = (ctx: SimContext, query: URLSearchParams, body: unknown) => Reply | Promise<Reply>;

/** Keyed by method and the action after `/operations/{id}` (empty for the operation itself). */
const OPERATION_ROUTES = new Map<string, OperationRoute>([
  ['GET ', getOperation],
  ['DELETE ', cancelOperation],
  ['GET results', operationResults],
  ['GET metrics', operationMetrics],
  ['POST resume', resumeOperation],
  ['POST retry', retryOperation],
  ['GET children', operationChildren],
]);

const FIXED_ROUTES = new Map<string, FixedRoute>([
  ['GET /health', health],
  ['POST /trainings/start', (ctx, _query, body) => startTraining(ctx, body)],
  ['POST /backtests/start', (ctx, _query, body) => startBacktest(ctx, body)],
  ['GET /operations', listOperations],
  ['GET /checkpoints', listCheckpoints],
  ['GET /indicators/', listIndicators],
  ['GET /indicators', redirectIndicators],
  ['GET /symbols', listSymbols],
  ['POST /data/range', (ctx, _query, body) => dataRangeReply(ctx, body)],
  ['GET /workers', listWorkers],
]);

export async function routeApi(ctx: SimContext, method: string, path: string, query: URLSearchParams, body: unknown): Promise<Reply> {
  const operationMatch = /^\/operations\/([^/]+)(?:\/(results|metrics|resume|retry|children))?$/.exec(path);
  if (operationMatch) {
    const id = decodeURIComponent(operationMatch[1]!);
    const route = OPERATION_ROUTES.get(`${method} ${operationMatch[2] ?? ''}`);
    return route ? route(ctx, id, body) : detail(405, 'Method Not Allowed');
  }
  const checkpointMatch = /^\/checkpoints\/([^/]+)$/.exec(path);
  if (checkpointMatch && method === 'GET') return getCheckpoint(ctx, decodeURIComponent(checkpointMatch[1]!));
  const validateMatch = /^\/strategies\/validate\/([^/]+)$/.exec(path);
  if (validateMatch && method === 'POST') return validateStrategyReply(ctx, decodeURIComponent(validateMatch[1]!));
  const route = FIXED_ROUTES.get(`${method} ${path}`);
  return route ? route(ctx, query, body) : detail(404, 'Not Found');
}
