import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Session } from '../../src/core/db/repositories/sessions.ts';
import type { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { KtrdrError } from '../../src/core/ktrdr/errors.ts';
import { noopTracer } from '../../src/core/kernel/tracer.ts';
import { openLedger } from '../../src/core/engine/pass-ledger.ts';
import { pollSession } from '../../src/core/engine/poll-session.ts';

// Only the fields a poll reads: the phase, its operation id, and what a claim or a flattened result would need.
function session(phase: Session['phase'], operationId: string | null): Session {
  return {
    id: 4,
    phase,
    trainingOperationId: phase === 'training' ? operationId : null,
    backtestOperationId: phase === 'backtesting' ? operationId : null,
    createdAt: new Date('2026-12-07T00:00:00Z'),
    trainingParams: null,
    backtestParams: null,
    strategyName: null,
    strategyConfig: null,
    trainingResults: null,
  } as unknown as Session;
}

function ktrdrAnswering(getOperation: (id: string) => Promise<unknown>): { client: KtrdrClient; asked: string[] } {
  const asked: string[] = [];
  const client = {
    getOperation: async (id: string) => {
      asked.push(id);
      return getOperation(id);
    },
    clockOffsetMs: () => null,
  } as unknown as KtrdrClient;
  return { client, asked };
}

function ktrdrError(status: number, message: string): KtrdrError {
  return new KtrdrError({ kind: 'http', status, code: 'test', message, retryable: false });
}

describe('polling one session', () => {
  test('a session with no operation in its phase is not asked about', async () => {
    const { client, asked } = ktrdrAnswering(async () => assert.fail('KTRDR asked'));
    const ledger = openLedger({ held: false });
    const polled = await pollSession({ ktrdr: client, tracer: noopTracer, ledger }, session('designing', null));
    assert.deepEqual(polled.observation, { kind: 'none' });
    assert.deepEqual(asked, []);
    assert.equal(ledger.ktrdrReached, false);
  });

  test('a running operation is its status and progress, and KTRDR counts as reached', async () => {
    const { client, asked } = ktrdrAnswering(async () => ({
      status: 'running',
      progress: { percentage: 40, current_step: 'Epoch 4/10' },
      error_message: null,
    }));
    const ledger = openLedger({ held: false });
    const polled = await pollSession({ ktrdr: client, tracer: noopTracer, ledger }, session('training', 'op_train'));
    assert.deepEqual(asked, ['op_train']);
    assert.deepEqual(polled.observation, { kind: 'status', status: 'running', percentage: 40, currentStep: 'Epoch 4/10', errorMessage: null });
    assert.equal(polled.training, null);
    assert.equal(ledger.ktrdrReached, true);
  });

  test("a completed backtest carries its flattened results; a training's are read only in the training phase", async () => {
    const { client } = ktrdrAnswering(async () => ({ status: 'completed', progress: {}, result_summary: { metrics: { sharpe_ratio: 1.2, win_rate: 0.55 } } }));
    const polled = await pollSession({ ktrdr: client, tracer: noopTracer, ledger: openLedger({ held: false }) }, session('backtesting', 'op_bt'));
    assert.equal(polled.backtest?.sharpe, 1.2);
    assert.equal(polled.backtest?.winRate, 0.55);
    assert.equal(polled.training, null);
  });

  test('a 404 is an answer (not found, KTRDR reached); a 429 is KTRDR busy and not reached; any other error escapes', async () => {
    const notFound = ktrdrAnswering(async () => Promise.reject(ktrdrError(404, 'no such operation')));
    const ledger = openLedger({ held: false });
    assert.deepEqual((await pollSession({ ktrdr: notFound.client, tracer: noopTracer, ledger }, session('training', 'op_gone'))).observation, {
      kind: 'not_found',
    });
    assert.equal(ledger.ktrdrReached, true);

    const busy = ktrdrAnswering(async () => Promise.reject(ktrdrError(429, 'slow down')));
    const busyLedger = openLedger({ held: false });
    const polled = await pollSession({ ktrdr: busy.client, tracer: noopTracer, ledger: busyLedger }, session('backtesting', 'op_bt'));
    assert.equal(polled.observation.kind, 'unreachable');
    assert.equal(polled.observation.kind === 'unreachable' && polled.observation.faultClass, 'ktrdr_busy');
    assert.equal(busyLedger.ktrdrReached, false);
    // The poll notes nothing as a fault: what a fault means for the session is its decision's to say.
    assert.deepEqual(busyLedger.faults, []);

    const broken = ktrdrAnswering(async () => Promise.reject(new TypeError('a bug')));
    await assert.rejects(
      pollSession({ ktrdr: broken.client, tracer: noopTracer, ledger: openLedger({ held: false }) }, session('training', 'op_x')),
      TypeError,
    );
  });
});
