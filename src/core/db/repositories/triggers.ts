// agent_triggers: one row for each decision a pass takes about a session or a new cycle; only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import { toJson } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface TriggerRecord {
  tickId: string | null;
  reason: string;
  sessionId: number | null;
  context?: unknown;
  agentInvoked: boolean;
  skipReason: string | null;
  budgetUsedTodayUsd: number | null;
  budgetRemainingUsd: number | null;
  at: Date;
}

export async function recordTrigger(db: Db, trigger: TriggerRecord): Promise<void> {
  await db
    .insertInto('agent_triggers')
    .values({
      tick_id: trigger.tickId,
      trigger_reason: trigger.reason,
      session_id: trigger.sessionId,
      context: toJson(trigger.context),
      agent_invoked: trigger.agentInvoked,
      skip_reason: trigger.skipReason,
      budget_used_today_usd: trigger.budgetUsedTodayUsd,
      budget_remaining_usd: trigger.budgetRemainingUsd,
      triggered_at: trigger.at,
    })
    .execute();
}
