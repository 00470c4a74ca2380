import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { startEngineRig, strategyNameFor, TRAVERSAL_NAME, type EngineRig, type SessionRow } from '../support/scripted-model.ts';

interface ActionRow {
  tool_name: string;
  success: boolean;
  error_message: string | null;
  tool_args: Record<string, unknown>;
}

async function actions(rig: EngineRig, sessionId: number): Promise<ActionRow[]> {
  return (await rig.pool.query('SELECT tool_name, success, error_message, tool_args FROM agent_actions WHERE session_id = $1 ORDER BY id', [sessionId])).rows;
}

async function firstSessionEnds(rig: EngineRig, maxTicks = 12): Promise<SessionRow> {
  await rig.tickUntil(async () => (await rig.sessions())[0]?.outcome != null, { maxTicks, advanceMs: 60_000 });
  return (await rig.sessions())[0]!;
}

describe('engine: every way a session ends, through the built CLI', () => {
  test('failed_design: the model never saves a strategy', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', model: { neverSave: true } });
    t.after(() => rig.close());
    await rig.tick();
    const session = (await rig.sessions())[0]!;
    assert.equal(session.outcome, 'failed_design');
    assert.match(session.failure_reason ?? '', /design invocation ended without its effect/);
    assert.match(session.failure_reason ?? '', /decided not to save it/);
    assert.deepEqual(
      (await actions(rig, session.id)).map((a) => [a.tool_name, a.success]),
      [['validate_strategy', true]],
    );
    assert.deepEqual(readdirSync(rig.strategiesDir), []);
    const metrics = (await rig.pool.query('SELECT outcome FROM agent_metrics WHERE session_id = $1', [session.id])).rows;
    assert.deepEqual(metrics, [{ outcome: 'failed_design' }]);
  });

  test("failed_training: KTRDR's worker fails and no resume is allowed; the reason carries KTRDR's error message", async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', env: { AGENT_RESUME_MAX_ATTEMPTS: '0' } });
    t.after(() => rig.close());
    rig.sim.faults.failureRate = 1;
    const session = await firstSessionEnds(rig);
    assert.equal(session.outcome, 'failed_training', session.failure_reason ?? '');
    const operation = (await (await fetch(`${rig.sim.url}/operations/${session.training_operation_id}`)).json()) as {
      data: { status: string; error_message: string };
    };
    assert.equal(operation.data.status, 'failed');
    assert.ok(operation.data.error_message);
    assert.ok(session.failure_reason?.includes(operation.data.error_message), session.failure_reason ?? '');
  });

  test('failed_training_gate: the reason names the value and the threshold', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', env: { GATE_TRAINING_MIN_ACCURACY: '1' } });
    t.after(() => rig.close());
    const session = await firstSessionEnds(rig);
    assert.equal(session.outcome, 'failed_training_gate', session.failure_reason ?? '');
    assert.match(session.failure_reason ?? '', /^training gate: test_accuracy \d+(\.\d)?% < 100%$/);
    assert.equal(session.backtest_operation_id, null);
    const metrics = (await rig.pool.query('SELECT gate_failed FROM agent_metrics WHERE session_id = $1', [session.id])).rows;
    assert.equal(metrics.length, 1);
  });

  test('failed_backtest: the backtest operation vanishes in KTRDR (404)', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    assert.equal((await rig.sessions())[0]?.phase, 'training');
    // Only operations started from now on are lost: the training finishes, the backtest disappears.
    rig.sim.faults.lostRate = 1;
    await rig.tickUntil(async () => (await rig.sessions())[0]?.phase !== 'training', { maxTicks: 5, advanceMs: 60_000 });
    assert.equal((await rig.sessions())[0]?.phase, 'backtesting');
    const session = await firstSessionEnds(rig);
    assert.equal(session.outcome, 'failed_backtest', session.failure_reason ?? '');
    assert.match(session.failure_reason ?? '', /backtest operation .* is unknown to KTRDR \(404\)/);
  });

  test('failed_backtest_gate: the reason names the value and the threshold', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', env: { GATE_BACKTEST_MIN_SHARPE: '100' } });
    t.after(() => rig.close());
    const session = await firstSessionEnds(rig);
    assert.equal(session.outcome, 'failed_backtest_gate', session.failure_reason ?? '');
    assert.match(session.failure_reason ?? '', /^backtest gate: sharpe -?\d+(\.\d+)? < 100$/);
    assert.equal(session.assessment, null);
  });

  test('failed_assessment: the model never saves an assessment', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', model: { neverAssess: true } });
    t.after(() => rig.close());
    const session = await firstSessionEnds(rig);
    assert.equal(session.outcome, 'failed_assessment', session.failure_reason ?? '');
    assert.match(session.failure_reason ?? '', /assess invocation ended without its effect/);
    assert.equal(session.assessment, null);
    assert.deepEqual(
      session.phase_history.map((p) => p.phase),
      ['designing', 'training', 'backtesting', 'assessing', 'idle'],
    );
  });

  test('an invalid config twice, then a valid one: the session reaches TRAINING with two failed saves recorded', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', model: { invalidYamlFirst: 2 }, frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    const session = (await rig.sessions())[0]!;
    assert.equal(session.phase, 'training', session.failure_reason ?? '');
    const saves = (await actions(rig, session.id)).filter((a) => a.tool_name === 'save_strategy_config');
    assert.deepEqual(
      saves.map((a) => a.success),
      [false, false, true],
    );
    for (const failed of saves.slice(0, 2)) {
      assert.match(failed.error_message ?? '', /strategy not saved/);
      assert.match(failed.error_message ?? '', /outside rsi_14 \(rsi\)'s range 0\.\.100/);
    }
    assert.deepEqual(readdirSync(rig.strategiesDir), [`${strategyNameFor(session.id)}.yaml`]);
  });

  test('a path-traversal strategy name is refused: no file outside the strategies dir, the error is recorded', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', model: { traversalName: true }, frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    const session = (await rig.sessions())[0]!;
    assert.equal(session.phase, 'training', session.failure_reason ?? '');
    const saves = (await actions(rig, session.id)).filter((a) => a.tool_name === 'save_strategy_config');
    assert.equal(saves[0]?.tool_args.name, TRAVERSAL_NAME);
    assert.equal(saves[0]?.success, false);
    assert.match(saves[0]?.error_message ?? '', /not a valid strategy name/);
    assert.equal(saves[1]?.success, true);
    assert.ok(!existsSync(resolve(rig.strategiesDir, `${TRAVERSAL_NAME}.yaml`)));
    assert.ok(!existsSync(resolve(rig.strategiesDir, TRAVERSAL_NAME)));
    assert.deepEqual(readdirSync(rig.strategiesDir), [`${session.strategy_name}.yaml`]);
    assert.notEqual(session.strategy_name, TRAVERSAL_NAME);
  });

  test('a backtest overlapping the training window is refused, then a later window is accepted', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', model: { overlappingBacktest: true } });
    t.after(() => rig.close());
    const session = await firstSessionEnds(rig);
    assert.equal(session.outcome, 'success', session.failure_reason ?? '');
    const backtests = (await actions(rig, session.id)).filter((a) => a.tool_name === 'start_backtest');
    assert.deepEqual(
      backtests.map((a) => a.success),
      [false, true],
    );
    assert.match(backtests[0]!.error_message ?? '', /overlaps the training window 2018-01-01\.\.2022-12-31/);
    const params = (await rig.pool.query('SELECT backtest_params FROM agent_sessions WHERE id = $1', [session.id])).rows[0].backtest_params;
    assert.equal(params.startDate, '2023-01-01');
    assert.equal(params.endDate, '2024-06-30');
  });
});
