// Starting a training or a backtest at most once: when an attempt's outcome is unknown, KTRDR is asked whether the
// operation exists before anything is sent again. The endpoints that use this are in client.ts.
import { randomBytes } from 'node:crypto';
import type * as z from 'zod/mini';
import type { KtrdrError } from './errors.ts';
import type { KtrdrRequests, RequestSpec } from './requests.ts';
import type { ListOperationsParams, OperationList, StartBacktestParams, StartedOperation } from './client.ts';
import type { OperationInfo, OperationSummary } from './schemas.ts';

/** How far apart KTRDR's clock and ours may be when matching a backtest started by a lost request. */
const clockSkewAllowanceMs = 120_000;
/** How many recent backtests to look through for one started by a lost request. */
const recentBacktestWindow = 100;

/** An operation id in KTRDR's own format: `op_training_<yyyymmdd_hhmmss>_<8 hex>` (UTC). */
export function newTrainingTaskId(nowMs: number = Date.now()): string {
  const iso = new Date(nowMs).toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `op_training_${stamp}_${randomBytes(4).toString('hex')}`;
}

/**
 * KTRDR writes naive timestamps (no zone) in places; its documented zone is UTC (ktrdr/api/models/operations.py's
 * examples end in `Z`, and ktrdr/api/services/operations_service.py stamps `datetime.now(timezone.utc)`), so they
 * are read as UTC, never as this host's local time.
 */
export function parseServerTime(value: string | null | undefined): number | null {
  if (!value) return null;
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const normalized = hasZone ? value : `${value}Z`;
  const ms = Date.parse(normalized);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * One start with at-most-once semantics: an attempt whose outcome is unknown is followed, before any new attempt,
 * by `findExisting`; an operation found there is the answer. When the check itself fails the start is not
 * repeated, since a second operation is worse than a reported error.
 */
export async function startOnce<S extends z.ZodMiniType>(
  requests: KtrdrRequests,
  spec: RequestSpec,
  schema: S,
  idOf: (response: z.output<S>) => string,
  findExisting: () => Promise<string | null>,
  /** Whether a failed attempt proves nothing was started, so another may be sent when the list shows none. */
  surelyNotStarted: (error: KtrdrError) => boolean = () => true,
): Promise<StartedOperation<z.output<S>>> {
  let lastError: KtrdrError | null = null;
  for (let attempt = 1; ; attempt++) {
    if (lastError !== null) {
      let existing: string | null;
      try {
        existing = await findExisting();
      } catch {
        throw lastError;
      }
      if (existing !== null) return { operationId: existing, recovered: true, response: null };
      if (!surelyNotStarted(lastError)) throw lastError;
    }
    try {
      const response = await requests.send(spec, attempt, schema);
      return { operationId: idOf(response), recovered: false, response };
    } catch (error) {
      lastError = error as KtrdrError;
      if (!requests.mayRetry(lastError, 'idempotent', attempt)) throw lastError;
      await requests.backoff(attempt);
    }
  }
}

/** What finding a lost backtest needs of the client. */
export interface OperationLookup {
  listOperations(params: ListOperationsParams): Promise<OperationList>;
  /** The operation, or null when KTRDR does not know it. */
  findOperation(operationId: string): Promise<OperationInfo | null>;
  clockOffsetMs(): number | null;
}

/** A backtest of these parameters created on KTRDR since `firstAttemptAt` (our clock), newest first; or null. */
export async function findStartedBacktest(ktrdr: OperationLookup, params: StartBacktestParams, firstAttemptAt: number): Promise<string | null> {
  const [active, recent] = await Promise.all([
    ktrdr.listOperations({ operationType: 'backtesting', activeOnly: true, limit: recentBacktestWindow }),
    ktrdr.listOperations({ operationType: 'backtesting', limit: recentBacktestWindow }),
  ]);
  const candidates = new Map<string, OperationSummary>();
  for (const summary of [...active.operations, ...recent.operations]) {
    const createdAt = parseServerTime(summary.created_at);
    // On our clock: KTRDR's time less its measured offset.
    if (createdAt !== null && createdAt - (ktrdr.clockOffsetMs() ?? 0) >= firstAttemptAt - clockSkewAllowanceMs) candidates.set(summary.operation_id, summary);
  }
  const newestFirst = [...candidates.values()].sort((a, b) => (parseServerTime(b.created_at) ?? 0) - (parseServerTime(a.created_at) ?? 0));
  for (const summary of newestFirst) {
    const operation = await ktrdr.findOperation(summary.operation_id);
    if (operation && backtestMatches(operation, params)) return operation.operation_id;
  }
  return null;
}

function datePart(value: unknown): string | null {
  return typeof value === 'string' && value.length >= 10 ? value.slice(0, 10) : null;
}

function strategyNameOf(parameters: Record<string, unknown>): string | null {
  if (typeof parameters.strategy_name === 'string') return parameters.strategy_name;
  const path = parameters.strategy_config_path;
  if (typeof path !== 'string') return null;
  const file = path.split(/[\\/]/).pop() ?? '';
  return file.replace(/\.ya?ml$/i, '');
}

function backtestMatches(operation: OperationInfo, params: StartBacktestParams): boolean {
  const metadata = operation.metadata ?? {};
  const parameters = (metadata.parameters ?? {}) as Record<string, unknown>;
  if (strategyNameOf(parameters) !== params.strategyName) return false;
  const startDate = datePart(metadata.start_date ?? parameters.start_date);
  const endDate = datePart(metadata.end_date ?? parameters.end_date);
  if (startDate !== datePart(params.startDate) || endDate !== datePart(params.endDate)) return false;
  if (params.symbol && metadata.symbol && metadata.symbol !== params.symbol) return false;
  if (params.timeframe && metadata.timeframe && metadata.timeframe !== params.timeframe) return false;
  if (typeof parameters.model_path === 'string' && parameters.model_path !== params.modelPath) return false;
  return true;
}
