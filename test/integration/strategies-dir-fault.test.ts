import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAnthropicClient } from '../../src/core/agent/anthropic-client.ts';
import { invokeAgent } from '../../src/core/agent/invoke.ts';
import type { InvocationBudget } from '../../src/core/agent/budgeted-call.ts';
import { priceFor } from '../../src/core/budget/pricing.ts';
import { toolsFor, type ToolContext } from '../../src/core/agent/tools.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { createSession } from '../../src/core/db/repositories/sessions.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { checkStrategiesDir, strategiesDirFaultOf } from '../../src/core/strategy/dir-health.ts';
import { StrategyStore } from '../../src/core/strategy/index.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { startFakeAnthropic, toolUse, type FakeAnthropic } from '../support/fake-anthropic.ts';
import { validStrategy } from '../support/scripted-model.ts';

// sysfs takes no new file from anyone (root included) and reports no free space: a real unwritable, full directory.
const UNWRITABLE = '/sys/kernel';

describe('the strategies directory: checked before a design, and a failed save is a fault, not a design error', () => {
  const work = tempDir('ktrdr-agent-dirfault-');
  const strategiesDir = join(work.path, 'strategies');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  let simulator: Simulator;
  let fake: FakeAnthropic;
  let context: ToolContext;

  before(async () => {
    mkdirSync(strategiesDir);
    database = await createTestDatabase('ktrdr_agent_test', { migrated: true });
    store = await openStore({ kind: 'postgres', url: database.url });
    simulator = await createSimulator({ strategiesDir, seed: 3 });
    fake = await startFakeAnthropic();
    const config = loadConfig({ env: { HOME: work.path, DATABASE_URL: database.url, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: UNWRITABLE } });
    const now = new Date();
    const session = await createSession(store.db, { designer: 'claude', now, leaseOwner: 'dir-fault-test', leaseExpiresAt: new Date(now.getTime() + 600_000) });
    context = {
      db: store.db,
      sessionId: session.id,
      ktrdr: new KtrdrClient({ baseUrl: simulator.url }),
      strategies: new StrategyStore(UNWRITABLE),
      ktrdrUnreachable: false,
      config,
      now: () => new Date(),
      turn: { index: 1, tokensInput: null, tokensOutput: null },
    };
  });
  after(async () => {
    await store.close();
    await Promise.allSettled([simulator.close(), fake.close()]);
    await database.drop();
    work.remove();
  });

  test('the pre-check passes a writable directory and names what is wrong with the others', async () => {
    assert.equal(await checkStrategiesDir(strategiesDir), null);
    assert.deepEqual(readdirSync(strategiesDir), [], 'the probe file is removed');
    const unwritable = await checkStrategiesDir(UNWRITABLE);
    assert.equal(unwritable?.faultClass, 'strategies_dir');
    assert.match(unwritable!.cause, /\/sys\/kernel \((EACCES|EPERM)\): give the agent write permission/);
    const missing = await checkStrategiesDir(join(work.path, 'nowhere'));
    assert.match(missing?.cause ?? '', /does not exist or is not a directory/);
  });

  test('errno codes of a directory that cannot take a file are faults; a strategy problem is not', () => {
    for (const [code, advice] of [
      ['EACCES', /write permission/],
      ['EROFS', /read-only filesystem/],
      ['ENOSPC', /filesystem is full/],
      ['EDQUOT', /quota/],
    ] as const) {
      const error = new Error('could not create a temporary file', { cause: Object.assign(new Error(code), { code }) });
      const fault = strategiesDirFaultOf('/data/strategies', error);
      assert.equal(fault?.faultClass, 'strategies_dir', code);
      assert.match(fault!.cause, advice);
    }
    assert.equal(strategiesDirFaultOf('/data/strategies', Object.assign(new Error('exists'), { code: 'EEXIST' })), null);
    assert.equal(strategiesDirFaultOf('/data/strategies', new Error('a different strategy named x already exists')), null);
  });

  test('a save into it ends the invocation after one paid turn with an infrastructure fault (it used to retry for 8)', async () => {
    const name = 'dir_fault_probe';
    fake.script(
      Array.from({ length: 8 }, () => ({ content: [toolUse('save_strategy_config', { name, config: validStrategy(name) })], stop_reason: 'tool_use' })),
    );
    const settled: number[] = [];
    const budget: InvocationBudget = {
      reserve: async () => ({ id: String(settled.length) }),
      settle: async (_id, actualUsd) => {
        settled.push(actualUsd);
      },
    };
    const result = await invokeAgent({
      client: createAnthropicClient({ apiKey: 'sk-ant-test-dirfault', baseURL: fake.url, maxRetries: 0, timeoutMs: 10_000 }),
      model: 'claude-sonnet-5-5',
      maxTokens: 2048,
      maxTurns: 8,
      timeoutMs: 20_000,
      price: priceFor('claude-sonnet-5-5'),
      system: 'Design a strategy.',
      tools: toolsFor('design', context),
      firstMessage: 'Design and save a strategy.',
      budget,
      maxToolErrors: 8,
    });
    assert.equal(result.status, 'infrastructure_fault', result.reason);
    assert.equal(result.fault?.faultClass, 'strategies_dir');
    assert.equal(result.turns, 1);
    assert.equal(fake.requests.length, 1);
    const action = (await store.db.selectFrom('agent_actions').select(['tool_name', 'success', 'error_message']).execute()).at(-1);
    assert.equal(action?.tool_name, 'save_strategy_config');
    assert.equal(action?.success, false);
    assert.match(action?.error_message ?? '', /could not run: cannot write into the strategies directory/);
  });
});
