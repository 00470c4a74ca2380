import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BATCH_EXPIRY_GRACE_MS } from '../../src/core/agent/message-batch.ts';
import { startEngineRig, toolNamesOf, type EngineRig } from '../support/scripted-model.ts';

interface BatchRow {
  session_id: number;
  status: string;
  result_type: string | null;
  settled_usd: string | null;
  reserved_usd: string;
  reservation_id: string;
  batch_id: string | null;
  detail: string | null;
}

async function batchRows(rig: EngineRig): Promise<BatchRow[]> {
  return (await rig.pool.query<BatchRow>('SELECT * FROM agent_message_batches ORDER BY id')).rows;
}

async function reservation(rig: EngineRig, id: string): Promise<{ status: string; settled_usd: string | null; estimated: boolean }> {
  return (await rig.pool.query('SELECT status, settled_usd, estimated FROM agent_budget_reservations WHERE id = $1', [id])).rows[0];
}

async function failedSessions(rig: EngineRig): Promise<unknown[]> {
  return (await rig.sessions()).filter((session) => session.outcome !== null && session.outcome !== 'success');
}

describe('Message Batches faults are infrastructure, never a research result', () => {
  test('a batches endpoint answering 404 sends the phase directly for the pass, with a warning; no session fails', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', env: { AGENT_BATCH_PHASES: 'backtest,assess' } });
    t.after(() => rig.close());
    rig.fake.batchesAnswer(404);
    await rig.tick();
    const [session] = await rig.sessions();
    await rig.tickUntil(async () => (await rig.session(session!.id)).outcome !== null, { maxTicks: 25, advanceMs: 60_000 });
    const done = await rig.session(session!.id);
    assert.equal(done.outcome, 'success', done.failure_reason ?? '');
    assert.deepEqual(await failedSessions(rig), []);
    assert.ok(
      rig.fake.requests.some((r) => toolNamesOf(r).includes('start_backtest')),
      'the backtest call went out directly',
    );
    const rows = await batchRows(rig);
    assert.ok(rows.length >= 1);
    for (const row of rows) {
      assert.deepEqual([row.status, row.result_type, Number(row.settled_usd)], ['ended', 'lost', 0]);
      assert.match(row.detail ?? '', /^warning: the Message Batches endpoint is not available here .*404/);
    }
  });

  test('a batch ended without our result line is retried directly: $0 when not counted as succeeded, the estimate when it was', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', env: { AGENT_BATCH_PHASES: 'backtest,assess' } });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    await rig.tickUntil(async () => rig.fake.batches.size === 1, { maxTicks: 20, advanceMs: 60_000 });

    await rig.fake.endBatchesWithoutResults({ billed: false });
    await rig.tick();
    assert.equal((await rig.session(session!.id)).phase, 'backtesting', 'the backtest call went out directly in the same pass');
    const [unbilled] = await batchRows(rig);
    assert.deepEqual([unbilled!.status, unbilled!.result_type, Number(unbilled!.settled_usd)], ['ended', 'lost', 0]);
    const freed = await reservation(rig, unbilled!.reservation_id);
    assert.deepEqual([freed.status, Number(freed.settled_usd), freed.estimated], ['settled', 0, false]);

    await rig.tickUntil(async () => rig.fake.batches.size === 2, { maxTicks: 20, advanceMs: 60_000 });
    await rig.fake.endBatchesWithoutResults({ billed: true });
    await rig.tick();
    const billed = (await batchRows(rig))[1]!;
    assert.deepEqual([billed.result_type, Number(billed.settled_usd)], ['lost', Number(billed.reserved_usd)]);
    assert.equal((await reservation(rig, billed.reservation_id)).estimated, true);
    const done = await rig.session(session!.id);
    assert.equal(done.outcome, 'success', done.failure_reason ?? '');
  });

  test('a batch still in progress past expires_at plus the grace period is cancelled, settled at $0, and the call sent directly', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', env: { AGENT_BATCH_PHASES: 'backtest,assess' } });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    await rig.tickUntil(async () => rig.fake.batches.size === 1, { maxTicks: 20, advanceMs: 60_000 });

    // Within the grace period it is still waited for.
    rig.fake.overstayBatches(60_000);
    await rig.tick();
    assert.equal((await batchRows(rig))[0]!.status, 'in_progress');

    rig.fake.overstayBatches(BATCH_EXPIRY_GRACE_MS + 60_000);
    await rig.tick();
    const [row] = await batchRows(rig);
    assert.deepEqual([row!.status, row!.result_type, Number(row!.settled_usd)], ['ended', 'expired', 0]);
    assert.equal(rig.fake.batches.get(row!.batch_id!)!.processing_status, 'canceling', 'the batch was cancelled at the API');
    assert.deepEqual([(await reservation(rig, row!.reservation_id)).status], ['settled']);
    assert.equal((await rig.session(session!.id)).phase, 'backtesting');
  });
});
