// agent_actions: one row for each tool call the model made; only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { ToolErrorKind } from '../../session/model.ts';
import { toJson, withoutNul } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface ActionRecord {
  sessionId: number;
  phase: string;
  toolName: string;
  args: unknown;
  result: unknown;
  success: boolean;
  errorMessage: string | null;
  /** A failed call's kind; null for a call that succeeded. */
  errorKind?: ToolErrorKind | null;
  durationMs: number | null;
  turn: number | null;
  tokensInput: number | null;
  tokensOutput: number | null;
  /** The API request id and thinking tokens of the response that asked for the call (claude designer only). */
  requestId?: string | null;
  tokensThinking?: number | null;
  at: Date;
}

export async function recordAction(db: Db, action: ActionRecord): Promise<void> {
  await db
    .insertInto('agent_actions')
    .values({
      session_id: action.sessionId,
      phase: action.phase,
      tool_name: action.toolName,
      tool_args: toJson(action.args),
      tool_result: toJson(action.result),
      success: action.success,
      error_message: action.errorMessage === null ? null : withoutNul(action.errorMessage),
      error_kind: action.success ? null : (action.errorKind ?? 'rejected'),
      duration_ms: action.durationMs,
      turn: action.turn,
      tokens_input: action.tokensInput,
      tokens_output: action.tokensOutput,
      request_id: action.requestId ?? null,
      tokens_thinking: action.tokensThinking ?? null,
      action_at: action.at,
    })
    .execute();
}
