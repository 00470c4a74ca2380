import { sql, type Kysely } from 'kysely';
import type { Database } from './database-schema.ts';

/**
 * This installation's id, made with the database (migration 20261201T081500000Z-installation). Names the agent gives
 * KTRDR carry it, so another installation or a recreated database never reuses them.
 */
export async function installationId(db: Kysely<Database>): Promise<string> {
  const result = await sql<{ installation_id: string }>`SELECT installation_id FROM agent_installation`.execute(db);
  const id = result.rows[0]?.installation_id;
  if (!id) throw new Error('the database has no installation id: run `ktrdr-agent db migrate`');
  return id;
}
