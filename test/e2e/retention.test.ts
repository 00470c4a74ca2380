// Bounded growth: trigger rows and tick summaries past AGENT_RETENTION_DAYS go, a few batches at the end of each
// pass and to the end with `db prune`; the research and the money never do. The tick log is rotated by size.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { pruneResultSchema } from '../../src/core/cli/views/prune-schema.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { binRun, repoRoot, runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { seedDatabase } from '../support/seed.ts';

const OLD_TRIGGERS = 12_500;
const OLD_TICKS = 1_500;

describe('retention and the tick log (built CLI, PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  const home = tempDir('ktrdr-agent-retention-');
  let env: Record<string, string>;

  /** Rows of the tables retention must never touch. */
  const kept = async () =>
    Object.fromEntries(
      await Promise.all(
        ['agent_sessions', 'agent_actions', 'agent_experiments', 'agent_hypotheses', 'agent_budget', 'agent_budget_reservations', 'agent_metrics'].map(
          async (table) => [table, Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(store.db)).rows[0]!.n)],
        ),
      ),
    );
  const oldRows = async () => {
    const { rows } = await sql<{ triggers: string; ticks: string }>`
      SELECT (SELECT count(*) FROM agent_triggers WHERE triggered_at < now() - interval '90 days') AS triggers,
             (SELECT count(*) FROM agent_ticks WHERE started_at < now() - interval '90 days') AS ticks`.execute(store.db);
    return { triggers: Number(rows[0]!.triggers), ticks: Number(rows[0]!.ticks) };
  };

  before(async () => {
    database = await createTestDatabase('ktrdr_agent_retention');
    store = await openStore({ kind: 'postgres', url: database.url });
    // A year of research: sessions finished up to 400 days ago, with their actions, experiments and budget rows.
    await seedDatabase(store.db, { finished: { success: 20, failed_training_gate: 20, cancelled: 5 }, spreadDays: 400 });
    await sql`
      INSERT INTO agent_triggers (triggered_at, trigger_reason, agent_invoked)
      SELECT now() - interval '100 days' - g * interval '1 minute', 'operation_still_running', false FROM generate_series(1, ${OLD_TRIGGERS}) AS g`.execute(
      store.db,
    );
    await sql`
      INSERT INTO agent_ticks (id, started_at, finished_at, host, status, summary)
      SELECT 'old-' || g, now() - interval '100 days' - g * interval '5 minutes', now() - interval '100 days', 'h', 'ok', '{}'::jsonb FROM generate_series(1, ${OLD_TICKS}) AS g`.execute(
      store.db,
    );
    env = { HOME: home.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
  });
  after(async () => {
    await store.close();
    await database.drop();
    home.remove();
  });

  test('db prune --dry-run counts, a pass deletes at most 10 batches, db prune deletes the rest in batches of 1000', async () => {
    const research = await kept();
    assert.deepEqual(await oldRows(), { triggers: OLD_TRIGGERS, ticks: OLD_TICKS });

    const dry = await runCli(['db', 'prune', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const counted = pruneResultSchema.parse(JSON.parse(dry.stdout));
    assert.deepEqual({ triggers: counted.triggers, ticks: counted.ticks, days: counted.retentionDays }, { triggers: OLD_TRIGGERS, ticks: OLD_TICKS, days: 90 });
    assert.deepEqual(await oldRows(), { triggers: OLD_TRIGGERS, ticks: OLD_TICKS }, 'a dry run deletes nothing');

    // A paused pass (nothing else to do) ends with the retention rule: 10 batches of 1000, the rest left to later passes.
    assert.equal((await runCli(['pause'], env)).code, 0);
    const tick = await runCli(['tick'], env);
    assert.equal(tick.code, 0, tick.stderr);
    assert.deepEqual(await oldRows(), { triggers: OLD_TRIGGERS - 10_000, ticks: OLD_TICKS });

    const pruned = await runCli(['db', 'prune', '--json'], env);
    assert.equal(pruned.code, 0, pruned.stderr);
    const report = pruneResultSchema.parse(JSON.parse(pruned.stdout));
    // 2500 triggers in 1000 + 1000 + 500, 1500 ticks in 1000 + 500.
    assert.deepEqual(report, { ...report, triggers: 2_500, ticks: OLD_TICKS, batches: 5, batchSize: 1000 });
    assert.deepEqual(await oldRows(), { triggers: 0, ticks: 0 });
    assert.deepEqual(await kept(), research, 'sessions, actions, experiments, hypotheses, budget and metrics rows are all kept');
    const recent = await sql<{ n: string }>`SELECT count(*) AS n FROM agent_ticks`.execute(store.db);
    assert.ok(Number(recent.rows[0]!.n) >= 1, "the recent ticks (the pass's own) are kept");

    const text = await runCli(['db', 'prune', '--dry-run'], env);
    assert.match(text.stdout, /Would delete 0 trigger rows and 0 tick summaries older than .* \(90 days\)/);
  });

  test('a tick appending to a log past AGENT_LOG_MAX_MIB rotates it, keeping AGENT_LOG_KEEP files', async () => {
    const log = join(home.path, 'tick.log');
    const runTick = async (prefill: string): Promise<void> => {
      writeFileSync(log, prefill);
      // As cron's `>> tick.log 2>&1` does: the shell opens the file for appending and hands it to the tick.
      const fd = openSync(log, 'a');
      try {
        const child = spawn(process.execPath, ['--', binRun, 'tick'], {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env, AGENT_LOG_MAX_MIB: '1', AGENT_LOG_KEEP: '2' },
          stdio: ['ignore', fd, fd],
        });
        await new Promise((resolve) => child.on('close', resolve));
      } finally {
        closeSync(fd);
      }
    };
    const big = (mark: string) => `${mark}\n`.repeat(600_000);
    await runTick(big('first'));
    assert.equal(readFileSync(`${log}.1`, 'utf8'), big('first'), 'the old content went to tick.log.1');
    const fresh = readFileSync(log, 'utf8');
    assert.match(fresh, /^\{.*"event":"log_rotated"/, "the rotating tick's own lines start the emptied tick.log");
    assert.match(fresh, /"event":"tick_finished"/);
    await runTick(big('second'));
    await runTick(big('third'));
    assert.ok(readFileSync(`${log}.1`, 'utf8').startsWith('third\n'));
    assert.ok(readFileSync(`${log}.2`, 'utf8').startsWith('second\n'));
    assert.equal(existsSync(`${log}.3`), false, 'no more than AGENT_LOG_KEEP rotated logs');
    await runTick('small\n');
    assert.match(readFileSync(log, 'utf8'), /^small\n.*"event":"tick_finished"/s, 'a small log is appended to, not rotated');
  });
});
