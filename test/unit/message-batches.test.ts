import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newCustomId } from '../../src/core/agent/message-batch.ts';
import { BATCH_PRICE_FACTOR, costOfBatchUsage, costOfUsage, priceFor, UnpricedUsageError } from '../../src/core/budget/pricing.ts';
import { loadConfig, ConfigError } from '../../src/core/config/load.ts';
import { afterInvocation } from '../../src/core/engine/after-invocation.ts';
import { decide, type DecisionInput } from '../../src/core/engine/decide.ts';
import { tempDir } from '../support/databases.ts';

const home = tempDir('ktrdr-agent-home-');

/** A call that wrote and read the cache, so that every rate is in the sum. */
const usage = {
  input_tokens: 3_000,
  output_tokens: 900,
  cache_creation_input_tokens: 1_200,
  cache_read_input_tokens: 4_000,
  cache_creation: { ephemeral_5m_input_tokens: 1_200, ephemeral_1h_input_tokens: 0 },
};

describe('Message Batches: price, settings and the pure decisions', () => {
  test('a batch result costs half of the same usage sent directly, cache writes and reads included', () => {
    assert.equal(BATCH_PRICE_FACTOR, 0.5);
    for (const model of ['claude-opus-5-5', 'claude-haiku-5-5', 'claude-sonnet-5-5']) {
      const price = priceFor(model);
      const direct = costOfUsage(price, { ...usage, service_tier: 'standard' });
      assert.ok(direct > 0);
      assert.equal(costOfBatchUsage(price, { ...usage, service_tier: 'batch' }), direct / 2);
      assert.equal(
        costOfBatchUsage(price, { ...usage, service_tier: 'batch', inference_geo: 'us' }),
        costOfUsage(price, { ...usage, inference_geo: 'us' }) / 2,
      );
    }
    // costOfUsage alone refuses the batch tier (it prices direct calls only), and a batch never runs at priority.
    assert.throws(() => costOfUsage(priceFor('claude-opus-5-5'), { ...usage, service_tier: 'batch' }), UnpricedUsageError);
    assert.throws(() => costOfBatchUsage(priceFor('claude-opus-5-5'), { ...usage, service_tier: 'priority' }), UnpricedUsageError);
  });

  test('AGENT_BATCH_PHASES: off by default, a comma list of phases, anything else refused (exit 2)', () => {
    assert.deepEqual(loadConfig({ env: { HOME: home.path } }).settings.AGENT_BATCH_PHASES, []);
    assert.deepEqual(loadConfig({ env: { HOME: home.path, AGENT_BATCH_PHASES: ' backtest, assess,backtest ' } }).settings.AGENT_BATCH_PHASES, [
      'backtest',
      'assess',
    ]);
    assert.deepEqual(loadConfig({ env: { HOME: home.path, AGENT_BATCH_PHASES: '' } }).settings.AGENT_BATCH_PHASES, []);
    assert.throws(
      () => loadConfig({ env: { HOME: home.path, AGENT_BATCH_PHASES: 'backtest,training' } }),
      (error: unknown) => error instanceof ConfigError && error.exitCode === 2 && error.problems.some((p) => p.name === 'AGENT_BATCH_PHASES'),
    );
  });

  test("custom_id fits the API's pattern and is unique per call", () => {
    const ids = new Set([1, 2, 3].map(() => newCustomId(123_456_789, 'backtest')));
    assert.equal(ids.size, 3);
    for (const id of ids) assert.match(id, /^[a-zA-Z0-9_-]{1,64}$/);
  });

  test('a pending batch is a wait, not a failure and not a fault, in every phase', () => {
    for (const purpose of ['design', 'backtest', 'assess'] as const) {
      const phase = purpose === 'design' ? 'designing' : purpose === 'backtest' ? 'training' : 'assessing';
      const next = afterInvocation({
        purpose,
        session: { phase, outcome: null },
        report: { status: 'batch_pending', reason: 'batch msgbatch_1 is in_progress', lastText: '' },
      });
      assert.deepEqual(next, { kind: 'waiting', reason: 'batch msgbatch_1 is in_progress' });
    }
    // A session an operator cancelled meanwhile has ended, whatever its batch says.
    assert.deepEqual(
      afterInvocation({
        purpose: 'assess',
        session: { phase: 'assessing', outcome: 'cancelled' },
        report: { status: 'batch_pending', reason: '', lastText: '' },
      }),
      { kind: 'ended' },
    );
  });

  test('a session waiting for its batch is collected even when the budget has no room for a new call', () => {
    const input = (waitingForBatch: boolean): DecisionInput => ({
      session: {
        id: 7,
        phase: 'assessing',
        trainingOperationId: 'op_t',
        backtestOperationId: 'op_b',
        resumeAttempts: 0,
        invocationAttempts: 0,
        leaseExpiresAt: null,
        progressChangedAt: null,
        lastProgress: null,
        waitingForBatch,
      },
      operation: { kind: 'none' },
      trainingResult: null,
      backtestResult: null,
      canInvoke: false,
      now: new Date('2026-12-01T10:00:00Z'),
      config: {
        gates: {
          trainingMinAccuracy: 0,
          trainingMaxLoss: 1,
          trainingMinLossReduction: 0,
          trainingMinDirectionalAccuracy: 0,
          backtestMinWinRate: 0,
          backtestMaxDrawdown: 1,
          backtestMinSharpe: 0,
          backtestMinDsr: null,
        },
        resumeMaxAttempts: 2,
        stall: { queuedMs: 1, resumingMs: 1, runningAtZeroMs: 1, runningMs: 1 },
        maxInvocationAttempts: 2,
      },
    });
    assert.deepEqual(decide(input(false)), { action: 'skip', trigger: 'backtest_completed', skipReason: 'budget_exceeded' });
    assert.deepEqual(decide(input(true)), { action: 'invoke', trigger: 'backtest_completed', purpose: 'assess', retry: false });
  });
});
