// pause and cancel against an effect under way: the operator's command waits for the effect to commit (it holds the
// control row FOR SHARE and the session row FOR UPDATE), and every effect after it does nothing.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { endSession } from '../../src/core/session/end.ts';
import { toolsFor, type ToolContext } from '../../src/core/agent/tools.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { setPaused } from '../../src/core/db/repositories/control.ts';
import { createSession, findSession } from '../../src/core/db/repositories/sessions.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { StrategyStore } from '../../src/core/strategy/index.ts';
import { openTestStore, tempDir } from '../support/databases.ts';
import { validStrategy } from '../support/scripted-model.ts';

/** KTRDR in front of the simulator that holds each training start until the test lets it through. */
async function holdingProxy(target: string) {
  const upstream = new URL(target);
  let reached: () => void = () => {};
  let release: () => void = () => {};
  const arm = () => ({
    reached: new Promise<void>((resolve) => (reached = resolve)),
    released: new Promise<void>((resolve) => (release = resolve)),
  });
  let gate = arm();
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.endsWith('/trainings/start')) {
        const current = gate;
        reached();
        void current.released.then(() => forward(req, res, Buffer.concat(chunks)));
      } else {
        forward(req, res, Buffer.concat(chunks));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`,
    get reached() {
      return gate.reached;
    },
    release: () => {
      release();
      gate = arm();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('an operator against an effect under way (PostgreSQL, simulator)', () => {
  const work = tempDir('ktrdr-agent-operator-');
  const strategiesDir = join(work.path, 'strategies');
  let store: Store;
  let operator: Store;
  let cleanup: () => Promise<void>;
  let simulator: Simulator;
  let proxy: Awaited<ReturnType<typeof holdingProxy>>;

  before(async () => {
    mkdirSync(strategiesDir);
    let target;
    ({ store, target, cleanup } = await openTestStore('postgres'));
    // The operator's command runs on its own connections, as `ktrdr-agent pause` in another process does.
    operator = await openStore(target);
    simulator = await createSimulator({ strategiesDir, seed: 5 });
    proxy = await holdingProxy(simulator.url);
  });
  after(async () => {
    await operator.close();
    await cleanup();
    await proxy.close();
    await simulator.close();
    work.remove();
  });

  async function designingSession() {
    const config = loadConfig({ env: { HOME: work.path, KTRDR_API_URL: proxy.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'baseline' } });
    const now = new Date();
    const session = await createSession(store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: new Date(now.getTime() + 600_000) });
    const context: ToolContext = {
      db: store.db,
      sessionId: session.id,
      ktrdr: new KtrdrClient({ baseUrl: proxy.url }),
      strategies: new StrategyStore(strategiesDir),
      ktrdrUnreachable: false,
      config,
      now: () => new Date(),
      turn: { index: 1, tokensInput: null, tokensOutput: null },
    };
    const tools = new Map(toolsFor('design', context).map((tool) => [tool.name, tool]));
    const name = `held_s${session.id}`;
    // A design of its own per session: the trial accounting refuses a design another session has in flight.
    const design = validStrategy(name) as { indicators: { rsi_14: { period: number } } };
    design.indicators.rsi_14.period = 5 + session.id;
    const save = () => tools.get('save_strategy_config')!.run({ name, config: design, tests_hypothesis: 'exploration' });
    const startTraining = () => tools.get('start_training')!.run({ strategy_name: name, start_date: '2019-01-01', end_date: '2022-12-31' });
    return { sessionId: session.id, save, startTraining };
  }

  async function sessionReadyToTrain() {
    const session = await designingSession();
    const saved = await session.save();
    assert.equal(saved.ok, true, JSON.stringify(saved));
    return session;
  }

  /**
   * Runs the operator's write while start_training is held inside KTRDR, and says whether it returned before the
   * effect was let through (it must not), by watching PostgreSQL for the write waiting on a lock.
   */
  async function operatorDuringEffect(startTraining: () => Promise<unknown>, write: () => Promise<unknown>) {
    const effect = startTraining();
    await proxy.reached;
    let returned = false;
    const operatorWrite = write().then(() => (returned = true));
    for (;;) {
      if (returned) break;
      const waiting = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(store.db);
      if (waiting.rows[0]!.n > 0) break;
      await delay(20);
    }
    const returnedWhileHeld = returned;
    proxy.release();
    const outcome = await effect;
    await operatorWrite;
    return { returnedWhileHeld, outcome: outcome as { ok: boolean; error?: string } };
  }

  test('pause waits for a training start under way, and no effect runs after it', async () => {
    const { sessionId, startTraining } = await sessionReadyToTrain();
    const { returnedWhileHeld, outcome } = await operatorDuringEffect(startTraining, () => setPaused(operator.db, true, new Date()));
    assert.equal(returnedWhileHeld, false, 'pause returned while the training start was under way');
    assert.equal(outcome.ok, true, 'the effect that began first completes');
    assert.equal((await findSession(operator.db, sessionId))!.phase, 'training', 'and was committed before pause returned');

    const later = await designingSession();
    const refused = (await later.save()) as { ok: boolean; error: string };
    assert.equal(refused.ok, false, 'after pause, save_strategy_config does nothing');
    assert.match(refused.error, /the operator paused the agent/);
    assert.equal((await findSession(operator.db, later.sessionId))!.strategyName, null);
    await setPaused(operator.db, false, new Date());
  });

  test('cancel waits for a training start under way; the ended session names the operation to cancel', async () => {
    const { sessionId, startTraining } = await sessionReadyToTrain();
    const { returnedWhileHeld, outcome } = await operatorDuringEffect(startTraining, () =>
      endSession(operator.db, sessionId, { outcome: 'cancelled', reason: 'cancelled by operator' }, new Date()),
    );
    assert.equal(returnedWhileHeld, false, 'cancel returned while the training start was under way');
    assert.equal(outcome.ok, true);
    const ended = (await findSession(operator.db, sessionId))!;
    assert.equal(ended.outcome, 'cancelled');
    assert.ok(ended.trainingOperationId, 'cancel reads the operation it must cancel in KTRDR');

    // And an effect after the cancel does nothing.
    const again = (await startTraining()) as { ok: boolean; error: string };
    assert.equal(again.ok, false);
    assert.match(again.error, /ended \(cancelled by the operator\)/);
  });
});
