import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bookedUsd } from '../../src/core/budget/money.ts';
import { runCli } from '../support/cli.ts';
import { listPriceUsd } from '../support/list-prices.ts';
import { startEngineRig, toolNamesOf, type EngineRig } from '../support/scripted-model.ts';

interface BatchRow {
  id: string;
  session_id: number;
  purpose: string;
  custom_id: string;
  batch_id: string | null;
  status: string;
  result_type: string | null;
  settled_usd: string | null;
  reserved_usd: string;
  reservation_id: string;
}

async function batchRows(rig: EngineRig): Promise<BatchRow[]> {
  return (await rig.pool.query<BatchRow>('SELECT * FROM agent_message_batches ORDER BY id')).rows;
}

async function reservation(rig: EngineRig, id: string): Promise<{ status: string; amount_usd: string; settled_usd: string | null; estimated: boolean }> {
  return (await rig.pool.query('SELECT status, amount_usd, settled_usd, estimated FROM agent_budget_reservations WHERE id = $1', [id])).rows[0];
}

/** What the fake server's result for this batch costs at the batch price (half the standard price of its usage). */
function batchCostOf(rig: EngineRig, batchId: string): number {
  const line = rig.fake.batches.get(batchId)!.results[0]!;
  const message = line.result.message as { model: string; usage: Record<string, unknown> };
  assert.equal(message.usage.service_tier, 'batch');
  // Message Batches bill every token at half the standard price.
  return bookedUsd(listPriceUsd(message.model, message.usage) / 2);
}

async function ticksUntil(rig: EngineRig, done: () => Promise<boolean>, maxTicks = 20): Promise<number[]> {
  const codes: number[] = [];
  for (let count = 0; count < maxTicks; count += 1) {
    codes.push((await rig.tickAllowingFailure()).code ?? -1);
    if (await done()) return codes;
    rig.clock.advance(60_000);
  }
  throw new Error(`not done after ${maxTicks} ticks: ${JSON.stringify(await rig.sessions())}`);
}

describe('Message Batches (AGENT_BATCH_PHASES) through the built CLI', () => {
  test('backtest and assessment go out as batches, held until their results settle them at half price', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', env: { AGENT_BATCH_PHASES: 'backtest,assess' } });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    assert.equal(session!.phase, 'training', session!.failure_reason ?? '');
    assert.equal(rig.fake.batches.size, 0, 'design is not batched');

    await rig.tickUntil(async () => rig.fake.batches.size === 1, { maxTicks: 20, advanceMs: 60_000 });
    const [submitted] = await batchRows(rig);
    assert.equal(submitted!.purpose, 'backtest');
    assert.equal(submitted!.status, 'in_progress');
    const fakeBatch = rig.fake.batches.get(submitted!.batch_id!)!;
    assert.ok(fakeBatch, 'the stored batch id is the one the API created');
    assert.equal(fakeBatch.requests[0]!.custom_id, submitted!.custom_id);
    assert.ok(toolNamesOf({ body: fakeBatch.requests[0]!.params } as never).includes('start_backtest'));
    assert.equal((await rig.session(session!.id)).phase, 'training', 'the session waits in its phase');
    const held = await reservation(rig, submitted!.reservation_id);
    assert.equal(held.status, 'reserved', 'the worst case stays reserved while the batch runs');

    const status = await runCli(['status', '--json'], rig.env);
    const active = (JSON.parse(status.stdout) as { active: { id: number; batch: { batchId: string } | null }[] }).active;
    assert.equal(active.find((cycle) => cycle.id === session!.id)?.batch?.batchId, submitted!.batch_id);
    assert.match((await runCli(['status'], rig.env)).stdout, /waiting for batch msgbatch_/);
    const view = JSON.parse((await runCli(['session', String(session!.id), '--json'], rig.env)).stdout) as { batch: { status: string } | null };
    assert.equal(view.batch?.status, 'in_progress');

    // Still processing: the pass polls it and sends nothing else.
    const directBefore = rig.fake.requests.length;
    await rig.tick();
    assert.equal(rig.fake.requests.length, directBefore, 'no direct call while the batch runs');
    assert.equal(rig.fake.batches.size, 1, 'no second batch');
    const waits = await rig.pool.query(`SELECT count(*)::int AS n FROM agent_triggers WHERE session_id = $1 AND skip_reason = 'waiting_for_batch'`, [
      session!.id,
    ]);
    assert.ok(waits.rows[0].n >= 2);
    assert.equal((await rig.session(session!.id)).invocation_attempts, 0, 'waiting is not an attempt');

    // The API cannot be polled this pass: a fault of the world (exit 5), the batch and its reservation untouched.
    rig.fake.overloadBatchCalls(1);
    const overloaded = await rig.tickAllowingFailure();
    assert.equal(overloaded.code, 5, overloaded.stderr);
    const afterFault = await rig.session(session!.id);
    assert.deepEqual([afterFault.phase, afterFault.outcome], ['training', null]);
    assert.equal((await batchRows(rig))[0]!.status, 'in_progress');
    assert.equal((await reservation(rig, submitted!.reservation_id)).status, 'reserved');

    await rig.fake.endBatches();
    await rig.tick();
    assert.equal((await rig.session(session!.id)).phase, 'backtesting');
    const [collected] = await batchRows(rig);
    assert.equal(collected!.status, 'ended');
    assert.equal(collected!.result_type, 'succeeded');
    const expected = batchCostOf(rig, collected!.batch_id!);
    assert.equal(Number(collected!.settled_usd), expected);
    const settled = await reservation(rig, collected!.reservation_id);
    assert.deepEqual([settled.status, Number(settled.settled_usd), settled.estimated], ['settled', expected, false]);
    assert.ok(expected <= Number(collected!.reserved_usd));

    await rig.tickUntil(async () => rig.fake.batches.size === 2, { maxTicks: 20, advanceMs: 60_000 });
    assert.equal((await rig.session(session!.id)).phase, 'assessing');
    // The assessment batch disappears from the API (deleted, or archived): its reservation is kept as an estimate
    // (what it was billed is unknown) and the call goes out directly.
    const gone = (await batchRows(rig))[1]!;
    rig.fake.batches.delete(gone.batch_id!);
    await rig.tick();
    const lostRow = (await batchRows(rig))[1]!;
    assert.deepEqual([lostRow.status, lostRow.result_type, Number(lostRow.settled_usd)], ['ended', 'lost', Number(gone.reserved_usd)]);
    const kept = await reservation(rig, gone.reservation_id);
    assert.deepEqual([kept.status, kept.estimated], ['settled', true]);
    const done = await rig.session(session!.id);
    assert.equal(done.outcome, 'success', done.failure_reason ?? '');
    assert.equal(done.assessment?.verdict, 'neutral');

    // Every dollar booked for the session is its direct design calls plus the two batch results, nothing open.
    const money = await rig.pool.query(
      `SELECT count(*) FILTER (WHERE status = 'reserved')::int AS open, COALESCE(sum(settled_usd), 0)::float8 AS settled FROM agent_budget_reservations WHERE session_id = $1`,
      [session!.id],
    );
    assert.equal(money.rows[0].open, 0);
    assert.ok(Math.abs(money.rows[0].settled - Number(done.cost_usd)) < 1e-6);
    const batches = await batchRows(rig);
    assert.deepEqual(
      batches.map((b) => b.result_type),
      ['succeeded', 'lost'],
    );
    assert.deepEqual(rig.fake.scriptErrors, []);
  });

  test('an expired batch goes out directly, a create call cut off is found by its custom_id, cancel settles at $0', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', env: { AGENT_BATCH_PHASES: 'backtest,assess' } });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    await rig.tickUntil(async () => rig.fake.batches.size === 1, { maxTicks: 20, advanceMs: 60_000 });

    // Expiry: nothing was processed, so nothing is booked, and the call goes out directly in the same pass.
    rig.fake.expireBatches();
    const directBefore = rig.fake.requests.length;
    await rig.tick();
    assert.equal((await rig.session(session!.id)).phase, 'backtesting');
    assert.ok(
      rig.fake.requests.slice(directBefore).some((r) => toolNamesOf(r).includes('start_backtest')),
      'the backtest call was sent directly',
    );
    const [expired] = await batchRows(rig);
    assert.deepEqual([expired!.result_type, Number(expired!.settled_usd)], ['expired', 0]);
    assert.deepEqual(
      [(await reservation(rig, expired!.reservation_id)).status, Number((await reservation(rig, expired!.reservation_id)).settled_usd)],
      ['settled', 0],
    );

    // The create call of the assessment batch is cut off after the API made the batch.
    rig.fake.dropNextBatchCreate();
    const codes = await ticksUntil(rig, async () => rig.fake.batches.size === 2);
    assert.equal(codes.at(-1), 5, 'a cut-off create call is a fault of the world (degraded)');
    let lost = (await batchRows(rig))[1]!;
    assert.deepEqual([lost.status, lost.batch_id], ['submitting', null], 'the row was written before the create call');
    assert.equal((await reservation(rig, lost.reservation_id)).status, 'reserved');
    // The batch made then is still processing: whether it is ours cannot be read yet, and no second one is sent.
    await rig.tickAllowingFailure();
    assert.equal(rig.fake.batches.size, 2);
    assert.equal((await batchRows(rig))[1]!.status, 'submitting');
    await rig.fake.endBatches();
    await rig.tick();
    lost = (await batchRows(rig))[1]!;
    assert.ok(rig.fake.batches.has(lost.batch_id!), 'the lost batch was found and adopted by its custom_id');
    assert.equal(lost.result_type, 'succeeded');
    assert.equal(Number(lost.settled_usd), batchCostOf(rig, lost.batch_id!));
    assert.equal((await rig.session(session!.id)).outcome, 'success');
    assert.equal(rig.fake.batches.size, 2, 'the assessment was sent once');

    // The next cycle's backtest batch is cancelled by the operator: the reservation waits for the result.
    await rig.tickUntil(async () => rig.fake.batches.size === 3, { maxTicks: 25, advanceMs: 60_000 });
    const third = (await batchRows(rig))[2]!;
    const cancel = await runCli(['cancel', String(third.session_id)], rig.env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancellation requested/);
    assert.equal(rig.fake.batches.get(third.batch_id!)!.processing_status, 'canceling');
    assert.equal((await reservation(rig, third.reservation_id)).status, 'reserved', 'a canceling batch may still be billed');
    await rig.fake.endBatches();
    await rig.tickAllowingFailure();
    const canceled = (await batchRows(rig))[2]!;
    assert.deepEqual([canceled.status, canceled.result_type, Number(canceled.settled_usd)], ['ended', 'canceled', 0]);
    const released = await reservation(rig, third.reservation_id);
    assert.deepEqual([released.status, Number(released.settled_usd)], ['settled', 0]);
    assert.deepEqual(rig.fake.scriptErrors, []);
  });
});

describe('a pass does not invoke when the last anthropic-ratelimit-* headers leave no call', () => {
  test('the design stops after the answer that spent the quota; the next pass sends nothing and records the fault', async (t) => {
    const resetAt = new Date(Date.now() + 3_600_000).toISOString();
    const rig = await startEngineRig({
      designer: 'claude',
      model: {
        headers: { 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': resetAt },
      },
    });
    t.after(() => rig.close());
    const first = await rig.tickAllowingFailure();
    assert.equal(first.code, 5, first.stderr);
    const [session] = await rig.sessions();
    assert.deepEqual([session!.phase, session!.outcome], ['designing', null], 'a spent quota is no research result');
    const sent = rig.fake.requests.length + rig.fake.countRequests.length;
    assert.ok(sent >= 1);

    const second = await rig.tickAllowingFailure();
    assert.equal(second.code, 5, 'still degraded: the quota is a fault of the world');
    assert.equal(rig.fake.requests.length + rig.fake.countRequests.length, sent, 'nothing was sent before the reset');
    const skipped = await rig.pool.query(
      `SELECT context FROM agent_triggers WHERE session_id = $1 AND skip_reason = 'infrastructure_fault' ORDER BY id DESC LIMIT 1`,
      [session!.id],
    );
    assert.equal(skipped.rows[0]?.context?.faultClass, 'anthropic_rate_limited');
    assert.match(String(skipped.rows[0]?.context?.cause), /no request left until/);
    const after = await rig.session(session!.id);
    assert.deepEqual([after.phase, after.outcome, after.invocation_attempts], ['designing', null, 0], 'the skip is not an attempt');
  });
});
