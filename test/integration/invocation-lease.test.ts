import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureBudgetDay, findBudgetDay } from '../../src/core/db/repositories/budget.ts';
import { createSessionWithinCap } from '../../src/core/db/transactions/create-cycle.ts';
import { countActiveSessions, createSession, findSession, takeLease, updateSession } from '../../src/core/db/repositories/sessions.ts';
import { openTestStore, storeKinds } from '../support/databases.ts';

for (const kind of storeKinds) {
  describe(`sessions are created within the cap and leased by compare-and-set on ${kind}`, () => {
    let harness: Awaited<ReturnType<typeof openTestStore>>;
    before(async () => {
      harness = await openTestStore(kind);
    });
    after(async () => {
      await harness.cleanup();
    });

    const now = new Date('2026-11-24T10:00:00Z');
    const designing = { phase: 'designing' as const };
    const later = (ms: number) => new Date(now.getTime() + ms);

    test('a live lease of another owner is not taken; its own owner may renew it', async () => {
      const { db } = harness.store;
      const session = await createSession(db, { designer: 'baseline', now, leaseOwner: 'tick_a', leaseExpiresAt: later(60_000) });
      assert.equal(await takeLease(db, session.id, { owner: 'tick_b', expiresAt: later(120_000) }, later(1_000), designing), false);
      assert.equal((await findSession(db, session.id))?.leaseOwner, 'tick_a');
      assert.equal(await takeLease(db, session.id, { owner: 'tick_a', expiresAt: later(90_000) }, later(1_000), designing), true);
      assert.equal((await findSession(db, session.id))?.leaseExpiresAt?.getTime(), later(90_000).getTime());
    });

    test('an expired lease is taken by exactly one of two passes racing for it', async () => {
      const { db } = harness.store;
      const session = await createSession(db, { designer: 'baseline', now, leaseOwner: 'tick_dead', leaseExpiresAt: later(10_000) });
      const at = later(20_000);
      const results = await Promise.all(
        ['tick_b', 'tick_c'].map((owner) => db.transaction().execute((trx) => takeLease(trx, session.id, { owner, expiresAt: later(900_000) }, at, designing))),
      );
      assert.deepEqual(results.sort(), [false, true]);
      const owner = (await findSession(db, session.id))?.leaseOwner;
      assert.ok(owner === 'tick_b' || owner === 'tick_c');
    });

    test('a free lease is not taken for a phase the session has left (another pass invoked and moved it on)', async () => {
      const { db } = harness.store;
      const session = await createSession(db, { designer: 'baseline', now, leaseOwner: 'tick_a', leaseExpiresAt: later(60_000) });
      await updateSession(db, session.id, { phase: 'training', trainingOperationId: 'op_1', lease: null }, later(5_000));
      assert.equal(await takeLease(db, session.id, { owner: 'tick_b', expiresAt: later(900_000) }, later(6_000), designing), false);
      assert.equal((await findSession(db, session.id))?.leaseOwner, null);
    });

    test('five creations racing for two free slots make exactly two sessions, each leased and counted with its first invocation', async () => {
      const { db } = harness.store;
      const owners = ['a', 'b', 'c', 'd', 'e'];
      const maxActive = (await countActiveSessions(db)) + 2;
      const cycle = (owner: string) => ({ maxActive, designer: 'baseline', now, leaseOwner: owner, leaseExpiresAt: later(60_000) });
      await ensureBudgetDay(db, '2026-11-24', 5);
      const created = (await Promise.all(owners.map((owner) => createSessionWithinCap(db, cycle(owner))))).filter((session) => session !== null);
      assert.equal(created.length, 2);
      assert.equal(await countActiveSessions(db), maxActive);
      for (const session of created) {
        assert.equal(session.phase, 'designing');
        assert.equal(session.invocationAttempts, 1);
        assert.ok(owners.includes(session.leaseOwner ?? ''));
      }
      const day = await findBudgetDay(db, '2026-11-24');
      assert.deepEqual([day?.cyclesStarted, day?.invocations], [2, 2]);
      assert.equal(await createSessionWithinCap(db, cycle('f')), null);
    });
  });
}
