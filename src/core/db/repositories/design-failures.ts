import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import { classifyDesignFailure, type DesignFailure } from '../../research/design-failure.ts';

type Db = Kysely<Database> | Transaction<Database>;

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
