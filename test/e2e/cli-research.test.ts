// The research commands through the built CLI on PostgreSQL: --json documents checked against their schemas, the
// human views, hypotheses added and moved by the operator, and the documented exit codes for bad input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { z } from 'zod';
import {
  errorResultSchema,
  experimentDetailViewSchema,
  experimentsViewSchema,
  historyViewSchema,
  hypothesesViewSchema,
  hypothesisDetailViewSchema,
  hypothesisSchema,
  sessionViewSchema,
  statusViewSchema,
} from '../../src/core/cli/views/schemas.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { seedExperiments } from '../support/seed-experiments.ts';

function parsed<S extends z.ZodType>(schema: S, result: CliResult): z.output<S> {
  assert.equal(result.code, 0, result.stderr);
  const check = schema.safeParse(JSON.parse(result.stdout));
  assert.ok(check.success, check.success ? '' : JSON.stringify(check.error.issues.slice(0, 5), null, 1));
  return check.data;
}

describe('research commands (built CLI, PostgreSQL)', () => {
  const home = tempDir('ktrdr-agent-research-cli-');
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let env: Record<string, string>;

  before(async () => {
    database = await createTestDatabase();
    store = await openStore({ kind: 'postgres', url: database.url });
    await seedExperiments(store.db, 40);
    // One child, so `experiments show` has a parent and children to list.
    await store.db.updateTable('agent_experiments').set({ parent_experiment_id: 4 }).where('id', '=', 12).execute();
    env = { HOME: home.path, DATABASE_URL: database.url };
  });
  after(async () => {
    await store.close();
    await database.drop();
    home.remove();
  });

  test('experiments --json: filtered, sorted by score, within its schema', async () => {
    const view = parsed(experimentsViewSchema, await runCli(['experiments', '--sort', 'score', '--indicator', 'rsi', '--limit', '5', '--json'], env));
    assert.equal(view.total, 40);
    assert.ok(view.experiments.length > 0 && view.experiments.length <= 5);
    for (const e of view.experiments) assert.ok(e.indicators.includes('rsi') && e.score !== null);
    const scores = view.experiments.map((e) => e.score!);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    const failed = parsed(experimentsViewSchema, await runCli(['experiments', '--outcome', 'failed', '--json'], env));
    assert.ok(failed.experiments.every((e) => e.outcome.startsWith('failed_')));
    const text = await runCli(['experiments', '--symbol', 'EURUSD'], env);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /=== Experiments \(\d+ of 40, by completed_at\) ===/);
    assert.match(text.stdout, /EURUSD 1h/);
    assert.doesNotMatch(text.stdout, /GBPUSD/);
  });

  test('experiments show: parent and children; unknown id exits 4, a malformed one 1', async () => {
    const parent = parsed(experimentDetailViewSchema, await runCli(['experiments', 'show', '4', '--json'], env));
    assert.deepEqual(
      parent.children.map((c) => c.id),
      [12],
    );
    const child = parsed(experimentDetailViewSchema, await runCli(['experiments', 'show', '#12', '--json'], env));
    assert.equal(child.parent?.id, 4);
    const missing = await runCli(['experiments', 'show', '99999', '--json'], env);
    assert.equal(missing.code, 4);
    assert.equal(errorResultSchema.parse(JSON.parse(missing.stdout)).error.code, 'experiment_not_found');
    const bad = await runCli(['experiments', 'show', 'twelve'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid experiment id 'twelve'/);
  });

  test('hypotheses: add, set, retire, show the history; bad input is refused', async () => {
    const hostile = `"; DROP TABLE agent_hypotheses; -- <b>bold</b> ${'é'.repeat(5)}`;
    const added = parsed(hypothesisSchema, await runCli(['hypotheses', 'add', `Operator idea ${hostile}`, '--rationale', 'a hunch', '--json'], env));
    assert.equal(added.status, 'untested');
    assert.equal(added.text, `Operator idea ${hostile}`);
    const set = parsed(hypothesisSchema, await runCli(['hypotheses', 'set', `H${added.id}`, 'inconclusive', '--evidence', 'mixed results', '--json'], env));
    assert.equal(set.status, 'inconclusive');
    const list = parsed(hypothesesViewSchema, await runCli(['hypotheses', '--status', 'inconclusive', '--json'], env));
    assert.deepEqual(
      list.hypotheses.map((h) => h.id),
      [added.id],
    );
    await runCli(['hypotheses', 'set', String(added.id), 'retired'], env);
    assert.deepEqual(parsed(hypothesesViewSchema, await runCli(['hypotheses', '--json'], env)).hypotheses, []);
    assert.equal(parsed(hypothesesViewSchema, await runCli(['hypotheses', '--all', '--json'], env)).hypotheses[0]?.retired, true);
    const detail = parsed(hypothesisDetailViewSchema, await runCli(['hypotheses', 'show', String(added.id), '--json'], env));
    assert.deepEqual(
      detail.events.map((e) => [e.status, e.via]),
      [
        ['untested', 'operator'],
        ['inconclusive', 'operator'],
        ['retired', 'operator'],
      ],
    );
    const short = await runCli(['hypotheses', 'add', 'too short'], env);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /needs 10 to 1000 characters/);
    const badStatus = await runCli(['hypotheses', 'set', String(added.id), 'proven'], env);
    assert.equal(badStatus.code, 1);
    const unknown = await runCli(['hypotheses', 'set', '9999', 'validated'], env);
    assert.equal(unknown.code, 4);
  });

  test('status shows the best experiment; session shows its experiment and deflated Sharpe', async () => {
    const status = parsed(statusViewSchema, await runCli(['status', '--json'], env));
    const best = (
      await store.db
        .selectFrom('agent_experiments')
        .select(['id'])
        .where('score', 'is not', null)
        .orderBy('score', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow()
    ).id;
    assert.equal(status.bestExperiment?.id, best);
    const text = await runCli(['status'], env);
    assert.match(text.stdout, new RegExp(`=== Best Experiment ===\\nExperiment: #${best} `));
    const withDsr = await store.db
      .selectFrom('agent_experiments')
      .select(['session_id', 'deflated_sharpe'])
      .where('deflated_sharpe', 'is not', null)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const session = parsed(sessionViewSchema, await runCli(['session', String(withDsr.session_id), '--json'], env));
    assert.equal(session.experiment?.deflatedSharpe, withDsr.deflated_sharpe);
    // The DSR shown is the family's now, with the trials counted now; the stored one stays as history beside it.
    const family = await store.db
      .selectFrom('agent_experiments')
      .select(({ fn }) => fn.countAll<string | number>().as('n'))
      .where('symbol', '=', session.experiment!.symbol!)
      .where('timeframe', '=', session.experiment!.timeframe!)
      .where('sharpe', 'is not', null)
      .executeTakeFirstOrThrow();
    assert.equal(session.experiment?.dsrNow?.trials, Number(family.n));
    const sessionText = await runCli(['session', String(withDsr.session_id)], env);
    assert.match(
      sessionText.stdout,
      new RegExp(`Deflated Sharpe: \\d\\.\\d\\d over the ${Number(family.n)} backtests of ${session.experiment!.symbol} ${session.experiment!.timeframe} now`),
    );
    const history = parsed(historyViewSchema, await runCli(['history', '--limit', '1000', '--json'], env));
    const entry = history.sessions.find((s) => s.id === withDsr.session_id);
    assert.equal(entry?.deflatedSharpe, withDsr.deflated_sharpe);
    assert.equal(entry?.dsrNow?.trials, Number(family.n));
    const historyText = await runCli(['history', '--limit', '3'], env);
    assert.equal(historyText.code, 0);
  });
});
