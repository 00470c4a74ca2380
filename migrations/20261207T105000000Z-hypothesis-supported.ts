import { sql, type Kysely } from 'kysely';

/**
 * A model's verdict on one in-sample backtest is no longer enough to call a hypothesis `validated`: it is
 * `supported`, and only a promotion (an experiment that held up on robustness windows and the lockbox) validates.
 * Existing `validated` rows were all set on the model's word, so they become `supported`, with an event saying so.
 * Events gain `moved`: false for an event that records something without moving the status (a verdict made on a
 * status the operator has since changed, a rejected promotion).
 */
const STATUSES = `'untested', 'testing', 'supported', 'validated', 'refuted', 'inconclusive'`;
const OLD_STATUSES = `'untested', 'testing', 'validated', 'refuted', 'inconclusive'`;

export const DEMOTION_EVIDENCE =
  "was validated on the model's verdict about one in-sample backtest; now supported: only a promotion (robustness windows and the lockbox) validates";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_hypotheses DROP CONSTRAINT valid_hypothesis_status`.execute(db);
  await sql`ALTER TABLE agent_hypotheses ADD CONSTRAINT valid_hypothesis_status CHECK (status IN (${sql.raw(STATUSES)}))`.execute(db);
  await sql`ALTER TABLE agent_hypothesis_events DROP CONSTRAINT valid_event_status`.execute(db);
  await sql`ALTER TABLE agent_hypothesis_events ADD CONSTRAINT valid_event_status CHECK (status IN (${sql.raw(STATUSES)}, 'retired'))`.execute(db);
  await sql`ALTER TABLE agent_hypothesis_events ADD COLUMN moved BOOLEAN NOT NULL DEFAULT TRUE`.execute(db);
  // The demotion event, then (for a retired hypothesis) its retirement again, so the newest event still says retired.
  await sql`
    INSERT INTO agent_hypothesis_events (hypothesis_id, status, evidence, experiment_id, via, at)
    SELECT id, 'supported', ${DEMOTION_EVIDENCE}, NULL, 'migration', now() FROM agent_hypotheses WHERE status = 'validated' ORDER BY id`.execute(db);
  await sql`
    INSERT INTO agent_hypothesis_events (hypothesis_id, status, evidence, experiment_id, via, at)
    SELECT id, 'retired', 'still retired', NULL, 'migration', now() FROM agent_hypotheses WHERE status = 'validated' AND retired_at IS NOT NULL ORDER BY id`.execute(
    db,
  );
  await sql`UPDATE agent_hypotheses SET status = 'supported', updated_at = now() WHERE status = 'validated'`.execute(db);
}

/** Back to the old vocabulary: `supported` reads as the `validated` it was before (the events stay as history). */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_hypotheses DROP CONSTRAINT valid_hypothesis_status`.execute(db);
  await sql`UPDATE agent_hypotheses SET status = 'validated' WHERE status = 'supported'`.execute(db);
  await sql`ALTER TABLE agent_hypotheses ADD CONSTRAINT valid_hypothesis_status CHECK (status IN (${sql.raw(OLD_STATUSES)}))`.execute(db);
  await sql`ALTER TABLE agent_hypothesis_events DROP CONSTRAINT valid_event_status`.execute(db);
  await sql`UPDATE agent_hypothesis_events SET status = 'validated' WHERE status = 'supported'`.execute(db);
  await sql`ALTER TABLE agent_hypothesis_events ADD CONSTRAINT valid_event_status CHECK (status IN (${sql.raw(OLD_STATUSES)}, 'retired'))`.execute(db);
  await sql`ALTER TABLE agent_hypothesis_events DROP COLUMN moved`.execute(db);
}
