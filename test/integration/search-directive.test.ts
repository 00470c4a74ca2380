// The search directive on real stores: recorded at cycle creation with its claim (racing creations never share an
// exploit target), a vanished target falls back to exploring with the reason kept, explore cycles refuse near-copies
// (naming the experiment) while exploit cycles and stated declines allow them, and Claude's design message carries it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assignSearchDirective, directiveInForce, directiveSection, searchRefusal } from '../../src/core/agent/search-directive.ts';
import type { Store } from '../../src/core/db/connect.ts';
import { createSessionWithinCap } from '../../src/core/db/transactions/create-cycle.ts';
import { loadSearchSummary } from '../../src/core/db/read-models/search.ts';
import { findSessionSearch, recordSearchDirective } from '../../src/core/db/repositories/sessions.ts';
import { createSession } from '../../src/core/db/repositories/sessions.ts';
import { strategyFeatures, strategyFingerprint } from '../../src/core/research/fingerprint.ts';
import type { SearchDirective } from '../../src/core/research/search-policy.ts';
import { openTestStore, storeKinds } from '../support/databases.ts';
import { validStrategy } from '../support/scripted-model.ts';

const now = new Date('2026-12-07T10:00:00Z');

/** A finished session and its experiment, as the memory records them. */
async function experiment(store: Store, config: Record<string, unknown>, score: number | null): Promise<number> {
  const session = await createSession(store.db, { designer: 'evolve', now, leaseOwner: 't', leaseExpiresAt: now });
  await store.db
    .updateTable('agent_sessions')
    .set({ phase: 'idle', outcome: score === null ? 'failed_backtest_gate' : 'success', completed_at: now })
    .where('id', '=', session.id)
    .execute();
  const features = strategyFeatures(config);
  const row = await store.db
    .insertInto('agent_experiments')
    .values({
      session_id: session.id,
      outcome: score === null ? 'failed_backtest_gate' : 'success',
      designer: 'evolve',
      strategy_name: String(config.name),
      strategy: JSON.stringify(config),
      fingerprint: strategyFingerprint(config),
      indicator_types: features.indicatorTypes,
      indicator_key: features.indicatorKey,
      label_source: features.labelSource,
      label_threshold: features.labelThreshold,
      architecture: features.architecture,
      symbol: features.symbol,
      timeframe: features.timeframe,
      symbols: [features.symbol ?? 'EURUSD'],
      timeframes: ['1h'],
      training_gate: JSON.stringify({ gate: 'training', passed: true, reason: null, checks: [] }),
      failed_checks: [],
      score,
      sharpe: score,
      completed_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

function nudged(name: string, period: number): Record<string, unknown> {
  const config = validStrategy(name) as { indicators: Record<string, Record<string, unknown>> };
  config.indicators.rsi_14!.period = period;
  return config as unknown as Record<string, unknown>;
}

async function sessionWith(store: Store, directive: Partial<SearchDirective>): Promise<number> {
  const session = await createSession(store.db, { designer: 'claude', now, leaseOwner: 't', leaseExpiresAt: now });
  const full: SearchDirective = {
    mode: 'explore',
    region: { indicators: 'adx+rsi', labels: 'zigzag 0.02', network: '64x32', timeframe: '1h', symbol: 'EURUSD' },
    parentExperimentId: null,
    reason: 'test',
    policy: 'thompson',
    posterior: [],
    observed: { experiments: 0, passed: 0 },
    ...directive,
  };
  await recordSearchDirective(store.db, session.id, full);
  return session.id;
}

for (const kind of storeKinds) {
  describe(`search directive on ${kind}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let earlier: number;
    before(async () => {
      ({ store, cleanup } = await openTestStore(kind));
      earlier = await experiment(store, nudged('search_base', 14), 0.8);
    });
    after(() => cleanup());

    test('an explore cycle refuses a near-copy and names the experiment; an exploit cycle and a stated decline allow it', async () => {
      const explore = await sessionWith(store, { mode: 'explore' });
      const copy = nudged('search_copy', 15);
      const refusal = await searchRefusal(store.db, explore, copy, { tolerance: 0.1 });
      assert.match(
        refusal ?? '',
        new RegExp(`this cycle explores, and the design is a near-copy of experiment #${earlier} \\(search_base, score 0\\.80\\).*within 10%`),
      );
      assert.equal(await searchRefusal(store.db, explore, nudged('search_far', 18), { tolerance: 0.1 }), null, 'a period 29% away is not a near-copy');
      assert.equal(await searchRefusal(store.db, explore, copy, { tolerance: 0.05 }), null, 'a 7% change is not a near-copy at 5%');
      const exploit = await sessionWith(store, { mode: 'exploit', parentExperimentId: earlier });
      assert.equal(await searchRefusal(store.db, exploit, copy, { tolerance: 0.1 }), null);
      assert.equal(await searchRefusal(store.db, explore, copy, { tolerance: 0.1, declined: 'refining #1 is the better use of this cycle' }), null);
      assert.equal((await findSessionSearch(store.db, explore))?.declined, 'refining #1 is the better use of this cycle');
    });

    test('a directive naming an experiment that no longer exists falls back to exploring, with the reason recorded', async () => {
      const session = await sessionWith(store, { mode: 'exploit', parentExperimentId: 999_999 });
      const inForce = await directiveInForce(store.db, session);
      assert.equal(inForce?.search.mode, 'explore');
      assert.equal(inForce?.parent, null);
      const stored = await findSessionSearch(store.db, session);
      assert.equal(stored?.mode, 'explore');
      assert.equal(stored?.targetExperimentId, null);
      assert.equal(stored?.directive.fallback, 'experiment #999999 no longer exists: exploring instead');
      assert.deepEqual(stored?.directive.asked, { mode: 'exploit', parentExperimentId: 999_999 });
      assert.match(await directiveSection(store.db, session), /This cycle explores: indicators adx\+rsi[\s\S]*no longer exists[\s\S]*declines_directive/);
    });

    test("Claude's design message names the experiment to refine, and the summary counts the cycles", async () => {
      // The claim on a target holds while a session is active: the first test's exploit cycle ends first.
      await assert.rejects(sessionWith(store, { mode: 'exploit', parentExperimentId: earlier }), /idx_sessions_search_claim|unique/);
      await store.db.updateTable('agent_sessions').set({ phase: 'idle', outcome: 'cancelled', completed_at: now }).where('outcome', 'is', null).execute();
      const session = await sessionWith(store, { mode: 'exploit', parentExperimentId: earlier, reason: 'indicators adx+rsi drew highest' });
      const section = await directiveSection(store.db, session);
      assert.match(section, new RegExp(`This cycle refines experiment #${earlier} \\(search_base, score 0\\.80\\).*parent_experiment ${earlier}`));
      const summary = await loadSearchSummary(store.db);
      assert.ok(summary.cycles >= 4 && summary.exploring >= 1 && summary.declined === 1 && summary.fallbacks === 1, JSON.stringify(summary));
      assert.deepEqual(summary.regions.find((r) => r.dimension === 'indicators')?.best[0], { value: 'adx+rsi', best: 0.8, tried: 1 });
      assert.equal(summary.last?.sessionId, session);
    });

    if (kind === 'postgres') {
      test('two ticks racing for new cycles never give two sessions the same exploit target', async () => {
        // Many passes in one region and nothing elsewhere: every cycle wants to refine its best experiment.
        for (let i = 0; i < 12; i++) await experiment(store, nudged(`search_strong_${i}`, 20 + i * 3), 1.5 + i / 100);
        await store.db.updateTable('agent_sessions').set({ phase: 'idle', outcome: 'cancelled', completed_at: now }).where('outcome', 'is', null).execute();
        const create = (owner: string) =>
          createSessionWithinCap(store.db, {
            maxActive: 10,
            designer: 'evolve',
            now,
            leaseOwner: owner,
            leaseExpiresAt: now,
            onCreated: async (trx, created) => void (await assignSearchDirective(trx, created.id, { designer: 'evolve', symbols: ['EURUSD'] })),
          });
        const created = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map(create));
        const targets = (
          await store.db.selectFrom('agent_sessions').select(['search_mode', 'search_target_experiment_id']).where('outcome', 'is', null).execute()
        )
          .filter((row) => row.search_mode === 'exploit')
          .map((row) => row.search_target_experiment_id);
        assert.equal(created.filter(Boolean).length, 6);
        assert.ok(targets.length >= 2, `only ${targets.length} of 6 cycles exploited`);
        assert.equal(new Set(targets).size, targets.length, `an exploit target was given twice: ${targets.join(', ')}`);
      });
    }
  });
}
