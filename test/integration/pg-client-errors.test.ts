import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../support/cli.ts';
import { createTestDatabase } from '../support/databases.ts';

/** Runs a script with the repository's modules in a child process: a crash there is what is being tested. */
function runScript(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a PostgreSQL connection terminated while in use', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.drop();
  });

  test('a checked-out pool client whose backend is terminated does not crash the process; the next query reports it', async () => {
    const script = `
      import { sql } from 'kysely';
      import { openStore } from './src/core/db/connect.ts';
      const store = await openStore({ kind: 'postgres', url: process.argv[1] });
      let failure = 'none';
      await store.db.connection().execute(async (conn) => {
        const { rows } = await sql\`SELECT pg_backend_pid() AS pid\`.execute(conn);
        const admin = await openStore({ kind: 'postgres', url: process.argv[1] }, { migrate: false });
        // With a timeout, pg_terminate_backend returns once the backend has gone, after it sent its FATAL message.
        await sql\`SELECT pg_terminate_backend(\${rows[0].pid}, 10000)\`.execute(admin.db);
        await admin.close();
        // The client sits checked out, between two queries, when its connection dies: a turn of the event loop
        // delivers the message that came before the admin's answer.
        await new Promise((resolve) => setImmediate(resolve));
        failure = await sql\`SELECT 1\`.execute(conn).then(() => 'none', (error) => error.message);
      });
      const after = await sql\`SELECT 1 AS one\`.execute(store.db);
      process.stdout.write(JSON.stringify({ failure, after: after.rows[0].one }));
      await store.close();`;
    const result = await runScript(script, [database.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /Unhandled 'error' event/);
    const outcome = JSON.parse(result.stdout) as { failure: string; after: number };
    assert.notEqual(outcome.failure, 'none');
    assert.equal(outcome.after, 1);
  });
});
