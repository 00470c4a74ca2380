import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { modelStrategy, operationStrategy, ownershipCheck, ownershipMismatch, type OperationClaim } from '../../src/core/ktrdr/ownership.ts';
import { parseServerTime } from '../../src/core/ktrdr/starts.ts';
import { epochMetricsOf } from '../../src/core/ktrdr/results.ts';
import { operationMetricsResponseSchema, type OperationInfo } from '../../src/core/ktrdr/schemas.ts';

/** A training operation as the real KTRDR (2c5c7173) answered it on this machine, trimmed. */
function realOperation(): OperationInfo {
  return {
    operation_id: 'op_training_probe11_a',
    operation_type: 'training',
    status: 'completed',
    created_at: '2026-12-01T08:07:03.813804Z',
    progress: { percentage: 100, current_step: 'Epoch 10/10', steps_completed: 10, steps_total: 10 },
    metadata: {
      symbol: 'EURUSD',
      timeframe: '1h',
      mode: 'training',
      start_date: '2024-01-01T00:00:00',
      end_date: '2024-12-31T00:00:00',
      parameters: {
        symbols: ['EURUSD'],
        end_date: '2024-12-31',
        worker_id: 'training-worker-23e19f41',
        start_date: '2024-01-01',
        timeframes: ['1h'],
        strategy_yaml: '# =============================================================================\n# V3 STRATEGY EXAMPL',
      },
    },
    result_summary: {
      model_path: 'models/v3_minimal/1h_v1',
      data_summary: { symbols: ['EURUSD'], end_date: '2024-12-31', start_date: '2024-01-01', timeframes: ['1h'] },
      session_info: { symbols: ['EURUSD'], end_date: '2024-12-31', start_date: '2024-01-01', timeframes: ['1h'], strategy_name: 'v3_minimal' },
    },
  } as OperationInfo;
}

const claim: OperationClaim = {
  kind: 'training',
  strategyName: 'v3_minimal',
  symbols: ['EURUSD'],
  timeframes: ['1h'],
  startDate: '2024-01-01',
  endDate: '2024-12-31',
  notBeforeMs: Date.parse('2026-12-01T08:06:00Z'),
};

describe('ownershipMismatch on what the real KTRDR records', () => {
  test("the session's own operation matches", () => {
    assert.equal(ownershipMismatch(realOperation(), claim), null);
  });

  test('an operation older than the session (a repeated task id answered with the old operation) is refused', () => {
    const reason = ownershipMismatch(realOperation(), { ...claim, notBeforeMs: Date.parse('2026-12-01T09:00:00Z') });
    assert.match(reason ?? '', /created at 2026-12-01T08:07:03\.813Z, before this session began \(2026-12-01T09:00:00\.000Z\)/);
  });

  test("KTRDR's creation time is read on our clock: its measured offset is taken off before comparing", () => {
    const notBeforeMs = Date.parse('2026-12-01T08:10:00Z');
    // KTRDR 5 minutes behind: created at 08:07:03 on its clock is 08:12:03 on ours, after the session began.
    assert.equal(ownershipMismatch(realOperation(), { ...claim, notBeforeMs: notBeforeMs + 180_000 }, -300_000), null);
    // Unmeasured, the same operation looks older than the session.
    const check = ownershipCheck(realOperation(), { ...claim, notBeforeMs: notBeforeMs + 180_000 });
    assert.equal(check.creationTimeOnly, true);
    assert.match(check.mismatch ?? '', /KTRDR's offset unknown/);
    // A naive timestamp is read in KTRDR's documented zone, UTC, not this host's.
    assert.equal(parseServerTime('2026-12-01T08:07:03.813'), Date.parse('2026-12-01T08:07:03.813Z'));
  });

  test('a resume that trained another request is caught by its result and model path', () => {
    const reason = ownershipMismatch(realOperation(), { ...claim, strategyName: 'baseline_rsi_mfi_ab12_s3', symbols: ['GBPUSD'] });
    assert.match(reason ?? '', /it uses symbols EURUSD, not GBPUSD/);
    assert.match(reason ?? '', /its result is for strategy 'v3_minimal'/);
    assert.match(reason ?? '', /its model models\/v3_minimal\/1h_v1 belongs to strategy 'v3_minimal'/);
  });

  test('another window is refused', () => {
    assert.match(
      ownershipMismatch(realOperation(), { ...claim, startDate: '2020-01-01' }) ?? '',
      /its window is 2024-01-01\.\.2024-12-31, not 2020-01-01\.\.2024-12-31/,
    );
  });

  test("the strategy is read from a `name:` line only when it is whole, and from a model's directory", () => {
    assert.equal(operationStrategy(realOperation()), null);
    assert.equal(operationStrategy({ metadata: { parameters: { strategy_yaml: 'name: rsi_mfi\nversion: "3.0"\n' } } }), 'rsi_mfi');
    assert.equal(operationStrategy({ metadata: { parameters: { strategy_yaml: 'version: "3.0"\nname: rsi_mf' } } }), null);
    assert.equal(modelStrategy('/data/models/rsi_mfi/1h_v4'), 'rsi_mfi');
  });
});

describe('per-epoch metrics in the nesting KTRDR returns', () => {
  test('the nested list of GET /operations/{id}/metrics is accepted and read epoch by epoch', () => {
    const epoch = (n: number, loss: number) => ({ epoch: n, train_loss: loss, val_loss: loss + 0.3, train_accuracy: 0.67 });
    // Exactly the shape the real backend answered: [[[epochs...], cursor], cursor].
    const body = {
      success: true,
      data: { operation_id: 'op', operation_type: 'training', metrics: [[[epoch(0, 0.9046), epoch(1, 0.8668), epoch(2, 0.8522)], 3], 2] },
    };
    const parsed = operationMetricsResponseSchema.safeParse(body);
    assert.equal(parsed.success, true);
    assert.deepEqual(
      epochMetricsOf(parsed.data?.data.metrics).map((e) => [e.epoch, e.trainLoss]),
      [
        [0, 0.9046],
        [1, 0.8668],
        [2, 0.8522],
      ],
    );
    // GET /operations/{id} nests them one level less, under `epochs`; a plain object form still reads.
    assert.equal(epochMetricsOf({ epochs: [[epoch(0, 0.9), epoch(1, 0.8)], 2] }).length, 2);
    assert.equal(epochMetricsOf({ epochs: [epoch(4, 0.5)] })[0]?.epoch, 4);
    assert.deepEqual(epochMetricsOf({}), []);
  });
});
