// Hypotheses that mean something, on both stores: the migration turns model-validated rows into `supported` with an
// event, only a promotion validates (a rejection records why without moving the status), a model's verdict made on a
// status the operator has since changed is kept as an event only, and the DSR the promotion stage reads is the
// family's now.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrations } from '../../migrations/index.ts';
import { DEMOTION_EVIDENCE } from '../../migrations/20261207T105000000Z-hypothesis-supported.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import type { Database } from '../../src/core/db/database-schema.ts';
import {
  addHypothesis,
  applyModelVerdict,
  findHypothesis,
  hypothesisEvents,
  recordPromotionForHypotheses,
  setHypothesisStatus,
} from '../../src/core/db/repositories/hypotheses.ts';
import { deflatedSharpeNow, familyTrials } from '../../src/core/db/read-models/trials.ts';
import { deflatedSharpeOfBacktest } from '../../src/core/research/deflated-sharpe.ts';
import { createTestDatabase, openTestStore, storeKinds } from '../support/databases.ts';
import { insertTrial } from '../support/trial-rows.ts';

const now = new Date('2026-12-07T10:00:00Z');
const BEFORE_SUPPORTED = '20261206T123000000Z-tool-error-kind';

function migratorOf(db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
  });
}

async function unmigratedStore(kind: (typeof storeKinds)[number]): Promise<{ store: Store; cleanup(): Promise<void> }> {
  if (kind === 'pglite') {
    const store = await openStore({ kind: 'pglite', dataDir: null }, { migrate: false });
    return { store, cleanup: () => store.close() };
  }
  const database = await createTestDatabase();
  const store = await openStore({ kind: 'postgres', url: database.url }, { migrate: false });
  return { store, cleanup: async () => (await store.close(), await database.drop()) };
}

for (const kind of storeKinds) {
  describe(`the trial-accounting migrations on ${kind}`, () => {
    test('validated rows become supported with an event saying so; a retired one stays retired; others are untouched; old failed designs get their reason', async () => {
      const { store, cleanup } = await unmigratedStore(kind);
      try {
        const migrator = migratorOf(store.db);
        const first = await migrator.migrateTo(BEFORE_SUPPORTED);
        assert.equal(first.error, undefined);
        const insert = async (status: string, retired: boolean) => {
          const row = await sql<{ id: number }>`
            INSERT INTO agent_hypotheses (text, status, source, retired_at) VALUES (${`hypothesis ${status} ${retired}`}, ${status}, 'model', ${retired ? now : null}) RETURNING id`.execute(
            store.db,
          );
          const id = row.rows[0]!.id;
          await sql`INSERT INTO agent_hypothesis_events (hypothesis_id, status, via, at) VALUES (${id}, 'untested', 'save_assessment', ${now})`.execute(
            store.db,
          );
          await sql`INSERT INTO agent_hypothesis_events (hypothesis_id, status, via, at) VALUES (${id}, ${status}, 'save_assessment', ${now})`.execute(
            store.db,
          );
          if (retired)
            await sql`INSERT INTO agent_hypothesis_events (hypothesis_id, status, via, at) VALUES (${id}, 'retired', 'operator', ${now})`.execute(store.db);
          return id;
        };
        const validated = await insert('validated', false);
        const retiredValidated = await insert('validated', true);
        const refuted = await insert('refuted', false);
        const second = await migrator.migrateTo('20261207T105000000Z-hypothesis-supported');
        assert.equal(second.error, undefined);

        assert.equal((await findHypothesis(store.db, validated))?.status, 'supported');
        const events = await hypothesisEvents(store.db, validated);
        assert.deepEqual(events.at(-1), { ...events.at(-1)!, status: 'supported', via: 'migration', evidence: DEMOTION_EVIDENCE, moved: true });

        const retired = await findHypothesis(store.db, retiredValidated);
        assert.equal(retired?.status, 'supported');
        assert.notEqual(retired?.retiredAt, null);
        assert.deepEqual(
          (await hypothesisEvents(store.db, retiredValidated)).slice(-2).map((e) => `${e.via}:${e.status}`),
          ['migration:supported', 'migration:retired'],
        );

        assert.equal((await findHypothesis(store.db, refuted))?.status, 'refuted');
        assert.equal((await hypothesisEvents(store.db, refuted)).length, 2);

        // Failed designs from before are classified from their last refusal (20261207T105300000Z).
        const failedDesign = async (error: string | null) => {
          const session = await sql<{ id: number }>`
            INSERT INTO agent_sessions (phase, designer, outcome, failure_reason, phase_started_at, created_at, updated_at, completed_at)
            VALUES ('idle', 'claude', 'failed_design', 'the design invocation ended without its effect (end_turn: done).', ${now}, ${now}, ${now}, ${now}) RETURNING id`.execute(
            store.db,
          );
          const id = session.rows[0]!.id;
          if (error !== null) {
            await sql`INSERT INTO agent_actions (session_id, phase, tool_name, success, error_message) VALUES (${id}, 'designing', 'save_strategy_config', false, ${error})`.execute(
              store.db,
            );
          }
          await sql`INSERT INTO agent_experiments (session_id, outcome, designer, failure_reason, completed_at) VALUES (${id}, 'failed_design', 'claude', 'the design invocation ended without its effect (end_turn: done).', ${now})`.execute(
            store.db,
          );
          return id;
        };
        const repeat = await failedDesign(
          'strategy not saved: this design (fingerprint abcdef012345) was already run: experiment #5 (session #4) on EURUSD 1h: failed_training_gate. Change what it computes.',
        );
        const invalid = await failedDesign(
          'strategy not saved:\nwarning description: is empty\nerror indicators.rsi_14.period: must be at least 2\nSee the registry.',
        );
        const silent = await failedDesign(null);
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const classified = await sql<{ session_id: number; design_failure_kind: string; design_failure: string }>`
          SELECT session_id, design_failure_kind, design_failure FROM agent_experiments WHERE outcome = 'failed_design' ORDER BY session_id`.execute(store.db);
        assert.deepEqual(
          classified.rows.map((r) => [r.session_id, r.design_failure_kind, r.design_failure]),
          [
            [repeat, 'duplicate', 'repeats experiment #5 (session #4)'],
            [invalid, 'invalid', 'first error: indicators.rsi_14.period: must be at least 2'],
            [silent, 'not_saved', 'the design invocation ended without its effect (end_turn: done).'],
          ],
        );
        const tallies = await sql<{
          value: string;
          tried: number;
        }>`SELECT value, tried FROM agent_experiment_tallies WHERE value LIKE 'design|%' ORDER BY value`.execute(store.db);
        assert.deepEqual(
          tallies.rows.map((r) => [r.value, Number(r.tried)]),
          [
            ['design|duplicate|', 1],
            ['design|invalid|', 1],
            ['design|not_saved|', 1],
          ],
        );

        // The new status is accepted by the table's check from now on.
        await setHypothesisStatus(store.db, refuted, { status: 'supported', evidence: 'operator says so', experimentId: null, via: 'operator', now });
        assert.equal((await findHypothesis(store.db, refuted))?.status, 'supported');
      } finally {
        await cleanup();
      }
    });
  });

  describe(`promotion and verdicts on hypotheses on ${kind}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(kind));
    });
    after(() => cleanup());

    const hypothesis = (text: string) =>
      addHypothesis(store.db, { text, rationale: null, source: 'model', proposedByExperimentId: null, via: 'save_assessment', now });

    test('a promotion validates the hypothesis its experiment tested; a rejection records why and moves nothing', async () => {
      const promotedH = await hypothesis('RSI alone carries an edge on EURUSD 1h');
      const rejectedH = await hypothesis('ADX with RVI carries an edge on EURUSD 1h');
      await setHypothesisStatus(store.db, rejectedH.id, {
        status: 'supported',
        evidence: 'in-sample Sharpe 1.1',
        experimentId: null,
        via: 'save_assessment',
        now,
      });
      const promoted = await insertTrial(store.db, { symbol: 'EURUSD', timeframe: '1h', sharpe: 1.4, hypothesisId: promotedH.id });
      const rejected = await insertTrial(store.db, { symbol: 'EURUSD', timeframe: '1h', sharpe: 1.1, hypothesisId: rejectedH.id });
      const untested = await insertTrial(store.db, { symbol: 'EURUSD', timeframe: '1h', sharpe: 0.2 });

      assert.deepEqual(
        await recordPromotionForHypotheses(store.db, {
          experimentId: promoted.experimentId,
          promoted: true,
          reason: 'lockbox PSR 0.97, robustness median 0.8',
          now,
        }),
        [promotedH.id],
      );
      assert.equal((await findHypothesis(store.db, promotedH.id))?.status, 'validated');
      const last = (await hypothesisEvents(store.db, promotedH.id)).at(-1)!;
      assert.equal(last.via, 'promotion');
      assert.equal(last.moved, true);
      assert.equal(last.experimentId, promoted.experimentId);

      assert.deepEqual(
        await recordPromotionForHypotheses(store.db, { experimentId: rejected.experimentId, promoted: false, reason: 'lockbox PSR 0.62 < 0.90', now }),
        [rejectedH.id],
      );
      assert.equal((await findHypothesis(store.db, rejectedH.id))?.status, 'supported');
      const why = (await hypothesisEvents(store.db, rejectedH.id)).at(-1)!;
      assert.deepEqual({ via: why.via, moved: why.moved, status: why.status }, { via: 'promotion', moved: false, status: 'supported' });
      assert.match(why.evidence ?? '', /not promoted: lockbox PSR 0\.62 < 0\.90/);

      assert.deepEqual(await recordPromotionForHypotheses(store.db, { experimentId: untested.experimentId, promoted: true, reason: 'held up', now }), []);
    });

    test("an operator's change made while the model was thinking is not overwritten by the model's verdict", async () => {
      const h = await hypothesis('MFI with RSI passes both gates on majors');
      await setHypothesisStatus(store.db, h.id, { status: 'testing', evidence: 'session designs it', experimentId: null, via: 'save_strategy_config', now });
      // The model is shown `testing`; the operator refutes it before the verdict lands.
      await setHypothesisStatus(store.db, h.id, { status: 'refuted', evidence: 'I know this fails live', experimentId: null, via: 'operator', now });
      const moved = await applyModelVerdict(store.db, h.id, {
        status: 'supported',
        shownStatus: 'testing',
        evidence: 'Sharpe 1.2 in sample',
        experimentId: null,
        via: 'save_assessment',
        now,
      });
      assert.equal(moved, false);
      assert.equal((await findHypothesis(store.db, h.id))?.status, 'refuted');
      const last = (await hypothesisEvents(store.db, h.id)).at(-1)!;
      assert.deepEqual({ status: last.status, moved: last.moved, via: last.via }, { status: 'supported', moved: false, via: 'save_assessment' });
      assert.match(last.evidence ?? '', /made on status testing, and the hypothesis is now refuted/);

      // Without a race the verdict moves the status.
      const other = await hypothesis('Aroon alone has no edge on GBPUSD 4h');
      await setHypothesisStatus(store.db, other.id, {
        status: 'testing',
        evidence: 'session designs it',
        experimentId: null,
        via: 'save_strategy_config',
        now,
      });
      assert.equal(
        await applyModelVerdict(store.db, other.id, {
          status: 'refuted',
          shownStatus: 'testing',
          evidence: 'Sharpe -0.4',
          experimentId: null,
          via: 'save_assessment',
          now,
        }),
        true,
      );
      assert.equal((await findHypothesis(store.db, other.id))?.status, 'refuted');
    });

    test('the DSR now counts every trial of the family recorded now, and the trial count grows with it', async () => {
      const family = { symbol: 'USDJPY', timeframe: '4h' };
      const sharpes = [0.3, -0.2, 0.9];
      const ids = [];
      for (const sharpe of sharpes) ids.push((await insertTrial(store.db, { ...family, sharpe, bars: 1500 })).experimentId);
      await insertTrial(store.db, { symbol: 'USDJPY', timeframe: '1h', sharpe: 3 });
      const now3 = await deflatedSharpeNow(store.db, ids[2]!);
      // Three trials: n 3, Σ 1.0, Σ² 0.94 (0.09 + 0.04 + 0.81).
      const expected = deflatedSharpeOfBacktest({ sharpe: 0.9, bars: 1500, startDate: null, endDate: null, family: { n: 3, sum: 1.0, sumSquares: 0.94 } })!;
      assert.equal(now3?.trials, 3);
      assert.ok(Math.abs(now3!.dsr - expected.dsr) < 1e-9);
      for (const sharpe of [0.1, -0.5, 0.4, 0.0]) await insertTrial(store.db, { ...family, sharpe, bars: 1500 });
      const now7 = await deflatedSharpeNow(store.db, ids[2]!);
      assert.equal(now7?.trials, 7);
      assert.ok(now7!.dsr < now3!.dsr, `more trials deflate more (${now7!.dsr} < ${now3!.dsr})`);
      assert.equal(await deflatedSharpeNow(store.db, 999_999), null);

      const usdjpy = (await familyTrials(store.db)).find((f) => f.symbol === 'USDJPY' && f.timeframe === '4h')!;
      assert.equal(usdjpy.trials, 7);
      assert.equal(usdjpy.bestSharpe, 0.9);
      assert.equal(usdjpy.bestExperimentId, ids[2]);
      assert.ok(Math.abs(usdjpy.expectedMaxSharpe - now7!.expectedMaxSharpe) < 1e-9);
    });
  });
}
