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

const work = tempDir('ktrdr-agent-dsr-gate-');
const strategiesDir = join(work.path, 'strategies');
let database: { url: string; drop(): Promise<void> };
let simulator: Simulator;

before(async () => {
  mkdirSync(strategiesDir);
  database = await createTestDatabase();
  simulator = await createSimulator({ strategiesDir, seed: 1, timeScale: 1_000_000 });
});
after(async () => {
  await simulator.close();
  await database.drop();
  work.remove();
});

test('a backtest whose deflated Sharpe is under GATE_BACKTEST_MIN_DSR fails its gate on it', async () => {
  // Other backtest thresholds wide open, so the DSR check is the one that decides.
  const env = {
    HOME: work.path, DATABASE_URL: database.url, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'baseline',
    GATE_BACKTEST_MIN_WIN_RATE: '0', GATE_BACKTEST_MAX_DRAWDOWN: '1', GATE_BACKTEST_MIN_SHARPE: '-100', GATE_BACKTEST_MIN_DSR: '0.999',
  };
  const config = loadConfig({ env });
  const client = new pg.Client({ connectionString: database.url });
  let rows: { outcome: string; backtest_gate: { checks: { metric: string; value: number | null; passed: boolean }[] } | null; failure_reason: string | null; deflated_sharpe: number | null }[] = [];
  for (let tick = 0; tick < 60; tick++) {
    await runTick({ config, log: () => undefined, lockWaitMs: 5000 });
    if (tick === 0) await client.connect();
    rows = (await client.query(`SELECT e.outcome, e.backtest_gate, e.failure_reason, e.deflated_sharpe FROM agent_experiments e WHERE e.backtest_gate IS NOT NULL ORDER BY e.id`)).rows;
    if (rows.length >= 2) break;
  }
  await client.end();
  assert.ok(rows.length >= 2, 'no backtest reached its gate');
  for (const row of rows) {
    const check = row.backtest_gate!.checks.find((c) => c.metric === 'deflated_sharpe');
    assert.ok(check, 'the gate has a deflated_sharpe check');
    assert.ok(check.value !== null && check.value < 0.999);
    assert.equal(row.outcome, 'failed_backtest_gate');
    assert.match(row.failure_reason ?? '', /^backtest gate: deflated_sharpe \d+(\.\d)?% < 99\.9%$/);
    // The stored DSR is the one the gate judged: same formula, same family, same trials.
    assert.ok(Math.abs(row.deflated_sharpe! - check.value) < 1e-9, `${row.deflated_sharpe} vs ${check.value}`);
  }
});
