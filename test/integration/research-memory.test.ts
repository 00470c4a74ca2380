// The research memory on real stores: every finished session becomes exactly one experiment in the transaction that
// ends it, backfill fills in sessions from before, the design tools refuse a design already run and move hypothesis
// statuses only inside their transactions, and the memory section stays under its budget.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { endSession } from '../../src/core/session/end.ts';
import type { ToolDefinition } from '../../src/core/agent/tools.ts';
import { toolsByName } from '../support/tools.ts';
import { firstMessage } from '../../src/core/agent/context.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import type { Store } from '../../src/core/db/connect.ts';
import { backfillExperiments, findExperimentOfSession, queryExperiments } from '../../src/core/db/repositories/experiments.ts';
import { rebuildTallies } from '../../src/core/db/repositories/experiment-tallies.ts';
import { addHypothesis, findHypothesis, hypothesisEvents } from '../../src/core/db/repositories/hypotheses.ts';
import { createSession, findSession, finishSession, updateSession } from '../../src/core/db/repositories/sessions.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { buildMemorySection } from '../../src/core/agent/memory-section.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { openTestStore, storeKinds, tempDir } from '../support/databases.ts';
import { validStrategy } from '../support/scripted-model.ts';
import { seedExperiments } from '../support/seed-experiments.ts';
import { setHypothesisByOperator } from '../../src/core/cli/services/hypotheses-set.ts';

const trainingGate = {
  gate: 'training' as const,
  passed: false,
  reason: 'final_loss 0.95 > 0.8',
  checks: [
    { metric: 'accuracy', value: 0.5, threshold: 0.45, comparison: '>=' as const, passed: true },
    { metric: 'final_loss', value: 0.95, threshold: 0.8, comparison: '<=' as const, passed: false },
  ],
};

for (const kind of storeKinds) {
  describe(`research memory on ${kind}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(kind));
    });
    after(() => cleanup());

    test('ending a session writes exactly one experiment, with the design, the gate and its reasons', async () => {
      const now = new Date('2026-11-30T12:00:00Z');
      const session = await createSession(store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: now });
      await updateSession(
        store.db,
        session.id,
        {
          strategyName: 'mem_a',
          strategyConfig: validStrategy('mem_a'),
          trainingParams: { strategyName: 'mem_a', symbols: ['EURUSD'], timeframes: ['1h'], startDate: '2020-01-01', endDate: '2024-01-01' },
        },
        now,
      );
      const ended = await endSession(
        store.db,
        session.id,
        {
          outcome: 'failed_training_gate',
          reason: 'training gate: final_loss 0.95 > 0.8',
          gate: trainingGate,
          trainingResults: { accuracy: 0.5, finalLoss: 0.95 },
        },
        now,
      );
      assert.equal(ended, true);
      assert.equal(await endSession(store.db, session.id, { outcome: 'cancelled', reason: 'again' }, now), false);
      const rows = await store.db.selectFrom('agent_experiments').select(['id']).where('session_id', '=', session.id).execute();
      assert.equal(rows.length, 1);
      const experiment = (await findExperimentOfSession(store.db, session.id))!;
      assert.equal(experiment.outcome, 'failed_training_gate');
      assert.deepEqual(experiment.indicatorTypes, ['adx', 'rsi']);
      assert.equal(experiment.symbol, 'EURUSD');
      assert.deepEqual(experiment.trainingWindow, { startDate: '2020-01-01', endDate: '2024-01-01' });
      assert.equal(experiment.gateFailed, 'training');
      assert.deepEqual(experiment.failedChecks, ['final_loss_high']);
      assert.equal(experiment.finalLoss, 0.95);
      assert.equal(experiment.score, null);
      assert.equal(experiment.fingerprint?.length, 64);
    });

    test('backfill writes the experiments of sessions that ended before the memory existed, once', async () => {
      const now = new Date('2026-11-30T13:00:00Z');
      const old = await createSession(store.db, { designer: 'claude', now, leaseOwner: 't', leaseExpiresAt: now });
      // Ended the old way: no experiment written.
      await finishSession(store.db, old.id, { outcome: 'failed_design', failureReason: 'never saved', now });
      assert.equal(await findExperimentOfSession(store.db, old.id), null);
      // Three old backtests on one family: backfilled in completion order, each counts the trials before it.
      const backtested: number[] = [];
      for (const [i, sharpe] of [0.4, 1.1, -0.2].entries()) {
        const at = new Date(now.getTime() + (i + 1) * 60_000);
        const s = await createSession(store.db, { designer: 'baseline', now: at, leaseOwner: 't', leaseExpiresAt: at });
        await updateSession(
          store.db,
          s.id,
          {
            backtestParams: { symbol: 'AUDCAD', timeframe: '4h', startDate: '2024-01-01', endDate: '2024-12-31', modelPath: 'm' },
            backtestResults: { sharpe, winRate: 0.5, maxDrawdown: 0.1, totalTrades: 80 },
          },
          at,
        );
        await finishSession(store.db, s.id, { outcome: 'failed_backtest_gate', failureReason: 'old', now: at });
        backtested.push(s.id);
      }
      assert.equal(await backfillExperiments(store.db), 4);
      assert.equal(await backfillExperiments(store.db), 0);
      assert.equal((await findExperimentOfSession(store.db, old.id))?.outcome, 'failed_design');
      const trials = await Promise.all(backtested.map(async (id) => (await findExperimentOfSession(store.db, id))!));
      assert.deepEqual(
        trials.map((e) => e.dsrTrials),
        [1, 2, 3],
      );
      assert.ok(trials.every((e) => e.deflatedSharpe !== null && e.deflatedSharpe >= 0 && e.deflatedSharpe <= 1));
    });

    test('the running tallies written with each experiment equal a recount from the table', async () => {
      const read = async () =>
        (await store.db.selectFrom('agent_experiment_tallies').selectAll().orderBy('dimension').orderBy('value').execute()).map((r) => ({
          ...r,
          tried: Number(r.tried),
          passed: Number(r.passed),
        }));
      const incremental = await read();
      assert.ok(incremental.some((t) => t.dimension === 'failure' && t.value === 'training|final_loss_high|adx+rsi'));
      assert.deepEqual(incremental.find((t) => t.dimension === 'total')?.tried, 5);
      await rebuildTallies(store.db);
      assert.deepEqual(await read(), incremental);
    });

    test('the memory section stays under its budget at 10 and at 1,000 experiments and shows every part', async () => {
      await addHypothesis(store.db, {
        text: 'RSI with ADX generalises across majors',
        rationale: null,
        source: 'operator',
        proposedByExperimentId: null,
        via: 'operator',
        now: new Date(),
      });
      await seedExperiments(store.db, 10);
      for (const [count, budget] of [
        [10, 600],
        [1000, 600],
        [1000, 300],
      ] as const) {
        if (count === 1000) {
          const have = (await store.db.selectFrom('agent_experiments').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
          if (have < 1000) await seedExperiments(store.db, 1000 - have);
        }
        const memory = await buildMemorySection(store.db, { tokenBudget: budget, recentCount: 5 });
        assert.ok(memory.estimatedTokens <= budget, `${memory.estimatedTokens} tokens > budget ${budget} at ${count}`);
        assert.ok(memory.experiments >= count);
        for (const heading of ['### Best so far', '### Most recent', '### Failures by reason', '### Coverage', '### Open hypotheses']) {
          assert.ok(memory.text.includes(heading), `${heading} missing at ${count} experiments, budget ${budget}:\n${memory.text}`);
        }
        assert.match(memory.text, /designs? failed the (training|backtest) gate on \w+ with [a-z+]+/);
        assert.match(memory.text, /^- indicator pair [a-z]+\+[a-z]+: \d+\/\d+ passed/m);
      }
    });

    if (kind === 'postgres') {
      test('at 100,000 experiments the memory section still fits its budget', async () => {
        const have = (await store.db.selectFrom('agent_experiments').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
        await seedExperiments(store.db, 100_000 - have);
        for (const budget of [200, 1500]) {
          const memory = await buildMemorySection(store.db, { tokenBudget: budget, recentCount: 5 });
          assert.equal(memory.experiments, 100_000);
          assert.ok(memory.estimatedTokens <= budget, `${memory.estimatedTokens} tokens > budget ${budget}`);
          assert.match(memory.text, /^100000 experiments so far/);
        }
      });
    }

    test('query filters: indicators (all of them), outcome, metric range, sort by score', async () => {
      const { experiments } = await queryExperiments(store.db, {
        indicators: ['adx', 'rsi'],
        outcomes: ['success'],
        metric: { name: 'sharpe', min: 1 },
        sort: 'score',
        limit: 5,
      });
      assert.ok(experiments.length > 0);
      for (const e of experiments) {
        assert.ok(e.indicatorTypes.includes('adx') && e.indicatorTypes.includes('rsi'));
        assert.equal(e.outcome, 'success');
        assert.ok(e.sharpe! >= 1);
      }
      const scores = experiments.map((e) => e.score!);
      assert.deepEqual(
        scores,
        [...scores].sort((a, b) => b - a),
      );
    });
  });
}

describe('design and assessment tools with the memory (PostgreSQL, simulator)', () => {
  const work = tempDir('ktrdr-agent-memory-');
  const strategiesDir = join(work.path, 'strategies');
  let store: Store;
  let cleanup: () => Promise<void>;
  let simulator: Simulator;
  let config: ReturnType<typeof loadConfig>;

  before(async () => {
    mkdirSync(strategiesDir);
    ({ store, cleanup } = await openTestStore('postgres'));
    simulator = await createSimulator({ strategiesDir, seed: 5 });
    config = loadConfig({ env: { HOME: work.path, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'baseline' } });
  });
  after(async () => {
    await cleanup();
    await simulator.close();
    work.remove();
  });

  async function toolsOf(purpose: 'design' | 'assess', sessionId: number, settingsOf = config): Promise<Map<string, ToolDefinition>> {
    return toolsByName(purpose, { db: store.db, sessionId, ktrdrUrl: simulator.url, strategiesDir, config: settingsOf });
  }

  async function newSession() {
    const now = new Date();
    return createSession(store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: new Date(now.getTime() + 600_000) });
  }

  test('a design already run is refused with the earlier experiment; a new window or a changed design is accepted', async () => {
    const first = await newSession();
    const design = await toolsOf('design', first.id);
    const window = { start_date: '2020-01-01', end_date: '2024-01-01' };
    const saved = await design.get('save_strategy_config')!.run({ name: 'known_a', config: validStrategy('known_a'), tests_hypothesis: 'exploration' });
    assert.equal(saved.ok, true, saved.ok ? '' : saved.error);
    await updateSession(
      store.db,
      first.id,
      { trainingParams: { strategyName: 'known_a', symbols: ['EURUSD'], timeframes: ['1h'], startDate: window.start_date, endDate: window.end_date } },
      new Date(),
    );
    await endSession(store.db, first.id, { outcome: 'failed_training_gate', reason: 'training gate: final_loss 0.95 > 0.8', gate: trainingGate }, new Date());
    const earlier = (await findExperimentOfSession(store.db, first.id))!;

    const second = await newSession();
    const again = await toolsOf('design', second.id);
    const renamed = await again
      .get('save_strategy_config')!
      .run({ name: 'known_b', config: { ...validStrategy('known_b'), description: 'the same design, renamed' } });
    assert.equal(renamed.ok, false);
    assert.match(renamed.ok ? '' : renamed.error, new RegExp(`experiment #${earlier.id} \\(session #${first.id}\\).*failed_training_gate`));
    const sameWindow = await again.get('save_strategy_config')!.run({ name: 'known_b', config: validStrategy('known_b'), training_window: window });
    assert.equal(sameWindow.ok, false);
    const otherWindow = await again
      .get('save_strategy_config')!
      .run({ name: 'known_b', config: validStrategy('known_b'), training_window: { start_date: '2019-01-01', end_date: '2023-01-01' } });
    assert.equal(otherWindow.ok, true, otherWindow.ok ? '' : otherWindow.error);
    // Training on the window already run is refused too, so the declared window cannot be side-stepped.
    const train = await again.get('start_training')!.run({ strategy_name: 'known_b', ...window });
    assert.equal(train.ok, false);
    assert.match(train.ok ? '' : train.error, /already trained on this window/);

    const changed = structuredClone(validStrategy('known_c')) as Record<string, any>;
    changed.indicators.rsi_14.period = 21;
    const third = await newSession();
    const fresh = await (await toolsOf('design', third.id))
      .get('save_strategy_config')!
      .run({ name: 'known_c', config: changed, parent_experiment: earlier.id });
    assert.equal(fresh.ok, true, fresh.ok ? '' : fresh.error);
  });

  test('a failed tool call is stored with its kind, the label of the tool-error metric, whatever its wording', async () => {
    const session = await newSession();
    const design = await toolsOf('design', session.id);
    await design.get('save_strategy_config')!.run({ name: 42 });
    await design.get('save_strategy_config')!.run({ name: 'kind_a', config: validStrategy('kind_a'), tests_hypothesis: 99999 });
    await updateSession(store.db, session.id, { phase: 'training' }, new Date());
    await design.get('start_training')!.run({ strategy_name: 'kind_a', start_date: '2020-01-01', end_date: '2021-01-01' });
    const rows = await store.db
      .selectFrom('agent_actions')
      .select(['tool_name', 'success', 'error_kind'])
      .where('session_id', '=', session.id)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((row) => [row.tool_name, row.success, row.error_kind]),
      [
        ['save_strategy_config', false, 'invalid_input'],
        ['save_strategy_config', false, 'rejected'],
        ['start_training', false, 'rejected'],
      ],
    );
  });

  test('unknown hypothesis and parent ids are tool errors that list valid ones', async () => {
    const hypothesis = await addHypothesis(store.db, {
      text: 'Aroon direction beats ADX strength on GBPUSD',
      rationale: 'seen twice',
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now: new Date(),
    });
    const session = await newSession();
    const design = await toolsOf('design', session.id);
    const badHypothesis = await design.get('save_strategy_config')!.run({ name: 'ids_a', config: validStrategy('ids_a'), tests_hypothesis: 99999 });
    assert.equal(badHypothesis.ok, false);
    assert.match(badHypothesis.ok ? '' : badHypothesis.error, new RegExp(`#99999 is not an open hypothesis; open hypotheses: .*#${hypothesis.id} Aroon`));
    const badParent = await design.get('save_strategy_config')!.run({ name: 'ids_a', config: validStrategy('ids_a'), parent_experiment: 99999 });
    assert.equal(badParent.ok, false);
    assert.match(badParent.ok ? '' : badParent.error, /#99999 does not exist; known experiments include #\d+/);
  });

  test('save_assessment: proposals and the verdict land with the outcome; 500 proposals are refused', async () => {
    const hypothesis = await addHypothesis(store.db, {
      text: 'RSI zones tuned to 20/80 help on 1h',
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now: new Date(),
    });
    const session = await newSession();
    const changed = structuredClone(validStrategy('assess_a')) as Record<string, any>;
    changed.indicators.adx_14.period = 10;
    const saved = await (await toolsOf('design', session.id))
      .get('save_strategy_config')!
      .run({ name: 'assess_a', config: changed, tests_hypothesis: hypothesis.id });
    assert.equal(saved.ok, true, saved.ok ? '' : saved.error);
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'testing');
    await updateSession(store.db, session.id, { phase: 'assessing' }, new Date());
    const assess = (await toolsOf('assess', session.id)).get('save_assessment')!;
    const base = {
      verdict: 'neutral',
      explanation: 'Middling but stable results.',
      strengths: ['stable'],
      weaknesses: ['few trades'],
      suggestions: ['another symbol'],
    };
    const flood = await assess.run({ ...base, hypotheses_proposed: Array.from({ length: 500 }, (_, i) => ({ text: `hypothesis number ${i} about RSI` })) });
    assert.equal(flood.ok, false);
    assert.match(flood.ok ? '' : flood.error, /hypotheses_proposed: propose at most 5 hypotheses per assessment/);
    const validated = await assess.run({ ...base, hypothesis_verdict: { id: hypothesis.id, status: 'validated', evidence: 'it worked well enough' } });
    assert.equal(validated.ok, false, 'one in-sample backtest cannot validate');
    assert.match(validated.ok ? '' : validated.error, /hypothesis_verdict\.status: .*"supported"/);
    const unknown = await assess.run({ ...base, hypothesis_verdict: { id: 99999, status: 'supported', evidence: 'it worked well enough' } });
    assert.equal(unknown.ok, false);
    assert.match(unknown.ok ? '' : unknown.error, /#99999, which is not an open hypothesis; open hypotheses: /);
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'testing', 'a refused call changes nothing');

    const hostile = "'); DROP TABLE agent_hypotheses; -- \u0000 <script>alert(1)</script>";
    const done = await assess.run({
      ...base,
      hypotheses_proposed: [{ text: `A hostile one: ${hostile}`, rationale: hostile }, { text: 'MFI adds money flow that RSI lacks' }],
      hypothesis_verdict: { id: hypothesis.id, status: 'refuted', evidence: 'Sharpe fell against the parent; the zones did not help.' },
    });
    assert.equal(done.ok, true, done.ok ? '' : done.error);
    const experiment = (await findExperimentOfSession(store.db, session.id))!;
    assert.equal(experiment.hypothesisId, hypothesis.id);
    const judged = (await findHypothesis(store.db, hypothesis.id))!;
    assert.equal(judged.status, 'refuted');
    const events = await hypothesisEvents(store.db, hypothesis.id);
    assert.deepEqual(
      events.map((e) => [e.status, e.via]),
      [
        ['untested', 'operator'],
        ['testing', 'save_strategy_config'],
        ['refuted', 'save_assessment'],
      ],
    );
    assert.equal(events.at(-1)?.experimentId, experiment.id);
    const proposed = await store.db.selectFrom('agent_hypotheses').selectAll().where('proposed_by_experiment_id', '=', experiment.id).orderBy('id').execute();
    assert.equal(proposed.length, 2);
    assert.ok(proposed[0]!.text.includes('DROP TABLE') && !proposed[0]!.text.includes('\u0000'));
    assert.equal(proposed[0]!.source, 'designer');
  });

  test("an operator's hypotheses set made while the model assessed is not overwritten by its verdict, which is kept as an event", async () => {
    const hypothesis = await addHypothesis(store.db, {
      text: 'Stochastic zones time EURUSD swings',
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now: new Date(),
    });
    const session = await newSession();
    const changed = structuredClone(validStrategy('race_a')) as Record<string, any>;
    changed.indicators.adx_14.period = 11;
    const saved = await (await toolsOf('design', session.id))
      .get('save_strategy_config')!
      .run({ name: 'race_a', config: changed, tests_hypothesis: hypothesis.id });
    assert.equal(saved.ok, true, saved.ok ? '' : saved.error);
    await updateSession(store.db, session.id, { phase: 'assessing' }, new Date());
    const message = await firstMessage({
      db: store.db,
      ktrdr: new KtrdrClient({ baseUrl: simulator.url }),
      sessionId: session.id,
      purpose: 'assess',
      recentCount: 5,
      today: '2026-11-30',
    });
    assert.match(message, new RegExp(`H${hypothesis.id} \\[testing\\]`));
    // While the model thinks, the operator refutes it.
    await setHypothesisByOperator(store.db, { id: hypothesis.id, status: 'refuted', evidence: 'it fails live', now: new Date() });
    const assess = (await toolsOf('assess', session.id)).get('save_assessment')!;
    const done = await assess.run({
      verdict: 'promising',
      explanation: 'Strong in-sample result on the window.',
      strengths: ['Sharpe 1.3'],
      weaknesses: ['one window'],
      suggestions: ['another symbol'],
      hypothesis_verdict: { id: hypothesis.id, status: 'supported', evidence: 'Sharpe 1.3 with 80 trades in sample.' },
    });
    assert.equal(done.ok, true, done.ok ? '' : done.error);
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'refuted');
    const events = await hypothesisEvents(store.db, hypothesis.id);
    assert.deepEqual(
      events.map((e) => [e.status, e.via, e.moved]),
      [
        ['untested', 'operator', true],
        ['testing', 'save_strategy_config', true],
        ['refuted', 'operator', true],
        ['supported', 'save_assessment', false],
      ],
    );
    assert.match(events.at(-1)!.evidence ?? '', /made on status testing, and the hypothesis is now refuted/);
  });

  test('a test that ends before any verdict (a failed gate) gives its hypothesis back as untested, with why; a test still running keeps it testing', async () => {
    const hypothesis = await addHypothesis(store.db, {
      text: 'Wider RSI zones trade less and lose less',
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now: new Date(),
    });
    const designs = ['release_a', 'release_b'].map((name, i) => {
      const config = structuredClone(validStrategy(name)) as Record<string, any>;
      config.indicators.rsi_14.period = 30 + i;
      return { name, config };
    });
    const sessions = [];
    for (const design of designs) {
      const session = await newSession();
      const saved = await (await toolsOf('design', session.id)).get('save_strategy_config')!.run({ ...design, tests_hypothesis: hypothesis.id });
      assert.equal(saved.ok, true, saved.ok ? '' : saved.error);
      sessions.push(session);
    }
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'testing');
    await endSession(
      store.db,
      sessions[0]!.id,
      { outcome: 'failed_training_gate', reason: 'training gate: test_loss 0.95 > 0.8', gate: trainingGate },
      new Date(),
    );
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'testing', 'the second session still tests it');
    await endSession(store.db, sessions[1]!.id, { outcome: 'failed_training', reason: 'training operation failed' }, new Date());
    assert.equal((await findHypothesis(store.db, hypothesis.id))?.status, 'untested');
    const last = (await hypothesisEvents(store.db, hypothesis.id)).at(-1)!;
    assert.equal(last.via, 'session_end');
    assert.match(last.evidence ?? '', new RegExp(`^session #${sessions[1]!.id} ended failed_training before a verdict: training operation failed`));
  });

  test("a claude session's experiment names the design phase's model and its assessment the assess phase's", async () => {
    const perPhase = loadConfig({
      env: {
        HOME: work.path,
        KTRDR_API_URL: simulator.url,
        KTRDR_STRATEGIES_DIR: strategiesDir,
        AGENT_DESIGNER: 'claude',
        ANTHROPIC_API_KEY: 'sk-ant-test',
        AGENT_MODEL: 'claude-opus-5-5',
        AGENT_MODEL_ASSESS: 'claude-haiku-5-5',
      },
    });
    const now = new Date();
    const session = await createSession(store.db, { designer: 'claude', now, leaseOwner: 't', leaseExpiresAt: new Date(now.getTime() + 600_000) });
    const changed = structuredClone(validStrategy('models_a')) as Record<string, any>;
    changed.indicators.adx_14.period = 9;
    const saved = await (await toolsOf('design', session.id, perPhase))
      .get('save_strategy_config')!
      .run({ name: 'models_a', config: changed, tests_hypothesis: 'exploration' });
    assert.equal(saved.ok, true, saved.ok ? '' : saved.error);
    await updateSession(store.db, session.id, { phase: 'assessing' }, new Date());
    const assess = (await toolsOf('assess', session.id, perPhase)).get('save_assessment')!;
    const done = await assess.run({
      verdict: 'neutral',
      explanation: 'Middling but stable results.',
      strengths: ['stable'],
      weaknesses: ['few trades'],
      suggestions: ['another symbol'],
    });
    assert.equal(done.ok, true, done.ok ? '' : done.error);
    assert.equal((await findSession(store.db, session.id))?.assessment?.author, 'claude-haiku-5-5');
    assert.equal((await findExperimentOfSession(store.db, session.id))?.model, 'claude-opus-5-5');
  });

  test('the design message carries the memory; the assessment message the hypothesis under test and the parent', async () => {
    const ktrdr = new KtrdrClient({ baseUrl: simulator.url });
    const hypothesis = await addHypothesis(store.db, {
      text: 'ADX period 10 reacts faster on EURUSD',
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now: new Date(),
    });
    const parent = (await queryExperiments(store.db, { sort: 'id', limit: 1 })).experiments[0]!;
    const session = await newSession();
    const design = await firstMessage({
      db: store.db,
      ktrdr,
      sessionId: session.id,
      purpose: 'design',
      recentCount: 5,
      today: '2026-11-30',
      memoryTokenBudget: 800,
    });
    assert.match(design, /## Research memory[\s\S]*experiments? so far[\s\S]*### Best so far[\s\S]*### Open hypotheses[\s\S]*H\d+ \[/);
    // A session created outside a pass has no directive: the section says so rather than inventing one.
    assert.match(design, /## This cycle's directive \(the search policy's allocation\)\n\(no directive for this cycle: design freely\)/);
    const changed = structuredClone(validStrategy('lineage_a')) as Record<string, any>;
    changed.indicators.adx_14.period = 11;
    const saved = await (await toolsOf('design', session.id))
      .get('save_strategy_config')!
      .run({ name: 'lineage_a', config: changed, tests_hypothesis: hypothesis.id, parent_experiment: parent.id });
    assert.equal(saved.ok, true, saved.ok ? '' : saved.error);
    await updateSession(store.db, session.id, { phase: 'assessing' }, new Date());
    const assess = await firstMessage({ db: store.db, ktrdr, sessionId: session.id, purpose: 'assess', recentCount: 5, today: '2026-11-30' });
    assert.match(assess, new RegExp(`Hypothesis under test: H${hypothesis.id} \\[testing\\] ADX period 10 reacts faster on EURUSD`));
    assert.match(assess, new RegExp(`Parent experiment \\(compare this result with it\\):\\n  - #${parent.id} `));
  });

  test('query_experiments pages through the memory read-only', async () => {
    const session = await newSession();
    const query = (await toolsOf('design', session.id)).get('query_experiments')!;
    const page = await query.run({ indicators: ['rsi'], sort: 'id', limit: 1 });
    assert.equal(page.ok, true);
    const content = (page as { content: { experiments: { id: number; indicators: string[] }[]; next_offset: number | null } }).content;
    assert.equal(content.experiments.length, 1);
    assert.equal(content.next_offset, 1);
    const next = await query.run({ indicators: ['rsi'], sort: 'id', limit: 1, offset: 1 });
    const second = (next as { content: { experiments: { id: number }[] } }).content.experiments[0]!;
    assert.ok(second.id < content.experiments[0]!.id);
    const bad = await query.run({ min: 1 });
    assert.equal(bad.ok, false);
  });
});
