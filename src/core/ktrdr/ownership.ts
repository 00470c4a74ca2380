/**
 * Whether a KTRDR operation is the one this session started. KTRDR answers a repeated training task id with
 * `training_started` while `GET /operations/{id}` returns the OLD operation, and a resumed operation can train
 * the request held in a worker's checkpoint: neither may be read as this session's result.
 */
import { parseServerTime } from './starts.ts';
import type { OperationInfo } from './schemas.ts';
import { isRecord } from '../kernel/records.ts';

/** What this session asked for. */
export interface OperationClaim {
  kind: 'training' | 'backtest';
  strategyName: string;
  symbols: string[];
  timeframes: string[];
  startDate: string;
  endDate: string;
  /** The operation cannot be older than this (ms): the session did not exist before. */
  notBeforeMs: number;
  /** For a backtest: the model it must test. */
  modelPath?: string;
}

/**
 * How far an operation's creation may seem to precede the session once KTRDR's measured clock offset is taken off
 * (the offset is known to about a second; this also covers a KTRDR that answered without a `Date` header).
 */
const clockSkewMs = 120_000;

function day(value: unknown): string | null {
  return typeof value === 'string' && value.length >= 10 ? value.slice(0, 10) : null;
}

function list(value: unknown): string[] | null {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  // The training worker writes `metadata.symbol` as the joined list ("EURUSD,GBPUSD"); "multi" names none.
  if (typeof value === 'string' && value !== '' && value !== 'multi') return value.split(',').map((item) => item.trim());
  return null;
}

function sameSet(a: string[], b: string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((item, index) => item === right[index]);
}

/**
 * The strategy an operation runs, from what KTRDR records: `parameters.strategy_name`, the backtest's
 * `strategy_config_path`, or the `name:` line at the head of the training worker's `strategy_yaml` (its first 100
 * characters, training_worker.py `_execute_training_work`).
 */
export function operationStrategy(operation: Pick<OperationInfo, 'metadata'>): string | null {
  const parameters = isRecord(operation.metadata?.parameters) ? operation.metadata.parameters : {};
  if (typeof parameters.strategy_name === 'string' && parameters.strategy_name !== '') return parameters.strategy_name;
  if (typeof parameters.strategy_config_path === 'string') {
    const file = parameters.strategy_config_path.split(/[\\/]/).pop() ?? '';
    return file.replace(/\.ya?ml$/i, '') || null;
  }
  if (typeof parameters.strategy_yaml === 'string') {
    const match = /^name:\s*['"]?([A-Za-z0-9][A-Za-z0-9_-]*)['"]?\s*$/m.exec(parameters.strategy_yaml);
    // A name cut by the 100-character truncation is not trusted: only a full line counts.
    if (match && parameters.strategy_yaml.includes(`${match[0]}\n`)) return match[1]!;
  }
  return null;
}

/** The strategy a model belongs to: KTRDR saves models as `models/{strategy}/{timeframe}_v{N}` (model_storage.py). */
export function modelStrategy(modelPath: string): string | null {
  const parts = modelPath.split(/[\\/]/).filter((part) => part !== '');
  return parts.length >= 2 ? parts[parts.length - 2]! : null;
}

/**
 * Null when the operation is this session's as far as KTRDR's record shows; otherwise what differs, in words.
 * Facts KTRDR did not record are not held against it; the creation time always is recorded. `clockOffsetMs` is how
 * far KTRDR's clock is ahead of ours (KtrdrClient.clockOffsetMs), taken off its creation time before comparing.
 */
export function ownershipMismatch(operation: OperationInfo, claim: OperationClaim, clockOffsetMs: number | null = null): string | null {
  return ownershipCheck(operation, claim, clockOffsetMs).mismatch;
}

/**
 * The ownership check with what it rests on: `creationTimeOnly` when the creation time is the only fact that
 * differs, which a clock (KTRDR's or ours) can explain as well as a foreign operation can.
 */
export function ownershipCheck(
  operation: OperationInfo,
  claim: OperationClaim,
  clockOffsetMs: number | null = null,
): { mismatch: string | null; creationTimeOnly: boolean } {
  const problems: string[] = [];
  const createdAt = parseServerTime(operation.created_at);
  const createdOnOurClock = createdAt === null ? null : createdAt - (clockOffsetMs ?? 0);
  let creationTimeProblem = false;
  if (createdOnOurClock !== null && createdOnOurClock < claim.notBeforeMs - clockSkewMs) {
    creationTimeProblem = true;
    const offset = clockOffsetMs === null ? "our clock (KTRDR's offset unknown)" : `our clock, KTRDR's measured ${formatOffset(clockOffsetMs)}`;
    problems.push(
      `it was created at ${new Date(createdAt!).toISOString()}, before this session began (${new Date(claim.notBeforeMs).toISOString()}) by ${offset}`,
    );
  }
  const expectedType = claim.kind === 'training' ? 'training' : 'backtesting';
  if (operation.operation_type !== expectedType) problems.push(`it is a ${operation.operation_type} operation, not ${expectedType}`);
  const strategy = operationStrategy(operation);
  if (strategy !== null && strategy !== claim.strategyName) problems.push(`it runs strategy '${strategy}', not '${claim.strategyName}'`);
  const metadata = operation.metadata ?? {};
  const parameters = isRecord(metadata.parameters) ? metadata.parameters : {};
  const symbols = list(parameters.symbols) ?? list(metadata.symbol);
  if (symbols && !sameSet(symbols, claim.symbols)) problems.push(`it uses symbols ${symbols.join(',')}, not ${claim.symbols.join(',')}`);
  const timeframes = list(parameters.timeframes) ?? list(metadata.timeframe);
  if (timeframes && !sameSet(timeframes, claim.timeframes)) problems.push(`it uses timeframes ${timeframes.join(',')}, not ${claim.timeframes.join(',')}`);
  const startDate = day(parameters.start_date) ?? day(metadata.start_date);
  const endDate = day(parameters.end_date) ?? day(metadata.end_date);
  if ((startDate && startDate !== claim.startDate) || (endDate && endDate !== claim.endDate)) {
    problems.push(`its window is ${startDate ?? '?'}..${endDate ?? '?'}, not ${claim.startDate}..${claim.endDate}`);
  }
  // A completed training also says what it trained (result_summary.session_info / data_summary, seen on 2c5c7173):
  // after a resume that took another request from a worker's checkpoint, only these tell.
  const summary = isRecord(operation.result_summary) ? operation.result_summary : {};
  for (const key of ['session_info', 'data_summary'] as const) {
    const facts = summary[key];
    if (claim.kind !== 'training' || !isRecord(facts)) continue;
    if (typeof facts.strategy_name === 'string' && facts.strategy_name !== claim.strategyName) {
      problems.push(`its result is for strategy '${facts.strategy_name}'`);
    }
    const trainedSymbols = list(facts.symbols);
    if (trainedSymbols && !sameSet(trainedSymbols, claim.symbols)) problems.push(`its result is for symbols ${trainedSymbols.join(',')}`);
    const trainedTimeframes = list(facts.timeframes);
    if (trainedTimeframes && !sameSet(trainedTimeframes, claim.timeframes)) problems.push(`its result is for timeframes ${trainedTimeframes.join(',')}`);
    const from = day(facts.start_date);
    const to = day(facts.end_date);
    if ((from && from !== claim.startDate) || (to && to !== claim.endDate)) problems.push(`its result is for the window ${from ?? '?'}..${to ?? '?'}`);
  }
  const modelPath = summary.model_path;
  if (claim.kind === 'training' && typeof modelPath === 'string' && modelPath !== '') {
    const owner = modelStrategy(modelPath);
    if (owner !== null && owner !== claim.strategyName) problems.push(`its model ${modelPath} belongs to strategy '${owner}'`);
  }
  if (claim.kind === 'backtest' && claim.modelPath && typeof parameters.model_path === 'string' && parameters.model_path !== claim.modelPath) {
    problems.push(`it tests model ${parameters.model_path}, not ${claim.modelPath}`);
  }
  if (problems.length === 0) return { mismatch: null, creationTimeOnly: false };
  return { mismatch: [...new Set(problems)].join('; '), creationTimeOnly: creationTimeProblem && problems.length === 1 };
}

/** `5 min 0 s behind ours`, `3 s ahead of ours`. */
export function formatOffset(offsetMs: number): string {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const amount = seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
  return `${amount} ${offsetMs < 0 ? 'behind' : 'ahead of'} ours`;
}
