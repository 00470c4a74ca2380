// Trial accounting's claim, on both stores: a design saved by one session in flight cannot be saved or trained by a
// second (the refusal names the live session); two sessions saving the same design at once: one wins, the other is
// refused; the claim ends with its session.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { endSession } from '../../src/core/session/end.ts';
import { toolsFor, type ToolContext, type ToolDefinition } from '../../src/core/agent/tools.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import type { Store } from '../../src/core/db/connect.ts';
import { claimDesign, type DesignClaim } from '../../src/core/db/repositories/design-claims.ts';
import { findExperimentOfSession } from '../../src/core/db/repositories/experiments.ts';
import { rebuildTallies } from '../../src/core/db/repositories/experiment-tallies.ts';
import { createSession, findSession, updateSession } from '../../src/core/db/repositories/sessions.ts';
import { buildMemorySection } from '../../src/core/agent/memory-section.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { StrategyStore } from '../../src/core/strategy/index.ts';
import { openTestStore, storeKinds, tempDir } from '../support/databases.ts';
import { validStrategy } from '../support/scripted-model.ts';

const trainingGate = {
  gate: 'training' as const,
  passed: false,
  reason: 'final_loss 0.95 > 0.8',
  checks: [{ metric: 'final_loss', value: 0.95, threshold: 0.8, comparison: '<=' as const, passed: false }],
};

for (const kind of storeKinds) {
  describe(`design claims on ${kind}`, () => {
    const work = tempDir('ktrdr-agent-claims-');
    const strategiesDir = join(work.path, 'strategies');
    let store: Store;
    let cleanup: () => Promise<void>;
    let simulator: Simulator;
    let config: ReturnType<typeof loadConfig>;

    before(async () => {
      mkdirSync(strategiesDir);
      ({ store, cleanup } = await openTestStore(kind));
      simulator = await createSimulator({ strategiesDir, seed: 7 });
      config = loadConfig({ env: { HOME: work.path, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'baseline' } });
    });
    after(async () => {
      await cleanup();
      await simulator.close();
      work.remove();
    });

    function toolsOf(sessionId: number): Map<string, ToolDefinition> {
      const context: ToolContext = {
        db: store.db,
        sessionId,
        ktrdr: new KtrdrClient({ baseUrl: simulator.url }),
        strategies: new StrategyStore(strategiesDir),
        ktrdrUnreachable: false,
        config,
        now: () => new Date(),
        turn: { index: 1, tokensInput: null, tokensOutput: null },
      };
      return new Map(toolsFor('design', context).map((t) => [t.name, t]));
    }
    const newSession = () => {
      const now = new Date();
      return createSession(store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: new Date(now.getTime() + 600_000) });
    };
    const design = (name: string, period: number) => {
      const config = structuredClone(validStrategy(name)) as Record<string, any>;
      config.indicators.rsi_14.period = period;
      return config;
    };
    const error = (outcome: { ok: boolean; error?: string }) => (outcome.ok ? '' : (outcome.error ?? ''));

    test('two sessions saving the same design at once: one wins, the other is refused with the winner named', async () => {
      const [a, b] = [await newSession(), await newSession()];
      const results = await Promise.all([
        toolsOf(a.id)
          .get('save_strategy_config')!
          .run({ name: 'claim_a', config: design('claim_a', 17) }),
        toolsOf(b.id)
          .get('save_strategy_config')!
          .run({ name: 'claim_b', config: design('claim_b', 17) }),
      ]);
      assert.equal(results.filter((r) => r.ok).length, 1, results.map(error).join(' | '));
      const [winner, loser] = results[0]!.ok ? [a, b] : [b, a];
      const refusal = error(results.find((r) => !r.ok)!);
      assert.match(
        refusal,
        new RegExp(
          `^strategy not saved: session #${winner.id} is running this design \\(fingerprint [0-9a-f]{12}\\) on EURUSD 1h, a training window not chosen yet, now \\(phase designing\\)`,
        ),
      );
      assert.equal((await findSession(store.db, loser.id))?.strategyName, null, 'the loser saved nothing');
      const claims = await store.db.selectFrom('agent_design_claims').select('session_id').execute();
      assert.deepEqual(
        claims.map((c) => c.session_id),
        [winner.id],
      );

      // Once the winner's session has ended (here without a training answer), the design is free again.
      await endSession(store.db, winner.id, { outcome: 'failed_training', reason: 'KTRDR training failed' }, new Date());
      const again = await toolsOf(loser.id)
        .get('save_strategy_config')!
        .run({ name: 'claim_b', config: design('claim_b', 17) });
      assert.equal(again.ok, true, error(again));
    });

    test('a design claimed on one window refuses training on that window in a second session, not on another', async () => {
      const [a, b] = [await newSession(), await newSession()];
      const w1 = { start_date: '2020-01-01', end_date: '2022-12-31' };
      const w2 = { start_date: '2019-01-01', end_date: '2021-12-31' };
      assert.equal(
        (
          await toolsOf(a.id)
            .get('save_strategy_config')!
            .run({ name: 'window_a', config: design('window_a', 23), training_window: w1 })
        ).ok,
        true,
      );
      const sameWindow = await toolsOf(b.id)
        .get('save_strategy_config')!
        .run({ name: 'window_b', config: design('window_b', 23), training_window: w1 });
      assert.match(error(sameWindow), new RegExp(`session #${a.id} is running this design .* training window 2020-01-01\\.\\.2022-12-31, now`));
      const noWindow = await toolsOf(b.id)
        .get('save_strategy_config')!
        .run({ name: 'window_b', config: design('window_b', 23) });
      assert.match(error(noWindow), new RegExp(`session #${a.id} is running this design`), 'a save without a window would cover the claimed one');
      const otherWindow = await toolsOf(b.id)
        .get('save_strategy_config')!
        .run({ name: 'window_b', config: design('window_b', 23), training_window: w2 });
      assert.equal(otherWindow.ok, true, error(otherWindow));
      const train = await toolsOf(b.id)
        .get('start_training')!
        .run({ strategy_name: 'window_b', ...w1 });
      assert.match(error(train), new RegExp(`^training not started: session #${a.id} is running this design .* training window 2020-01-01\\.\\.2022-12-31`));
      assert.equal((await findSession(store.db, b.id))?.phase, 'designing');
    });

    test('a design refused as a repeat fails with why, and the memory says which experiment it repeats', async () => {
      const [a, b] = [await newSession(), await newSession()];
      const window = { start_date: '2020-01-01', end_date: '2022-12-31' };
      assert.equal(
        (
          await toolsOf(a.id)
            .get('save_strategy_config')!
            .run({ name: 'repeat_a', config: design('repeat_a', 29), training_window: window })
        ).ok,
        true,
      );
      await updateSession(
        store.db,
        a.id,
        { trainingParams: { strategyName: 'repeat_a', symbols: ['EURUSD'], timeframes: ['1h'], startDate: window.start_date, endDate: window.end_date } },
        new Date(),
      );
      await endSession(store.db, a.id, { outcome: 'failed_training_gate', reason: 'training gate: final_loss 0.95 > 0.8', gate: trainingGate }, new Date());
      const earlier = (await findExperimentOfSession(store.db, a.id))!;

      const refused = await toolsOf(b.id)
        .get('save_strategy_config')!
        .run({ name: 'repeat_b', config: design('repeat_b', 29), training_window: window });
      assert.equal(refused.ok, false);
      await endSession(store.db, b.id, { outcome: 'failed_design', reason: 'the design invocation ended without its effect (end_turn: gave up).' }, new Date());
      const failed = (await findExperimentOfSession(store.db, b.id))!;
      assert.equal(failed.designFailure?.kind, 'duplicate');
      assert.match(failed.designFailure?.detail ?? '', new RegExp(`^repeats experiment #${earlier.id} \\(session #${a.id}\\) on EURUSD 1h`));

      const memory = await buildMemorySection(store.db, { tokenBudget: 2000, recentCount: 10 });
      assert.match(memory.text, new RegExp(`^- #${failed.id} design failed: repeats experiment #${earlier.id} \\(session #${a.id}\\)`, 'm'));
      assert.doesNotMatch(memory.text, /\(unsaved\) \[\(no indicators\)\] \? \?/);
      assert.match(memory.text, /^- 1 design never trained: refused as a repeat of an experiment already run$/m);
      // The running tallies still equal a recount from the table, design failures included.
      const read = async () =>
        (await store.db.selectFrom('agent_experiment_tallies').selectAll().orderBy('dimension').orderBy('value').execute()).map((r) => ({
          ...r,
          tried: Number(r.tried),
          passed: Number(r.passed),
        }));
      const incremental = await read();
      await rebuildTallies(store.db);
      assert.deepEqual(await read(), incremental);
    });

    if (kind === 'postgres') {
      test('the claim is race-free: a second transaction waits on the first and then sees its claim', async () => {
        const [a, b] = [await newSession(), await newSession()];
        const claim: DesignClaim = { fingerprint: 'f'.repeat(64), symbol: 'GBPUSD', timeframe: '4h', window: null };
        let claimed!: () => void;
        let release!: () => void;
        const aClaimed = new Promise<void>((resolve) => (claimed = resolve));
        const gate = new Promise<void>((resolve) => (release = resolve));
        const first = store.db.transaction().execute(async (trx) => {
          const holder = await claimDesign(trx, a.id, claim, new Date());
          claimed();
          await gate;
          return holder;
        });
        await aClaimed;
        const second = store.db.transaction().execute((trx) => claimDesign(trx, b.id, claim, new Date()));
        let secondDone = false;
        void second.finally(() => (secondDone = true));
        // Wait until the second transaction is blocked on the design's advisory lock (or, without one, has already
        // claimed too, which the assertions below catch), then let the first commit.
        while (!secondDone) {
          const waiting = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`.execute(store.db);
          if (waiting.rows[0]!.n > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        release();
        assert.equal(await first, null);
        assert.equal((await second)?.sessionId, a.id);
      });
    }
  });
}
