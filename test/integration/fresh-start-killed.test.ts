// A fresh start whose pass died before it recorded the new run (the short chaos run's second and third double
// starts, docs/chaos.md): the stalled run was cancelled by this agent and its replacement started, but the session
// still names the old run. The next pass must take up the replacement, never resume the old run beside it. Real
// passes over PostgreSQL against the simulator over HTTP; the dying pass is restartAfresh() called on its own.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/load.ts';
import type { Store } from '../../src/core/db/connect.ts';
import { findSession, type Session } from '../../src/core/db/repositories/sessions.ts';
import { restartAfresh } from '../../src/core/engine/recovery.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { isActive, viewAt } from '../../src/core/sim/operations.ts';
import { openTestStore, tempDir } from '../support/databases.ts';

const TIME_SCALE = 60;
// A training takes a simulated second, a backtest ten simulated hours (ten minutes of real time): a backtest stays live.
const DURATIONS = { trainingSeconds: [1, 1] as [number, number], backtestSeconds: [36_000, 36_000] as [number, number] };

for (const type of ['training', 'backtesting'] as const) {
  describe(`a ${type} fresh start whose pass died before recording it (PostgreSQL, simulator)`, () => {
    const work = tempDir('ktrdr-agent-killed-restart-');
    const strategiesDir = join(work.path, 'strategies');
    let store: Store;
    let cleanup: () => Promise<void>;
    let url: string;
    let simulator: Simulator;

    before(async () => {
      mkdirSync(strategiesDir);
      let target;
      ({ store, cleanup, target } = await openTestStore('postgres'));
      url = (target as { url: string }).url;
      simulator = await createSimulator({ strategiesDir, seed: 9, timeScale: TIME_SCALE, durations: DURATIONS });
    });
    after(async () => {
      await cleanup();
      await simulator.close();
      work.remove();
    });

    const config = () =>
      loadConfig({
        env: {
          HOME: work.path,
          DATABASE_URL: url,
          KTRDR_API_URL: simulator.url,
          KTRDR_STRATEGIES_DIR: strategiesDir,
          AGENT_DESIGNER: 'baseline',
          AGENT_PASS_FOLLOW_SECONDS: '0',
        },
      });
    const tick = () => runTick({ config: config(), log: () => undefined, lockWaitMs: 5000 });
    const liveRuns = (strategy: string) =>
      [...simulator.state.operations.values()].filter(
        (o) => o.type === type && o.strategyName === strategy && isActive(viewAt(o, Date.now(), TIME_SCALE).status),
      );

    /** Ticks until a session waits on a live run of this type. */
    async function sessionInPhase(): Promise<Session> {
      const phase = type === 'training' ? 'training' : 'backtesting';
      for (let i = 0; i < 20; i++) {
        await tick();
        const row = await store.db.selectFrom('agent_sessions').select('id').where('outcome', 'is', null).where('phase', '=', phase).executeTakeFirst();
        const session = row ? await findSession(store.db, row.id) : null;
        if (session && liveRuns(session.strategyName!).length === 1) return session;
      }
      throw new Error(`no session reached ${phase} with a live run`);
    }

    test('the next pass takes up the fresh start, and the run cancelled for it is not resumed beside it', async () => {
      // A training stalls (every run does, the fresh one too); a backtest takes ten simulated hours.
      if (type === 'training') simulator.faults.stallRate = 1;
      const session = await sessionInPhase();
      const first = (type === 'training' ? session.trainingOperationId : session.backtestOperationId)!;
      const ktrdr = new KtrdrClient({ baseUrl: simulator.url });
      // The pass that judged it stalled cancels it and starts it afresh, then dies before writing the new id.
      const restarted = await restartAfresh(store.db, ktrdr, session, first, `${type} operation made no progress (test)`);
      assert.equal(restarted.kind, 'restarted');
      const fresh = (restarted as { operationId: string }).operationId;
      assert.notEqual(fresh, first);
      assert.deepEqual(
        liveRuns(session.strategyName!).map((o) => o.id),
        [fresh],
      );

      await tick();
      assert.deepEqual(
        liveRuns(session.strategyName!).map((o) => o.id),
        [fresh],
        'one live run: the fresh start, taken up',
      );
      const after = await findSession(store.db, session.id);
      assert.equal(type === 'training' ? after?.trainingOperationId : after?.backtestOperationId, fresh);
      assert.equal(after?.outcome, null);
      simulator.faults.stallRate = 0;
    });
  });
}
