import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { RecordedRequest } from '../support/fake-anthropic.ts';
import { listPriceUsd } from '../support/list-prices.ts';
import { isFirstTurnOf, sessionIdOf, startEngineRig, type EngineRig } from '../support/scripted-model.ts';

async function rows<T = Record<string, unknown>>(rig: EngineRig, query: string, params: unknown[] = []): Promise<T[]> {
  return (await rig.pool.query(query, params)).rows as T[];
}

/** What the fake server billed for these requests' responses, at the list price of the model each was sent to. */
function ownCost(requests: RecordedRequest[]): number {
  return requests.reduce((sum, r) => {
    const usage = (JSON.parse(r.response?.body ?? '{}') as { usage?: Record<string, unknown> }).usage ?? {};
    return sum + listPriceUsd(String(r.body?.model), usage);
  }, 0);
}

async function databaseDump(rig: EngineRig): Promise<string> {
  const tables = await rows<{ table_name: string }>(rig, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
  assert.ok(tables.length >= 8);
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const dump = await rows<{ j: string | null }>(rig, `SELECT json_agg(t)::text AS j FROM "${table_name}" t`);
    parts.push(dump[0]?.j ?? '');
  }
  return parts.join('\n');
}

function strategyFiles(rig: EngineRig): { name: string; text: string }[] {
  return readdirSync(rig.strategiesDir).map((name) => ({ name, text: readFileSync(join(rig.strategiesDir, name), 'utf8') }));
}

/** Ticks through one whole cycle, with one tick in the middle that only polls a running training. */
async function runOneCycle(rig: EngineRig): Promise<{ pollingTickRequests: number }> {
  await rig.tick();
  const [designed] = await rig.sessions();
  assert.ok(designed, 'the first tick created a session');
  assert.equal(designed.phase, 'training', `design ended in ${designed.phase}: ${designed.failure_reason}`);

  // The simulator clock is frozen: the training is still pending, so this pass only polls.
  const requestsBefore = rig.fake.requests.length;
  await rig.tick();
  const pollingTickRequests = rig.fake.requests.length - requestsBefore;
  assert.equal((await rig.session(designed.id)).phase, 'training');
  const lastTrigger = await rows<{ skip_reason: string; agent_invoked: boolean }>(
    rig,
    'SELECT skip_reason, agent_invoked FROM agent_triggers WHERE session_id = $1 ORDER BY id DESC LIMIT 1',
    [designed.id],
  );
  assert.deepEqual(lastTrigger[0], { skip_reason: 'operation_still_running', agent_invoked: false });

  await rig.tickUntil(async () => (await rig.session(designed.id)).outcome !== null, { maxTicks: 20, advanceMs: 60_000 });
  return { pollingTickRequests };
}

describe('engine: a full research cycle through the built CLI', () => {
  test('claude designer: designing → training → backtesting → assessing → idle, with success', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', frozenClock: true });
    t.after(() => rig.close());
    const { pollingTickRequests } = await runOneCycle(rig);
    assert.equal(pollingTickRequests, 0, 'a pass that only polls sends nothing to the Anthropic API');
    assert.deepEqual(rig.fake.scriptErrors, []);

    // The pass that finishes a cycle goes on to start the next one (one session at a time): that one is left alone.
    const all = await rig.sessions();
    const session = all[0]!;
    assert.ok(all.length <= 2);
    assert.equal(session.outcome, 'success', session.failure_reason ?? '');
    assert.equal(session.phase, 'idle');
    assert.deepEqual(
      session.phase_history.map((p) => p.phase),
      ['designing', 'training', 'backtesting', 'assessing', 'idle'],
    );
    assert.equal(session.assessment?.verdict, 'neutral');

    // The strategy file: in the strategies dir, valid YAML, named as its file.
    assert.ok(session.strategy_name);
    const files = strategyFiles(rig).filter((f) => f.name === `${session.strategy_name}.yaml`);
    assert.equal(files.length, 1);
    const parsed = parse(files[0]!.text) as { name: string; indicators: Record<string, unknown> };
    assert.equal(parsed.name, basename(files[0]!.name, '.yaml'));
    assert.deepEqual(Object.keys(parsed.indicators).sort(), ['adx_14', 'rsi_14']);
    assert.equal(session.strategy_file_path, join(rig.strategiesDir, files[0]!.name));

    const actions = await rows<{ tool_name: string; success: boolean; phase: string; request_id: string | null; tokens_thinking: number | null }>(
      rig,
      'SELECT tool_name, success, phase, request_id, tokens_thinking FROM agent_actions WHERE session_id = $1 ORDER BY id',
      [session.id],
    );
    // Each tool call names the API request that asked for it, and that response's thinking tokens.
    for (const action of actions) {
      assert.match(action.request_id ?? '', /^req_011C/);
      assert.ok((action.tokens_thinking ?? 0) > 0);
    }
    assert.deepEqual(
      actions.map((a) => [a.tool_name, a.success, a.phase]),
      [
        ['validate_strategy', true, 'designing'],
        ['save_strategy_config', true, 'designing'],
        ['start_training', true, 'designing'],
        ['start_backtest', true, 'training'],
        ['save_assessment', true, 'assessing'],
      ],
    );

    // Tokens and cost: on the session, in the metrics row, and as the day's budget use.
    // With prompt caching every input token may be a cache read or write.
    assert.ok(Number(session.tokens_input) + Number(session.tokens_cache_read) + Number(session.tokens_cache_write) > 0);
    assert.ok(Number(session.tokens_output) > 0);
    const cost = Number(session.cost_usd);
    assert.ok(cost > 0);
    const metrics = await rows<{ session_id: number; outcome: string; estimated_cost_usd: string; total_tokens_input: string; total_tokens_output: string }>(
      rig,
      'SELECT * FROM agent_metrics',
    );
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0]!.session_id, session.id);
    assert.equal(metrics[0]!.outcome, 'success');
    assert.ok(Math.abs(Number(metrics[0]!.estimated_cost_usd) - cost) < 1e-6);
    assert.equal(Number(metrics[0]!.total_tokens_input), Number(session.tokens_input));
    assert.equal(Number(metrics[0]!.total_tokens_output), Number(session.tokens_output));
    assert.ok(Number(metrics[0]!.total_tokens_output) > 0);
    const budget = await rows<{ budget_used_usd: string; budget_reserved_usd: string; cycles_started: number }>(rig, 'SELECT * FROM agent_budget');
    assert.equal(budget.length, 1);
    const allCosts = all.reduce((sum, s) => sum + Number(s.cost_usd), 0);
    assert.ok(Math.abs(Number(budget[0]!.budget_used_usd) - allCosts) < 1e-6, `budget used ${budget[0]!.budget_used_usd} vs session costs ${allCosts}`);
    if (all.length === 1) assert.ok(Math.abs(Number(budget[0]!.budget_used_usd) - cost) < 1e-6);
    assert.equal(Number(budget[0]!.budget_reserved_usd), 0);
    assert.equal(budget[0]!.cycles_started, all.length);
    // The session's cost is what its own model responses were billed, each call booked rounded up to the micro-dollar.
    const ownRequests = rig.fake.requests.filter((r) => sessionIdOf(r) === session.id);
    const billed = ownCost(ownRequests);
    assert.ok(cost >= billed - 1e-12 && cost - billed <= ownRequests.length * 1e-6, `cost of session ${session.id}'s responses ${billed} vs ${cost}`);

    const invoked = await rows<{ trigger_reason: string; session_id: number }>(
      rig,
      'SELECT trigger_reason, session_id FROM agent_triggers WHERE agent_invoked AND session_id = $1 ORDER BY id',
      [session.id],
    );
    assert.deepEqual(
      invoked.map((r) => [r.trigger_reason, r.session_id]),
      [
        ['start_new_cycle', session.id],
        ['training_completed', session.id],
        ['backtest_completed', session.id],
      ],
    );
    // One first turn per invocation, one model request per tool call plus nothing more: each phase ends on its effect.
    const requests = ownRequests;
    assert.equal(requests.filter((r) => isFirstTurnOf(r, 'save_strategy_config')).length, 1);
    assert.equal(requests.filter((r) => isFirstTurnOf(r, 'start_backtest')).length, 1);
    assert.equal(requests.filter((r) => isFirstTurnOf(r, 'save_assessment')).length, 1);
    // Context up front, compact: each phase's first message (system prompt, tools and context) stays well under
    // the ~8k tokens the design allows (4 characters per token is generous for this English and JSON).
    for (const tool of ['save_strategy_config', 'start_backtest', 'save_assessment']) {
      const first = requests.find((r) => isFirstTurnOf(r, tool))!;
      const body = first.body!;
      const size = JSON.stringify({ system: body.system, tools: body.tools, messages: body.messages }).length;
      assert.ok(size < 8_000 * 4, `first ${tool} request is ${size} characters`);
      assert.match(JSON.stringify(body.messages[0]), /session #\d+/);
    }
    assert.equal(requests.length, 5);

    // The API key: only in the auth header, nowhere in the database, output or strategy files.
    const dump = await databaseDump(rig);
    assert.ok(dump.includes(session.strategy_name), 'the dump covers the sessions table');
    const outputs = rig.outputs.flatMap((o) => [o.stdout, o.stderr]).join('\n');
    const files2 = strategyFiles(rig)
      .map((f) => f.text)
      .join('\n');
    for (const [where, textValue] of Object.entries({ database: dump, output: outputs, strategies: files2 })) {
      assert.ok(!textValue.includes(rig.apiKey), `the API key leaked into the ${where}`);
    }
    rig.fake.assertApiKeyConfined(rig.apiKey, dump, outputs, files2);
  });

  test('baseline designer: the same cycle at zero cost, assessed by the baseline', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    const { pollingTickRequests } = await runOneCycle(rig);
    assert.equal(pollingTickRequests, 0);
    assert.equal(rig.fake.requests.length, 0, 'the baseline never calls the Anthropic API');

    const sessions = await rig.sessions();
    assert.ok(sessions.length <= 2);
    const session = sessions[0]!;
    assert.equal(session.outcome, 'success', session.failure_reason ?? '');
    assert.equal(session.designer, 'baseline');
    assert.deepEqual(
      session.phase_history.map((p) => p.phase),
      ['designing', 'training', 'backtesting', 'assessing', 'idle'],
    );
    assert.equal(session.assessment?.author, 'baseline');
    assert.equal(Number(session.cost_usd), 0);
    assert.equal(Number(session.tokens_input), 0);
    const files = strategyFiles(rig).filter((f) => f.name === `${session.strategy_name}.yaml`);
    assert.equal(files.length, 1);
    assert.equal((parse(files[0]!.text) as { name: string }).name, session.strategy_name);
    const metrics = await rows<{ estimated_cost_usd: string; outcome: string }>(rig, 'SELECT * FROM agent_metrics');
    assert.equal(metrics.length, 1);
    assert.equal(Number(metrics[0]!.estimated_cost_usd), 0);
    const budget = await rows<{ budget_used_usd: string; cycles_started: number }>(rig, 'SELECT * FROM agent_budget');
    assert.equal(Number(budget[0]!.budget_used_usd), 0);
    assert.equal(budget[0]!.cycles_started, sessions.length);
    const invoked = await rows<{ trigger_reason: string }>(
      rig,
      'SELECT trigger_reason FROM agent_triggers WHERE agent_invoked AND session_id = $1 ORDER BY id',
      [session.id],
    );
    assert.deepEqual(
      invoked.map((r) => r.trigger_reason),
      ['start_new_cycle', 'training_completed', 'backtest_completed'],
    );
  });
});
