// The evolve designer against the simulator, in-process ticks on PostgreSQL: it records its lineage, never repeats
// a design, and its mutations each change what a strategy computes while keeping it valid.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { mutate, mutationKinds } from '../../src/core/agent/evolve-designer.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { strategyFingerprint } from '../../src/core/research/fingerprint.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { validateStrategy } from '../../src/core/strategy/validate.ts';
import { buildStrategy, candidatePairs } from '../../src/core/agent/baseline-designer.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { SimClock } from '../support/scripted-model.ts';
import { openStore } from '../../src/core/db/connect.ts';
import { loadSessionView } from '../../src/core/cli/views/session-view.ts';
import { renderSessionText } from '../../src/core/cli/views/session-text.ts';
import { loadExperimentDetail } from '../../src/core/cli/views/research-view.ts';
import { renderExperimentDetailText } from '../../src/core/cli/views/research-text.ts';
import { loadStatusView } from '../../src/core/cli/views/status-view.ts';
import { renderStatusText } from '../../src/core/cli/views/status-text.ts';
import { renderSearchReport } from '../../src/core/cli/views/search-view.ts';

describe('evolve mutations', () => {
  test('every kind changes the fingerprint and keeps the strategy valid', () => {
    const pairs = candidatePairs();
    const parent = buildStrategy('parent', pairs[0]!, 'EURUSD', '1h', 1);
    const other = buildStrategy('other', pairs[pairs.length - 1]!, 'EURUSD', '1h', 2);
    let state = 7;
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
    for (const kind of mutationKinds) {
      const child = mutate(parent, kind, random, other);
      assert.ok(child, `${kind} did not apply`);
      assert.notEqual(strategyFingerprint(child), strategyFingerprint(parent), `${kind} left the design as it was`);
      const validation = validateStrategy(child);
      assert.ok(validation.valid, `${kind}: ${JSON.stringify(validation.findings.filter((f) => f.severity === 'error'))}`);
    }
    assert.equal(mutate(parent, 'recombine', random, null), null, 'recombination needs a second parent');
  });
});

describe('AGENT_DESIGNER=evolve on the simulator', () => {
  const work = tempDir('ktrdr-agent-evolve-');
  const strategiesDir = join(work.path, 'strategies');
  let database: { url: string; drop(): Promise<void> };
  let simulator: Simulator;
  let client: pg.Client;
  const clock = new SimClock();

  before(async () => {
    mkdirSync(strategiesDir);
    database = await createTestDatabase('ktrdr_agent_test', { migrated: true });
    simulator = await createSimulator({ strategiesDir, seed: 2, timeScale: 1_000_000, now: clock.now });
    client = new pg.Client({ connectionString: database.url });
  });
  after(async () => {
    await client.end().catch(() => undefined);
    await simulator.close();
    await database.drop();
    work.remove();
  });

  test('runs cycles with recorded lineage and no repeated design', async () => {
    const config = loadConfig({
      env: { HOME: work.path, DATABASE_URL: database.url, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'evolve' },
    });
    let connected = false;
    for (let tick = 0; tick < 120; tick++) {
      await runTick({ config, log: () => undefined, lockWaitMs: 5000, sleep: clock.sleep });
      if (!connected) {
        await client.connect();
        connected = true;
      }
      const { n } = (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE outcome IS NOT NULL`)).rows[0];
      if (n >= 16) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const rows = (
      await client.query(
        `SELECT e.outcome, e.designer, e.exploration, e.parent_experiment_id, e.fingerprint, e.symbol, e.timeframe, e.training_start, e.score FROM agent_experiments e ORDER BY e.id`,
      )
    ).rows;
    assert.ok(rows.length >= 16, `only ${rows.length} experiments`);
    assert.ok(rows.every((r) => r.designer === 'evolve' && r.exploration === true));
    assert.deepEqual(
      rows.filter((r) => r.outcome === 'failed_design'),
      [],
      'evolve always finds a design to run',
    );
    const keys = rows.map((r) => `${r.fingerprint}|${r.symbol}|${r.timeframe}|${r.training_start}`);
    assert.equal(new Set(keys).size, keys.length, 'a design was run twice');
    // Once something passed both gates, evolve breeds from it: some later experiments name a parent that passed.
    const firstPass = rows.findIndex((r) => r.score !== null);
    assert.ok(firstPass >= 0, 'nothing passed both gates in 16 cycles');
    const children = rows.slice(firstPass + 1).filter((r) => r.parent_experiment_id !== null);
    assert.ok(children.length > 0, 'no experiment after the first pass named a parent');
    const parents = (await client.query(`SELECT id FROM agent_experiments WHERE score IS NOT NULL`)).rows.map((r) => r.id);
    assert.ok(children.every((c) => parents.includes(c.parent_experiment_id)));

    // Every cycle followed a recorded directive: an exploit cycle refined its named experiment, an explore cycle bred
    // from nothing; both show in `session`, `experiments show`, `status` and the report.
    const sessions = (
      await client.query(`SELECT s.id, s.search_mode, s.search_target_experiment_id AS target, e.id AS experiment, e.parent_experiment_id AS parent
                            FROM agent_sessions s JOIN agent_experiments e ON e.session_id = s.id ORDER BY s.id`)
    ).rows;
    assert.ok(
      sessions.every((r) => r.search_mode === 'explore' || r.search_mode === 'exploit'),
      JSON.stringify(sessions),
    );
    for (const r of sessions) assert.equal(r.parent, r.search_mode === 'exploit' ? r.target : null, `session ${r.id}`);
    const exploit = sessions.find((r) => r.search_mode === 'exploit');
    assert.ok(exploit, 'no cycle exploited in 16 cycles');
    const store = await openStore({ kind: 'postgres', url: database.url });
    try {
      const now = new Date();
      const view = await loadSessionView(store.db, exploit.id, { now, actionLimit: 5, stallAfterSeconds: 3600 });
      assert.equal(view?.search?.mode, 'exploit');
      assert.match(
        renderSessionText(view!, { color: false }),
        new RegExp(`Search ===\nDirective: exploit \\(refine experiment #${exploit.target}\\), Thompson sampling\nRegion: indicators [a-z+]+`),
      );
      const detail = await loadExperimentDetail(store.db, exploit.experiment, now);
      assert.match(renderExperimentDetailText(detail!, { color: false }), /Search ===\nDirective: exploit[\s\S]*Why: indicators [a-z+]+ drew highest/);
      const status = await loadStatusView(store.db, { now, configuredLimitUsd: 10, stallAfterSeconds: 3600, faultBackoffMinutes: 5 });
      assert.equal(
        status.search?.cycles,
        sessions.length + (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE outcome IS NULL`)).rows[0].n,
      );
      assert.match(
        renderStatusText(status, { color: false }),
        /Search ===\nCycles: \d+, exploring \d+%[\s\S]*indicators: \d+ tried, \d+ passed; best [a-z+]+ -?\d\.\d\d[\s\S]*Last: session #\d+ (explore|exploit); posterior /,
      );
      assert.match(renderSearchReport(status.search), /exploring[\s\S]*<table id="search-regions">[\s\S]*<table id="search-posterior">/);
    } finally {
      await store.close();
    }
  });
});
