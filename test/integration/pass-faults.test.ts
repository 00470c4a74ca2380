import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Designer, InvocationReport } from '../../src/core/agent/designer.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { readControl } from '../../src/core/db/repositories/control.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { TriggerPass, type PassSummary } from '../../src/core/engine/pass.ts';
import { tickHealth } from '../../src/core/engine/tick-health.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { noopTracer } from '../../src/core/kernel/tracer.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

// The designer contract of issue #14: an Anthropic fault comes back as status infrastructure_fault with its class.
const unreachable: InvocationReport = {
  status: 'infrastructure_fault',
  reason: 'could not reach the Anthropic API: connect ECONNREFUSED',
  lastText: '',
  costUsd: 0,
  fault: { faultClass: 'anthropic_unreachable', cause: 'could not reach the Anthropic API: connect ECONNREFUSED' },
};
const refusal: InvocationReport = { status: 'refusal', reason: 'the model declined to continue', lastText: '', costUsd: 0.01 };

describe('a pass meeting an Anthropic fault: one session kept, retried with backoff, never failed for it', () => {
  const work = tempDir('ktrdr-agent-passfault-');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  let simulator: Simulator;

  before(async () => {
    database = await createTestDatabase('ktrdr_agent_test', { migrated: true });
    store = await openStore({ kind: 'postgres', url: database.url });
    simulator = await createSimulator({ strategiesDir: work.path, seed: 2 });
  });
  after(async () => {
    await store.close();
    await simulator.close();
    await database.drop();
    work.remove();
  });

  test('refunded attempts, backoff between tries, the fault cleared by an invocation that gets through', async () => {
    const config = loadConfig({
      env: {
        HOME: work.path,
        DATABASE_URL: database.url,
        KTRDR_API_URL: simulator.url,
        KTRDR_STRATEGIES_DIR: work.path,
        ANTHROPIC_API_KEY: 'sk-ant-test-pass',
        AGENT_DESIGNER: 'claude',
      },
    });
    const answers: InvocationReport[] = [];
    let invocations = 0;
    const designer: Designer = {
      kind: 'claude',
      invoke: async () => {
        invocations += 1;
        return answers.shift() ?? unreachable;
      },
    };
    const t0 = new Date('2026-12-01T10:00:00Z');
    const pass = async (minutes: number): Promise<PassSummary> =>
      new TriggerPass({
        store,
        config,
        ktrdr: new KtrdrClient({ baseUrl: simulator.url }),
        designer: async () => designer,
        designerKind: 'claude',
        now: () => new Date(t0.getTime() + minutes * 60_000),
        tickId: `tick_${minutes}`,
        tracer: noopTracer,
      }).run();
    const sessions = async () => store.db.selectFrom('agent_sessions').select(['id', 'phase', 'outcome', 'invocation_attempts']).execute();

    const first = await pass(0);
    assert.equal(invocations, 1);
    assert.deepEqual(
      first.faults.map((f) => f.faultClass),
      ['anthropic_unreachable'],
    );
    assert.equal(tickHealth(first).exitCode, 5);
    assert.deepEqual(await sessions(), [{ id: first.sessionsCreated[0], phase: 'designing', outcome: null, invocation_attempts: 0 }]);
    assert.equal((await readControl(store.db)).fault?.streak, 1);

    await pass(5); // the first fault is retried at the next pass
    assert.equal(invocations, 2);
    const held = await pass(6); // the second waits 5 minutes (less half a minute)
    assert.equal(invocations, 2);
    assert.equal(held.invocationsHeld?.reason, 'fault_backoff');
    assert.equal(held.decisions.find((d) => d.skipReason === 'fault_backoff')?.fault?.faultClass, 'anthropic_unreachable');
    assert.equal(tickHealth(held).exitCode, 5, 'a held pass is degraded too');
    await pass(10);
    assert.equal(invocations, 3);
    assert.equal((await readControl(store.db)).fault?.streak, 3);
    assert.equal((await sessions()).length, 1, 'no new session for a fault');

    // The API answers again (the model declines: a research result): that session fails for it and the streak ends;
    // the next cycle starts in the same pass and meets the fault afresh (a streak of one: retried at the next pass).
    answers.push(refusal);
    await pass(30);
    assert.equal(invocations, 5);
    const [designed, next] = await sessions();
    assert.equal(designed?.outcome, 'failed_design');
    assert.deepEqual([next?.phase, next?.outcome, next?.invocation_attempts], ['designing', null, 0]);
    assert.equal((await readControl(store.db)).fault?.streak, 1);
  });
});
