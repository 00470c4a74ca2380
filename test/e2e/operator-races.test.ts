// Operators win races: a `pause` or `cancel` that returns while the model is thinking keeps the invocation from
// starting compute or changing the session afterwards, and a cancelled conversation makes no further paid call.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import type { RecordedRequest, ScriptedResponse } from '../support/fake-anthropic.ts';
import { sessionIdOf, startEngineRig } from '../support/scripted-model.ts';

/** Holds the first answer that calls `tool` until the test lets it go; tells the test when it is held. */
function holdAnswerCalling(tool: string) {
  let reached!: (request: RecordedRequest) => void;
  let release!: () => void;
  const held = new Promise<RecordedRequest>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  let done = false;
  const beforeAnswer = async (request: RecordedRequest, answer: ScriptedResponse): Promise<void> => {
    if (done || !answer.content.some((block) => block.type === 'tool_use' && block.name === tool)) return;
    done = true;
    reached(request);
    await gate;
  };
  return { beforeAnswer, held, release };
}

describe('operators win races with an invocation in flight (built CLI, PostgreSQL)', () => {
  test('pause while the model is deciding to start training: no training starts, the attempt is refunded, resume carries on', async (t) => {
    const hold = holdAnswerCalling('start_training');
    const rig = await startEngineRig({ designer: 'claude', frozenClock: true, model: { beforeAnswer: hold.beforeAnswer } });
    t.after(() => rig.close());

    const tick = rig.tick();
    const request = await hold.held;
    const sessionId = sessionIdOf(request);
    const paused = await runCli(['pause'], rig.env);
    assert.equal(paused.code, 0, paused.stderr);
    const requestsAtPause = rig.fake.requests.length;
    hold.release();
    await tick;

    assert.equal(rig.sim.state.operations.size, 0, 'no KTRDR operation was started after pause returned');
    const session = await rig.session(sessionId);
    assert.equal(session.phase, 'designing');
    assert.equal(session.training_operation_id, null);
    assert.equal(session.outcome, null);
    assert.equal(session.invocation_attempts, 0, 'a paused invocation is not an attempt');
    assert.equal(session.lease_expires_at, null);
    assert.equal(rig.fake.requests.length, requestsAtPause, 'no paid call after the pause');
    const refused = await rig.pool.query(`SELECT error_kind FROM agent_actions WHERE session_id = $1 AND tool_name = 'start_training'`, [sessionId]);
    assert.deepEqual(refused.rows, [{ error_kind: 'operator_stopped' }]);

    // Paused: the next tick invokes nothing; after resume the session goes on to train.
    await rig.tick();
    assert.equal(rig.fake.requests.length, requestsAtPause);
    assert.equal((await runCli(['resume'], rig.env)).code, 0);
    await rig.tick();
    assert.equal((await rig.session(sessionId)).phase, 'training');
    assert.equal(rig.sim.state.operations.size, 1);
  });

  test('cancel while the model is deciding to save: nothing is saved and no further paid call is made', async (t) => {
    const hold = holdAnswerCalling('save_strategy_config');
    const rig = await startEngineRig({ designer: 'claude', frozenClock: true, model: { beforeAnswer: hold.beforeAnswer } });
    t.after(() => rig.close());

    const tick = rig.tick();
    const sessionId = sessionIdOf(await hold.held);
    const cancelled = await runCli(['cancel', String(sessionId), '--json'], rig.env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const requestsAtCancel = rig.fake.requests.length;
    hold.release();
    await tick;

    assert.equal(rig.fake.requests.length, requestsAtCancel, 'the conversation stopped before its next paid call');
    assert.deepEqual(readdirSync(rig.strategiesDir), [], 'no strategy was saved after the cancel');
    const session = await rig.session(sessionId);
    assert.equal(session.outcome, 'cancelled');
    assert.equal(session.strategy_name, null);
    assert.equal(rig.sim.state.operations.size, 0);
  });
});
