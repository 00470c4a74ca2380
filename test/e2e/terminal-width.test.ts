// `experiments`, `history` and `status` through the built CLI at COLUMNS=100 and COLUMNS=60: no line is wider than
// the terminal (tables cut their widest columns with an ellipsis, as `gh` does). Without a width (a pipe and no
// COLUMNS) nothing is cut, so scripts still read every character.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/core/db/connect.ts';
import { backfillExperiments } from '../../src/core/db/repositories/experiments.ts';
import { displayWidth } from '../../src/core/cli/terminal-width.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { realisticOutcomes, seedDatabase } from '../support/seed.ts';

const commands = [['experiments'], ['experiments', '--sort', 'score'], ['history', '--limit', '4'], ['status']];

describe('text output fits the terminal', () => {
  const work = tempDir('ktrdr-agent-width-');
  let database: { url: string; drop(): Promise<void> };

  before(async () => {
    database = await createTestDatabase();
    const store = await openStore({ kind: 'postgres', url: database.url });
    try {
      await seedDatabase(store.db, { active: { training: 1, designing: 1 }, finished: realisticOutcomes(30), actionsPerSession: 2, paused: true });
      // Long names, as a model writes them: the widest cells.
      await store.db
        .updateTable('agent_sessions')
        .set({ strategy_name: 'momentum_breakout_with_volume_confirmation_and_adaptive_stops_v3' })
        .where(sql<boolean>`id % 4 = 0`)
        .execute();
      await backfillExperiments(store.db);
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await database.drop();
    work.remove();
  });

  for (const width of [100, 60]) {
    test(`COLUMNS=${width}: every line of experiments, history and status fits`, async () => {
      for (const args of commands) {
        const result = await runCli(args, { HOME: work.path, DATABASE_URL: database.url, COLUMNS: String(width) });
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        const lines = result.stdout.split('\n');
        assert.ok(lines.length > 5, `${args.join(' ')} printed ${result.stdout}`);
        const over = lines.filter((line) => displayWidth(line) > width);
        assert.deepEqual(over, [], `${args.join(' ')} at ${width} columns`);
      }
    });
  }

  test('COLUMNS=60: the experiments table keeps its id, strategy and outcome, cut with an ellipsis', async () => {
    const result = await runCli(['experiments'], { HOME: work.path, DATABASE_URL: database.url, COLUMNS: '60' });
    const header = result.stdout.split('\n').find((line) => line.includes('id'))!;
    assert.match(header, /│ id +│ strategy.*│ outcome/);
    assert.match(result.stdout, /…/);
    const status = await runCli(['status'], { HOME: work.path, DATABASE_URL: database.url, COLUMNS: '60' });
    // The pause banner's advice is how to fix it: wrapped onto more lines, not cut off.
    assert.match(status.stdout.replace(/\n +/g, ' '), /ktrdr-agent resume/);
  });

  test('without a terminal or COLUMNS nothing is cut', async () => {
    const result = await runCli(['experiments'], { HOME: work.path, DATABASE_URL: database.url });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      result.stdout.split('\n').some((line) => displayWidth(line) > 100),
      'the full table is wider than 100 columns',
    );
    assert.match(result.stdout, /momentum_breakout_with_volume_confirmation_and_adaptive_stops_v3/);
    assert.doesNotMatch(result.stdout, /…/);
  });
});
