// HYPOTHESIS_MOVES is enforced where a status changes: the repository refuses any move the table does not allow,
// before it writes, whoever calls it (the tools, the operator's CLI, the promotion stage, the end of a session).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../src/core/db/connect.ts';
import {
  addHypothesis,
  applyModelVerdict,
  findHypothesis,
  HYPOTHESIS_MOVES,
  hypothesisEvents,
  setHypothesisStatus,
  type HypothesisMover,
} from '../../src/core/db/repositories/hypotheses.ts';
import { hypothesisStatuses } from '../../src/core/session/model.ts';
import { openTestStore } from '../support/databases.ts';

const now = new Date('2026-12-07T10:00:00Z');
const targets = [...hypothesisStatuses, 'retired'] as const;

describe('HYPOTHESIS_MOVES, enforced by the hypotheses repository', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, cleanup } = await openTestStore('postgres'));
  });
  after(() => cleanup());

  const fresh = () =>
    addHypothesis(store.db, {
      text: 'ADX filters whipsaws on 1h majors',
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now,
    });

  test('every move outside the table is refused, and leaves the status and the history as they were', async () => {
    const hypothesis = await fresh();
    await setHypothesisStatus(store.db, hypothesis.id, {
      status: 'testing',
      evidence: 'a session designs it',
      experimentId: null,
      via: 'save_strategy_config',
      now,
    });
    const refused: string[] = [];
    for (const via of Object.keys(HYPOTHESIS_MOVES) as HypothesisMover[]) {
      const allowed: readonly string[] = HYPOTHESIS_MOVES[via];
      for (const status of targets.filter((s) => !allowed.includes(s))) {
        await assert.rejects(
          setHypothesisStatus(store.db, hypothesis.id, { status: status as never, evidence: 'not allowed', experimentId: null, via, now }),
          new RegExp(`"${via}" may not move a hypothesis to ${status}`),
        );
        refused.push(`${via}->${status}`);
      }
    }
    // The table's own shape: the design tool only marks under test, the assessment never validates, only promotion does.
    for (const move of [
      'save_strategy_config->supported',
      'save_assessment->validated',
      'save_assessment->testing',
      'promotion->refuted',
      'session_end->testing',
    ]) {
      assert.ok(refused.includes(move), move);
    }
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'testing');
    assert.deepEqual(
      (await hypothesisEvents(store.db, hypothesis.id)).map((e) => `${e.via}:${e.status}`),
      ['operator:untested', 'save_strategy_config:testing'],
    );
  });

  test('a via the table does not name moves nothing, and proposing is only for those who may', async () => {
    const hypothesis = await fresh();
    await assert.rejects(
      setHypothesisStatus(store.db, hypothesis.id, { status: 'supported' as never, evidence: 'a tick said so', experimentId: null, via: 'tick' as never, now }),
      /"tick" may not move a hypothesis to supported \(HYPOTHESIS_MOVES allows: nothing\)/,
    );
    await assert.rejects(
      addHypothesis(store.db, {
        text: 'a promotion cannot propose',
        rationale: null,
        source: 'model',
        proposedByExperimentId: null,
        via: 'promotion' as never,
        now,
      }),
      /"promotion" may not move a hypothesis to untested/,
    );
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'untested');
  });

  test("a model's verdict goes through the same table: the assessment may support, never validate", async () => {
    const hypothesis = await fresh();
    const verdict = { shownStatus: 'untested' as const, evidence: 'Sharpe 1.4 in sample', experimentId: null, now };
    await assert.rejects(
      applyModelVerdict(store.db, hypothesis.id, { ...verdict, status: 'validated' as never, via: 'save_assessment' }),
      /may not move a hypothesis to validated/,
    );
    await assert.rejects(
      applyModelVerdict(store.db, hypothesis.id, { ...verdict, status: 'supported', via: 'save_strategy_config' }),
      /may not move a hypothesis to supported/,
    );
    assert.equal(await applyModelVerdict(store.db, hypothesis.id, { ...verdict, status: 'supported', via: 'save_assessment' }), true);
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'supported');
  });
});
