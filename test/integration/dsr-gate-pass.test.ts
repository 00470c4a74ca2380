// GATE_BACKTEST_MIN_DSR through a real pass: the backtest gate gets a deflated_sharpe check computed among the
// family's trials, and a DSR under the threshold fails the session with a reason naming both.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/core/config/load.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { SimClock } from '../support/scripted-model.ts';

const work = tempDir('ktrdr-agent-dsr-gate-');
const strategiesDir = join(work.path, 'strategies');
let database: { url: string; drop(): Promise<void> };
let simulator: Simulator;
const clock = new SimClock();

before(async () => {
  mkdirSync(strategiesDir);
  database = await createTestDatabase('ktrdr_agent_test', { migrated: true });
  simulator = await createSimulator({ strategiesDir, seed: 1, timeScale: 1_000_000, now: clock.now });
});
after(async () => {
  await simulator.close();
  await database.drop();
  work.remove();
});

test('a backtest whose deflated Sharpe is under GATE_BACKTEST_MIN_DSR fails its gate on it', async () => {
  // Other backtest thresholds wide open, so the DSR check is the one that decides.
  const env = {
    HOME: work.path,
    DATABASE_URL: database.url,
    KTRDR_API_URL: simulator.url,
    KTRDR_STRATEGIES_DIR: strategiesDir,
    AGENT_DESIGNER: 'baseline',
    GATE_BACKTEST_MIN_WIN_RATE: '0',
    GATE_BACKTEST_MAX_DRAWDOWN: '1',
    GATE_BACKTEST_MIN_SHARPE: '-100',
    GATE_BACKTEST_MIN_DSR: '1',
  };
  const config = loadConfig({ env });
  const client = new pg.Client({ connectionString: database.url });
  let rows: {
    outcome: string;
    backtest_gate: { checks: { metric: string; value: number | null; passed: boolean }[] } | null;
    failure_reason: string | null;
    deflated_sharpe: number | null;
  }[] = [];
  for (let tick = 0; tick < 60; tick++) {
    await runTick({ config, log: () => undefined, lockWaitMs: 5000, sleep: clock.sleep });
    if (tick === 0) await client.connect();
    rows = (
      await client.query(
        `SELECT e.outcome, e.backtest_gate, e.failure_reason, e.deflated_sharpe FROM agent_experiments e WHERE e.backtest_gate IS NOT NULL ORDER BY e.id`,
      )
    ).rows;
    if (rows.filter((row) => (row.deflated_sharpe ?? 1) < 1).length >= 2) break;
  }
  await client.end();
  // The DSR counts one return per bar, so a year of hourly bars makes even a modest Sharpe near-certain (0.99997 for
  // a Sharpe of 0.8): only a threshold of 1 is sure to fail every one of them, which is what this test needs.
  // (A DSR so close to 1 that it rounds to 1.0, a Sharpe above about 2 here, meets the threshold and passes.)
  assert.ok(rows.filter((row) => (row.deflated_sharpe ?? 1) < 1).length >= 2, 'fewer than two backtests with a DSR under 1');
  for (const row of rows) {
    const check = row.backtest_gate!.checks.find((c) => c.metric === 'deflated_sharpe');
    assert.ok(check && check.value !== null, 'the gate has a deflated_sharpe check with a value');
    if (check.value === 1) {
      assert.equal(
        row.backtest_gate!.checks.every((c) => c.passed),
        true,
      );
      continue;
    }
    assert.equal(row.outcome, 'failed_backtest_gate');
    assert.match(row.failure_reason ?? '', /^backtest gate: deflated_sharpe \d+(\.\d+)?% < 100%$/);
    // The stored DSR is the one the gate judged: same formula, same family, same trials.
    assert.ok(Math.abs(row.deflated_sharpe! - check.value) < 1e-9, `${row.deflated_sharpe} vs ${check.value}`);
  }
});
