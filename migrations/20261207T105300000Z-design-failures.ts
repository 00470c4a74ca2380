import { sql, type Kysely } from 'kysely';

/**
 * A design that never reached training keeps why (research/design-failure.ts): the kind (a repeat, invalid, refused
 * by KTRDR, ...) and one line (the experiment it repeats, its first error), so the memory shows the reason, and the
 * failure tallies count design failures beside gate failures. Existing failed designs are classified once, here, from
 * the last refusal a design tool gave in their session, with the same rules in SQL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_experiments ADD COLUMN design_failure_kind VARCHAR(20)`.execute(db);
  await sql`ALTER TABLE agent_experiments ADD COLUMN design_failure VARCHAR(300)`.execute(db);
  await sql`
    WITH last_error AS (
      SELECT DISTINCT ON (a.session_id) a.session_id, a.error_message AS m
        FROM agent_actions a JOIN agent_experiments e ON e.session_id = a.session_id
       WHERE e.outcome = 'failed_design' AND NOT a.success AND a.tool_name IN ('save_strategy_config', 'start_training', 'validate_strategy')
       ORDER BY a.session_id, a.id DESC
    ), classified AS (
      SELECT e.id,
             CASE
               WHEN l.m ~ 'was already (run|trained on this window): experiment #[0-9]+' THEN 'duplicate'
               WHEN l.m LIKE 'KTRDR rejected the strategy%' THEN 'ktrdr_rejected'
               WHEN l.m ~ E'\\nerror ' OR l.m LIKE 'invalid input for %' THEN 'invalid'
               WHEN l.m IS NOT NULL THEN 'refused'
               ELSE 'not_saved'
             END AS kind,
             CASE
               WHEN l.m ~ 'was already (run|trained on this window): experiment #[0-9]+'
                 THEN 'repeats ' || substring(l.m FROM 'experiment #[0-9]+ \\(session #[0-9]+\\)')
               WHEN l.m ~ E'\\nerror ' THEN 'first error: ' || substring(l.m FROM E'\\nerror ([^\\n]*)')
               WHEN l.m IS NOT NULL THEN l.m
               ELSE coalesce(e.failure_reason, 'the design invocation ended without saving a strategy')
             END AS detail
        FROM agent_experiments e LEFT JOIN last_error l ON l.session_id = e.session_id
       WHERE e.outcome = 'failed_design'
    )
    UPDATE agent_experiments e SET design_failure_kind = c.kind, design_failure = left(regexp_replace(c.detail, '\\s+', ' ', 'g'), 200)
      FROM classified c WHERE c.id = e.id`.execute(db);
  await sql`
    INSERT INTO agent_experiment_tallies (dimension, value, tried, passed, best)
    SELECT 'failure', 'design|' || design_failure_kind || '|', count(*), 0, NULL FROM agent_experiments WHERE design_failure_kind IS NOT NULL GROUP BY design_failure_kind
    ON CONFLICT (dimension, value) DO UPDATE SET tried = excluded.tried`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM agent_experiment_tallies WHERE dimension = 'failure' AND value LIKE 'design|%'`.execute(db);
  await sql`ALTER TABLE agent_experiments DROP COLUMN design_failure`.execute(db);
  await sql`ALTER TABLE agent_experiments DROP COLUMN design_failure_kind`.execute(db);
}
