import { sql, type Kysely } from 'kysely';

/**
 * A failed tool call's kind is stored when the call is recorded (agent/tools.ts), so the metric's label no longer
 * depends on the wording of a message. Rows written before are classified once, here, from their message text as
 * the metric used to do.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_actions ADD COLUMN error_kind VARCHAR(32)`.execute(db);
  await sql`
    UPDATE agent_actions SET error_kind = CASE
      WHEN error_message LIKE 'invalid input for %' THEN 'invalid_input'
      WHEN error_message LIKE '%Could not reach KTRDR%' OR error_message LIKE '%KTRDR did not answer%'
        OR error_message ~ 'KTRDR answered .* with HTTP 5[0-9][0-9]' THEN 'ktrdr_unavailable'
      WHEN error_message LIKE '%KTRDR answered%' OR error_message LIKE 'KTRDR rejected%' THEN 'ktrdr_rejected'
      WHEN error_message LIKE '%does not match the contract%' THEN 'ktrdr_invalid_response'
      WHEN error_message LIKE tool_name || ' failed: %' THEN 'exception'
      ELSE 'rejected'
    END
    WHERE NOT success`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_actions DROP COLUMN error_kind`.execute(db);
}
