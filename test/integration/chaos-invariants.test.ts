// The chaos suite's research invariants catch what they are about: a finished session without its experiment, and
// a hypothesis status moved other than through the tools (or the operator's CLI).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { endSession } from '../../src/core/session/end.ts';
import { addHypothesis, setHypothesisStatus } from '../../src/core/db/repositories/hypotheses.ts';
import { createSession } from '../../src/core/db/repositories/sessions.ts';
import type { Store } from '../../src/core/db/connect.ts';
import { checkInvariants } from '../chaos/harness.ts';
import { openTestStore, tempDir } from '../support/databases.ts';

describe('chaos invariants of the research memory (PostgreSQL)', () => {
  const strategies = tempDir('ktrdr-agent-invariants-');
  let store: Store;
  let cleanup: () => Promise<void>;
  let client: pg.Client;
  let hypothesisId: number;
  let sessionId: number;
  const violations = () => checkInvariants(client, strategies.path, []);

  before(async () => {
    const opened = await openTestStore('postgres');
    ({ store, cleanup } = opened);
    client = new pg.Client({ connectionString: opened.target.kind === 'postgres' ? opened.target.url : '' });
    await client.connect();
    const now = new Date();
    const session = await createSession(store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: now });
    sessionId = session.id;
    await endSession(store.db, session.id, { outcome: 'failed_design', reason: 'no valid design' }, now);
    const hypothesis = await addHypothesis(store.db, {
      text: 'RSI zones tuned to 20/80 help on 1h',
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now,
    });
    hypothesisId = hypothesis.id;
    await setHypothesisStatus(store.db, hypothesis.id, {
      status: 'testing',
      evidence: 'session designs it',
      experimentId: null,
      via: 'save_strategy_config',
      now,
    });
    await setHypothesisStatus(store.db, hypothesis.id, {
      status: 'refuted',
      evidence: 'Sharpe fell against the parent',
      experimentId: null,
      via: 'save_assessment',
      now,
    });
    await setHypothesisStatus(store.db, hypothesis.id, { status: 'retired', evidence: null, experimentId: null, via: 'operator', now });
  });
  after(async () => {
    await client.end();
    await cleanup();
    strategies.remove();
  });

  test('moves through the tools and the operator, and one experiment per finished session, hold', async () => {
    assert.deepEqual(await violations(), []);
  });

  test('a status written around the tools is caught', async () => {
    await client.query(`UPDATE agent_hypotheses SET status = 'validated' WHERE id = $1`, [hypothesisId]);
    assert.match((await violations()).join('\n'), /hypothesis status not set by its latest tool event/);
    await client.query(`UPDATE agent_hypotheses SET status = 'refuted' WHERE id = $1`, [hypothesisId]);
  });

  test('an event by anything but its allowed tool is caught, and so is a verdict given by the design tool', async () => {
    const inserted = await client.query(
      `INSERT INTO agent_hypothesis_events (hypothesis_id, status, evidence, experiment_id, via, at) VALUES ($1, 'validated', NULL, NULL, 'tick', now()), ($1, 'validated', NULL, NULL, 'save_strategy_config', now()) RETURNING id`,
      [hypothesisId],
    );
    const found = (await violations()).join('\n');
    assert.match(found, /hypothesis event not made by a tool allowed to make it.*"via":"tick".*"via":"save_strategy_config"/);
    await client.query(`DELETE FROM agent_hypothesis_events WHERE id = ANY($1)`, [inserted.rows.map((r) => r.id)]);
    assert.deepEqual(await violations(), []);
  });

  test('a retirement without its event is caught', async () => {
    await client.query(`UPDATE agent_hypotheses SET retired_at = NULL WHERE id = $1`, [hypothesisId]);
    assert.match((await violations()).join('\n'), /hypothesis retired without its latest event retiring it/);
    await client.query(`UPDATE agent_hypotheses SET retired_at = now() WHERE id = $1`, [hypothesisId]);
  });

  test('a finished session without its experiment is caught', async () => {
    await client.query(`DELETE FROM agent_experiments WHERE session_id = $1`, [sessionId]);
    assert.match((await violations()).join('\n'), /finished session without exactly one experiment row/);
  });
});
