import { randomBytes } from 'node:crypto';
import type Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import {
  insertSubmittingBatch,
  markBatchEnded,
  markBatchInProgress,
  setBatchStatus,
  type BatchResultType,
  type OpenBatch,
} from '../db/repositories/message-batches.ts';
import { bookedUsd, formatUsd } from '../budget/money.ts';
import type { InvocationPurpose } from '../session/model.ts';
import { messageProblem, type InvocationBudget } from './budgeted-call.ts';
import { costOfBatchUsage, UnpricedUsageError, type ModelPrice } from '../budget/pricing.ts';

// Message Batches (https://platform.claude.com/docs/build-with-claude/batch-processing, checked 2026-12-01): a
// batch is billed at 50% of the standard price, most end within an hour, one that has not ended after 24 hours
// expires, and results stay downloadable for 29 days. The agent batches only the first call of an invocation: a
// tool-use loop needs each answer before it can ask the next question, so every later call would cost another
// tick (5 minutes or more) per turn. Backtest and assessment usually take that one call; design's later calls go
// out directly once the batched first answer is in. The rows are db/repositories/message-batches.ts.

/** custom_id: `^[a-zA-Z0-9_-]{1,64}$` (Create a Message Batch reference); the random part makes it provably ours. */
export function newCustomId(sessionId: number, purpose: InvocationPurpose): string {
  return `ktrdr-agent-s${sessionId}-${purpose}-${randomBytes(8).toString('hex')}`;
}

export type BatchCollection =
  | { kind: 'pending'; reason: string }
  | { kind: 'answered'; message: Message; costUsd: number; requestId: string | null }
  /** Settled at $0 (or at its usage) without an answer the invocation can use; `retryDirect` says to call directly. */
  | { kind: 'unanswered'; reason: string; retryDirect: boolean; apiError?: { type: string; message: string } }
  | { kind: 'unpriced'; reason: string };

export interface BatchDeps {
  db: Kysely<Database>;
  client: Anthropic;
  budget: InvocationBudget;
  price: ModelPrice;
  now: () => Date;
}

/**
 * Records the call, holds its worst case at the batch price, then creates the batch. The row comes first, so a
 * crash after the API created the batch leaves its custom_id for `collectBatch` to find it by.
 */
export async function submitBatch(
  deps: BatchDeps,
  input: { sessionId: number; purpose: InvocationPurpose; model: string; firstMessage: string; request: MessageCreateParamsNonStreaming; reservedUsd: number },
): Promise<
  { kind: 'submitted'; batchId: string; expiresAt: Date } | { kind: 'budget_exhausted' } | { kind: 'failed'; error: unknown; billing: 'not_billed' | 'unknown' }
> {
  const reservation = await deps.budget.reserve(input.reservedUsd);
  if (reservation === null) return { kind: 'budget_exhausted' };
  const customId = newCustomId(input.sessionId, input.purpose);
  const rowId = await insertSubmittingBatch(deps.db, {
    sessionId: input.sessionId,
    purpose: input.purpose,
    customId,
    model: input.model,
    firstMessage: input.firstMessage,
    reservationId: reservation.id,
    // As the ledger booked it (rounded up), so a reservation kept as the estimate settles at what was held.
    reservedUsd: bookedUsd(input.reservedUsd),
    createdAt: deps.now(),
  });
  try {
    const batch = await deps.client.messages.batches.create({ requests: [{ custom_id: customId, params: input.request }] }, { maxRetries: 0 });
    const expiresAt = new Date(batch.expires_at);
    await markBatchInProgress(deps.db, rowId, { batchId: batch.id, submittedAt: deps.now(), expiresAt });
    return { kind: 'submitted', batchId: batch.id, expiresAt };
  } catch (error) {
    const { classifyAttemptFailure } = await import('./anthropic-client.ts');
    const failure = classifyAttemptFailure(error);
    if (failure.billing === 'not_billed') {
      // The API refused or never saw it: no batch exists, nothing is held.
      const unsupported = failure.status === 404 || failure.status === 405;
      const detail = unsupported
        ? `warning: the Message Batches endpoint is not available here (${failure.reason}); this pass sends the calls directly`
        : failure.reason;
      await endBatchRow(deps, { id: rowId, reservationId: reservation.id, sessionId: input.sessionId }, 'lost', 0, detail);
    }
    // Otherwise the row stays `submitting`: the batch may exist, and the next pass looks it up by custom_id.
    return { kind: 'failed', error, billing: failure.billing };
  }
}

async function endBatchRow(
  deps: BatchDeps,
  batch: Pick<OpenBatch, 'id' | 'reservationId' | 'sessionId'>,
  resultType: BatchResultType,
  settledUsd: number,
  detail: string,
  settlement: {
    usage?: { input: number; output: number; cacheRead: number; cacheWrite: number };
    estimated?: boolean;
    requestId?: string | null;
    ranAt?: { inference_geo?: string | null; service_tier?: string | null };
  } = {},
): Promise<void> {
  await deps.budget.settle(batch.reservationId, settledUsd, settlement.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, {
    estimated: settlement.estimated ?? false,
    ...(settlement.requestId ? { requestId: settlement.requestId } : {}),
    ...(settlement.ranAt?.inference_geo ? { inferenceGeo: settlement.ranAt.inference_geo } : {}),
    ...(settlement.ranAt?.service_tier ? { serviceTier: settlement.ranAt.service_tier } : {}),
  });
  // The amount the reservation was settled at (rounded up to the micro-dollar), so the row and the budget agree.
  await markBatchEnded(deps.db, batch.id, { endedAt: deps.now(), resultType, settledUsd: bookedUsd(settledUsd), detail });
}

/** How long past its expires_at a batch the API left open is waited for before it is cancelled and settled. */
export const BATCH_EXPIRY_GRACE_MS = 60 * 60_000;

/** How far back (and forward) of the row's time a lost create call's batch is looked for, against clock skew. */
const LOOKUP_MARGIN_MS = 10 * 60_000;

/**
 * Finds the batch of a row whose create call was cut off: the workspace's batches created around the row's time,
 * each ended one read for our custom_id. `undetermined` while a candidate is still processing (its requests are
 * not readable until it ends); `absent` when none holds it, so the create never happened.
 */
async function lookUpLostBatch(deps: BatchDeps, batch: OpenBatch): Promise<{ kind: 'found'; batchId: string } | { kind: 'undetermined' } | { kind: 'absent' }> {
  const from = batch.createdAt.getTime() - LOOKUP_MARGIN_MS;
  const to = batch.createdAt.getTime() + LOOKUP_MARGIN_MS;
  let undetermined = false;
  for await (const candidate of deps.client.messages.batches.list({ limit: 100 }, { maxRetries: 0 })) {
    const createdAt = Date.parse(candidate.created_at);
    if (createdAt < from) break;
    if (createdAt > to) continue;
    if (candidate.processing_status !== 'ended') {
      undetermined = true;
      continue;
    }
    const results = await deps.client.messages.batches.results(candidate.id, {}, { maxRetries: 0 });
    for await (const line of results) if (line.custom_id === batch.customId) return { kind: 'found', batchId: candidate.id };
  }
  return undetermined ? { kind: 'undetermined' } : { kind: 'absent' };
}

/**
 * Polls the session's batch; once it ended, books its result at the batch price and says what the invocation does
 * next. Results are matched by custom_id only: a line without ours is not adopted.
 */
export async function collectBatch(deps: BatchDeps, batch: OpenBatch): Promise<BatchCollection> {
  let batchId = batch.batchId;
  if (batchId === null) {
    const lookup = await lookUpLostBatch(deps, batch);
    if (lookup.kind === 'undetermined') {
      return {
        kind: 'pending',
        reason: `the create call of ${batch.customId} was cut off; a batch created then is still processing, so whether it is ours is read once it ends`,
      };
    }
    if (lookup.kind === 'absent') {
      const reason = `the create call of ${batch.customId} was cut off and no batch holds it: it was never created`;
      await endBatchRow(deps, batch, 'lost', 0, reason);
      return { kind: 'unanswered', reason, retryDirect: false };
    }
    batchId = lookup.batchId;
    await markBatchInProgress(deps.db, batch.id, { batchId, submittedAt: batch.createdAt });
  }
  const state = await deps.client.messages.batches.retrieve(batchId, {}, { maxRetries: 0 }).catch(async (error: unknown) => {
    const { NotFoundError } = await import('@anthropic-ai/sdk');
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  if (state === null) {
    // Gone (deleted, or archived after 29 days): what it was billed is unknown, so the reservation is kept as an estimate.
    const reason = `batch ${batchId} is unknown to the API (404); its reservation is kept as an estimate`;
    await endBatchRow(deps, batch, 'lost', batch.reservedUsd, reason, { estimated: true });
    return { kind: 'unanswered', reason, retryDirect: true };
  }
  if (state.processing_status !== 'ended') {
    const expiresAt = Date.parse(state.expires_at);
    if (Number.isFinite(expiresAt) && deps.now().getTime() > expiresAt + BATCH_EXPIRY_GRACE_MS) {
      // The API ends every batch by expires_at (24 hours); one still open well past it would hold the session and
      // its reservation for ever. It is cancelled and settled at $0: an expired request is not billed (batch docs).
      await deps.client.messages.batches.cancel(batchId, {}, { maxRetries: 0 }).catch(() => undefined);
      const reason = `batch ${batchId} was still ${state.processing_status} ${Math.round((deps.now().getTime() - expiresAt) / 60_000)} minutes after it expired (${state.expires_at}); it was cancelled and settled at $0`;
      await endBatchRow(deps, batch, 'expired', 0, reason);
      return { kind: 'unanswered', reason, retryDirect: true };
    }
    return { kind: 'pending', reason: `batch ${batchId} is ${state.processing_status} (expires ${state.expires_at})` };
  }
  const results = await deps.client.messages.batches.results(batchId, {}, { maxRetries: 0 });
  let result: MessageBatchIndividualResponse | undefined;
  for await (const line of results) {
    if (line.custom_id === batch.customId) {
      result = line;
      break;
    }
  }
  if (result === undefined) {
    // Ended without our line: a fault of the API, not of the request, so the invocation is sent again. The batch
    // holds our one request only, so its counts say whether it was billed: a succeeded count means it ran (its
    // reservation is kept as an estimate); none means it never did ($0).
    const billed = (state.request_counts?.succeeded ?? 0) > 0;
    const reason = `batch ${batchId} ended without a result line for ${batch.customId}; ${billed ? 'the API counts it as succeeded, so its reservation is kept as an estimate' : 'the API counts no success for it, so $0 is booked'}; the call is sent again`;
    await endBatchRow(deps, batch, 'lost', billed ? batch.reservedUsd : 0, reason, { estimated: billed });
    return { kind: 'unanswered', reason, retryDirect: true };
  }
  const outcome = result.result;
  switch (outcome.type) {
    case 'succeeded': {
      const message = outcome.message;
      const problem = messageProblem(message);
      if (problem !== null) {
        const reason = `batch ${batchId} returned a malformed message (${problem}); its reservation is kept as an estimate`;
        await endBatchRow(deps, batch, 'lost', batch.reservedUsd, reason, { estimated: true });
        return { kind: 'unpriced', reason };
      }
      const usage = {
        input: message.usage.input_tokens,
        output: message.usage.output_tokens,
        cacheRead: message.usage.cache_read_input_tokens ?? 0,
        cacheWrite: message.usage.cache_creation_input_tokens ?? 0,
      };
      try {
        const costUsd = costOfBatchUsage(deps.price, message.usage);
        await endBatchRow(deps, batch, 'succeeded', costUsd, `batch ${batchId} succeeded`, { usage, requestId: message.id, ranAt: message.usage });
        return { kind: 'answered', message, costUsd, requestId: message.id };
      } catch (error) {
        if (!(error instanceof UnpricedUsageError)) throw error;
        await endBatchRow(deps, batch, 'succeeded', batch.reservedUsd, error.message, { usage, estimated: true, ranAt: message.usage });
        return { kind: 'unpriced', reason: `${error.message}; the reservation of ${formatUsd(batch.reservedUsd, 4)} was kept as spent` };
      }
    }
    case 'errored': {
      // An errored request carries no usage: nothing was billed.
      const type = outcome.error?.error?.type ?? 'api_error';
      const message = outcome.error?.error?.message ?? 'no message';
      const reason = `batch ${batchId}: the request errored (${type}: ${message})`;
      await endBatchRow(deps, batch, 'errored', 0, reason);
      return { kind: 'unanswered', reason, retryDirect: false, apiError: { type, message } };
    }
    case 'expired':
    case 'canceled': {
      const reason =
        outcome.type === 'expired'
          ? `batch ${batchId} expired before the request was processed (24 hours)`
          : `batch ${batchId} was canceled before the request was processed`;
      await endBatchRow(deps, batch, outcome.type, 0, reason);
      return { kind: 'unanswered', reason, retryDirect: true };
    }
    default: {
      const reason = `batch ${batchId} returned an unknown result type; its reservation is kept as an estimate`;
      await endBatchRow(deps, batch, 'lost', batch.reservedUsd, reason, { estimated: true });
      return { kind: 'unpriced', reason };
    }
  }
}

/** Asks the API to cancel a batch (an operator's `cancel`); its result is still collected and settled by a pass. */
export async function requestBatchCancel(deps: Pick<BatchDeps, 'db' | 'client'>, batch: OpenBatch): Promise<string> {
  if (batch.batchId === null) return `batch ${batch.customId} not cancelled: its id is not known yet`;
  const state = await deps.client.messages.batches.cancel(batch.batchId, {}, { maxRetries: 0 });
  await setBatchStatus(deps.db, batch.id, state.processing_status === 'ended' ? 'in_progress' : 'canceling');
  return `batch ${batch.batchId} ${state.processing_status === 'ended' ? 'had already ended' : 'cancellation requested'}`;
}

/** The waiting state as `status` and `session` show it. */
export interface BatchWait {
  batchId: string | null;
  customId: string;
  status: OpenBatch['status'];
  submittedAt: string;
  expiresAt: string | null;
  reservedUsd: number;
}

export function batchWaitOf(batch: OpenBatch): BatchWait {
  return {
    batchId: batch.batchId,
    customId: batch.customId,
    status: batch.status,
    submittedAt: (batch.submittedAt ?? batch.createdAt).toISOString(),
    expiresAt: batch.expiresAt ? batch.expiresAt.toISOString() : null,
    reservedUsd: batch.reservedUsd,
  };
}
