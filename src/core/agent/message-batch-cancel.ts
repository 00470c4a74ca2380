import type { Kysely } from 'kysely';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { requestBatchCancel } from './message-batch.ts';
import { findOpenBatch } from '../db/repositories/message-batches.ts';

/**
 * `cancel` of a session waiting for a Message Batch asks the API to cancel it. Its reservation stays held: a
 * request already being processed can still complete and be billed, so the next pass collects the result and
 * settles it (at $0 when it was canceled). Null when the session has no open batch.
 */
export async function cancelSessionBatch(db: Kysely<Database>, config: AgentConfig, sessionId: number): Promise<string | null> {
  const open = await findOpenBatch(db, sessionId);
  if (open === null) return null;
  const settings = config.settings;
  if (!settings.ANTHROPIC_API_KEY) return `batch ${open.batchId ?? open.customId} not cancelled (ANTHROPIC_API_KEY is not set); a pass settles it when it ends`;
  const { createAnthropicClient } = await import('./anthropic-client.ts');
  const client = createAnthropicClient({
    apiKey: settings.ANTHROPIC_API_KEY,
    ...(settings.ANTHROPIC_BASE_URL ? { baseURL: settings.ANTHROPIC_BASE_URL } : {}),
    timeoutMs: 30_000,
  });
  return requestBatchCancel({ db, client }, open).catch(
    (error: unknown) => `batch ${open.batchId} not cancelled (${(error as Error).message}); a pass settles it when it ends`,
  );
}
