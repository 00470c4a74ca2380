import { sql, type Kysely } from 'kysely';

/**
 * The memory's coverage counts indicator pairs (a strategy of three indicators tries three pairs), not only whole
 * combinations: the pair tallies are counted from the experiments already recorded. The SQL is written here, not
 * imported, so that this migration keeps meaning what it meant when it ran.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    INSERT INTO agent_experiment_tallies (dimension, value, tried, passed, best)
    SELECT 'pairs', a || '+' || b, count(*), count(score), max(score)
      FROM agent_experiments, unnest(string_to_array(indicator_key, '+')) AS a, unnest(string_to_array(indicator_key, '+')) AS b
     WHERE fingerprint IS NOT NULL AND indicator_key IS NOT NULL AND a COLLATE "C" < b COLLATE "C"
     GROUP BY a, b
    ON CONFLICT (dimension, value) DO NOTHING`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM agent_experiment_tallies WHERE dimension = 'pairs'`.execute(db);
}
