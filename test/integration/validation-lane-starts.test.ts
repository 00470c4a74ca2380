// The validation lane against the simulator over HTTP, on the two ways the short chaos run saw a promotion's windows
// live together (docs/chaos.md): a validation backtest KTRDR lost (404) may still run unseen, so no other window of
// its promotion starts beside it; and with KTRDR's clock 5 minutes behind ours, the lane's own run is still its own
// (KTRDR's measured offset comes off its creation time), not a foreign operation that holds the promotion.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/load.ts';
import type { Store } from '../../src/core/db/connect.ts';
import { retryHeldValidations } from '../../src/core/cli/services/lockbox-retry.ts';
import { AgentError } from '../../src/core/kernel/errors.ts';
import { listPromotions, planValidations, screenCandidates, validationsOf } from '../../src/core/db/repositories/promotions.ts';
import { createSession, updateSession } from '../../src/core/db/repositories/sessions.ts';
import { runValidationLane } from '../../src/core/engine/validation-lane.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { endSession } from '../../src/core/session/end.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { StrategyStore } from '../../src/core/strategy/store.ts';
import { openTestStore, storeKinds, tempDir } from '../support/databases.ts';
import { validStrategy } from '../support/scripted-model.ts';

const passedGate = (gate: 'training' | 'backtest') => ({ gate, passed: true, reason: null, checks: [] });
const WINDOWS = [
  { kind: 'robustness', ordinal: 1, startDate: '2018-12-05', endDate: '2019-12-04' },
  { kind: 'robustness', ordinal: 2, startDate: '2017-12-05', endDate: '2018-12-04' },
  { kind: 'lockbox', ordinal: 1, startDate: '2025-12-06', endDate: '2026-12-05' },
] as const;

for (const kind of storeKinds) {
  describe(`validation lane starts on ${kind}`, () => {
    const work = tempDir('ktrdr-agent-lane-starts-');
    const strategiesDir = join(work.path, 'strategies');
    let store: Store;
    let cleanup: () => Promise<void>;
    let simulator: Simulator;
    let ktrdr: KtrdrClient;

    before(async () => {
      mkdirSync(strategiesDir);
      ({ store, cleanup } = await openTestStore(kind));
      // KTRDR's clock 5 minutes behind ours, as in the short chaos run; runs end within milliseconds.
      simulator = await createSimulator({ strategiesDir, seed: 4, timeScale: 1_000_000, faults: { clockOffsetMs: -5 * 60_000 } });
      ktrdr = new KtrdrClient({ baseUrl: simulator.url });
    });
    after(async () => {
      await cleanup();
      await simulator.close();
      work.remove();
    });

    /** A pending promotion of a model the simulator trained, with its three windows planned. */
    async function plannedPromotion(name: string): Promise<number> {
      await new StrategyStore(strategiesDir).save(name, validStrategy(name));
      const training = { strategyName: name, symbols: ['EURUSD'], timeframes: ['1h'], startDate: '2019-12-05', endDate: '2023-12-05' };
      const started = await ktrdr.startTraining(training);
      let modelPath: string | null = null;
      for (let i = 0; i < 100 && !modelPath; i++) {
        const operation = await ktrdr.getOperation(started.operationId);
        const path = (operation.result_summary as { model_path?: string } | null)?.model_path;
        if (operation.status === 'completed' && path) modelPath = path;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(modelPath, 'the simulator trained the model');
      const now = new Date();
      const session = await createSession(store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: now });
      await updateSession(
        store.db,
        session.id,
        {
          strategyName: name,
          strategyConfig: validStrategy(name),
          trainingParams: training,
          backtestParams: { symbol: 'EURUSD', timeframe: '1h', startDate: '2023-12-06', endDate: '2024-12-05', modelPath },
          trainingResults: { accuracy: 0.6, finalLoss: 0.5, modelPath },
          trainingGate: passedGate('training'),
          backtestGate: passedGate('backtest'),
          backtestResults: { sharpe: 1.5, bars: 6201, winRate: 0.5, maxDrawdown: 0.1, totalTrades: 80 },
        },
        now,
      );
      assert.equal(await endSession(store.db, session.id, { outcome: 'success', reason: null }, now), true);
      const [promotion] = await screenCandidates(store.db, { minDsr: 0, now, limit: 10 });
      assert.equal(promotion?.strategyName, name);
      await planValidations(
        store.db,
        promotion.id,
        WINDOWS.map((w) => ({ ...w, symbol: 'EURUSD', timeframe: '1h', lockboxId: null })),
        null,
      );
      return promotion.id;
    }

    const pass = (settings: ReturnType<typeof loadConfig>['settings']) =>
      runValidationLane({ db: store.db, settings, ktrdr, now: () => new Date(), onFault: () => undefined }, { startNew: true, ktrdrDown: false });
    const settingsOf = () => loadConfig({ env: { HOME: work.path, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir } }).settings;
    const startsOf = (name: string) => [...simulator.state.operations.values()].filter((o) => o.type === 'backtesting' && o.strategyName === name);

    test('with KTRDR 5 minutes behind, each window runs once as the lane own run, one at a time, and the promotion is decided', async () => {
      const promotionId = await plannedPromotion('lane_clock');
      const settings = settingsOf();
      for (let i = 0; i < 12; i++) {
        await pass(settings);
        if ((await listPromotions(store.db, ['pending'])).every((p) => p.id !== promotionId)) break;
      }
      const validations = await validationsOf(store.db, promotionId);
      assert.deepEqual(
        validations.map((v) => [v.kind, v.status, v.lastError]),
        [
          ['robustness', 'completed', null],
          ['robustness', 'completed', null],
          ['lockbox', 'completed', null],
        ],
      );
      assert.equal(startsOf('lane_clock').length, 3, 'one start per window');
      const [row] = await store.db.selectFrom('agent_promotions').select('status').where('id', '=', promotionId).execute();
      assert.notEqual(row?.status, 'pending');
    });

    test('a window KTRDR lost (404) holds its promotion: no other window of the model starts beside a run that may still live', async () => {
      const promotionId = await plannedPromotion('lane_lost');
      const settings = settingsOf();
      // The first window's run vanishes partway (KTRDR answers 404 for it from then on); nothing else is faulty.
      simulator.faults.lostRate = 1;
      await pass(settings);
      simulator.faults.lostRate = 0;
      assert.equal(startsOf('lane_lost').length, 1);
      for (let i = 0; i < 5; i++) await pass(settings);
      const validations = await validationsOf(store.db, promotionId);
      assert.deepEqual(
        validations.map((v) => [v.kind, v.ordinal, v.status]),
        [
          ['robustness', 1, 'held'],
          ['robustness', 2, 'planned'],
          ['lockbox', 1, 'planned'],
        ],
      );
      assert.match(validations[0]!.lastError ?? '', /unknown to KTRDR \(404\)/);
      assert.equal(startsOf('lane_lost').length, 1, 'nothing started beside the lost run');
      const [promotion] = (await listPromotions(store.db, ['pending'])).filter((p) => p.id === promotionId);
      assert.match(promotion?.reason ?? '', /^held: /);
    });

    test('lockbox retry plans a held window again (tries and operation cleared, the retry noted) and a later pass decides the promotion', async () => {
      const promotionId = await plannedPromotion('lane_retry');
      const settings = settingsOf();
      simulator.faults.lostRate = 1;
      await pass(settings);
      simulator.faults.lostRate = 0;
      await pass(settings);
      const [held] = await validationsOf(store.db, promotionId);
      assert.equal(held?.status, 'held');
      const [promotion] = (await listPromotions(store.db, ['pending'])).filter((p) => p.id === promotionId);
      const now = new Date('2026-12-07T05:00:00Z');
      const result = await retryHeldValidations(store.db, { experimentId: promotion!.experimentId, now });
      assert.deepEqual(
        result.retried.map((w) => [w.kind, w.ordinal, w.startDate]),
        [['robustness', 1, '2018-12-05']],
      );
      assert.match(result.retried[0]!.heldFor ?? '', /unknown to KTRDR \(404\)/);
      const [replanned] = await validationsOf(store.db, promotionId);
      assert.deepEqual([replanned!.status, replanned!.attempts, replanned!.operationId, replanned!.startedAt], ['planned', 0, null, null]);
      const [noted] = (await listPromotions(store.db, ['pending'])).filter((p) => p.id === promotionId);
      assert.equal(noted?.reason, 'retried by the operator at 2026-12-07T05:00:00.000Z (lockbox retry): 1 held backtest(s) planned again');
      await assert.rejects(
        retryHeldValidations(store.db, { experimentId: promotion!.experimentId, now }),
        (e: unknown) => e instanceof AgentError && e.code === 'nothing_held',
      );
      for (let i = 0; i < 12; i++) {
        await pass(settings);
        if ((await listPromotions(store.db, ['pending'])).every((p) => p.id !== promotionId)) break;
      }
      const validations = await validationsOf(store.db, promotionId);
      assert.deepEqual(
        validations.map((v) => v.status),
        ['completed', 'completed', 'completed'],
      );
      const [decided] = (await listPromotions(store.db, ['promoted', 'rejected'])).filter((p) => p.id === promotionId);
      assert.ok(decided, 'the promotion is decided');
      await assert.rejects(
        retryHeldValidations(store.db, { experimentId: promotion!.experimentId, now }),
        (e: unknown) => e instanceof AgentError && e.code === 'promotion_decided' && e.exitCode === 1,
      );
    });
  });
}
