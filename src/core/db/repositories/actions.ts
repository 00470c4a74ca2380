// agent_actions: one row for each tool call the model made; only this file writes it.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AgentActionsTable, Database } from '../database-schema.ts';
import type { ToolErrorKind } from '../../session/model.ts';
import { toJson, toNumber, withoutNul } from '../values.ts';
import { classifyDesignFailure, type DesignFailure } from '../../research/design-failure.ts';

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

const listedColumns = [
  'id',
  'action_at',
  'phase',
  'tool_name',
  'tool_args',
  'success',
  'error_message',
  'duration_ms',
  'turn',
  'tokens_input',
  'tokens_output',
] as const;

export type ActionRow = Pick<Selectable<AgentActionsTable>, (typeof listedColumns)[number]>;

/** A session's first `limit` tool calls in the order they were made, and how many it made in all. */
export async function sessionActionRows(db: Db, sessionId: number, limit: number): Promise<{ rows: ActionRow[]; total: number }> {
  const [rows, countRow] = await Promise.all([
    db.selectFrom('agent_actions').select(listedColumns).where('session_id', '=', sessionId).orderBy('action_at').orderBy('id').limit(limit).execute(),
    db
      .selectFrom('agent_actions')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: toNumber(countRow.count as string | number) };
}

/** The tools whose refusal explains a design that never reached training. */
const DESIGN_TOOLS = ['save_strategy_config', 'start_training', 'validate_strategy'];

/** Why a session's design failed: its last refusal by a design tool, or the invocation's reason when none refused. */
export async function designFailureOfSession(db: Db, sessionId: number, sessionReason: string | null): Promise<DesignFailure> {
  const row = await db
    .selectFrom('agent_actions')
    .select('error_message')
    .where('session_id', '=', sessionId)
    .where('success', '=', false)
    .where('tool_name', 'in', DESIGN_TOOLS)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return classifyDesignFailure(row?.error_message ?? null, sessionReason);
}
