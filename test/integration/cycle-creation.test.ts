import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureBudgetDay, findBudgetDay } from '../../src/core/db/repositories/budget.ts';
import { createSessionWithinCap } from '../../src/core/db/repositories/cycles.ts';
import { countActiveSessions } from '../../src/core/db/repositories/sessions.ts';
import { openTestStore, storeKinds } from '../support/databases.ts';

for (const kind of storeKinds) {
  describe(`a cycle's session is created within the cap on ${kind}`, () => {
    let harness: Awaited<ReturnType<typeof openTestStore>>;
    before(async () => {
      harness = await openTestStore(kind);
    });
    after(async () => {
      await harness.cleanup();
    });

    const now = new Date('2026-11-24T10:00:00Z');
    const cycle = (owner: string) => ({ maxActive: 2, designer: 'baseline', now, leaseOwner: owner, leaseExpiresAt: new Date(now.getTime() + 60_000) });

    test('five creations racing for two slots make exactly two sessions, each leased and counted with its first invocation', async () => {
      const { db } = harness.store;
      await ensureBudgetDay(db, '2026-11-24', 5);
      const created = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => createSessionWithinCap(db, cycle(owner))));
      const sessions = created.filter((session) => session !== null);
      assert.equal(sessions.length, 2);
      assert.equal(await countActiveSessions(db), 2);
      for (const session of sessions) {
        assert.equal(session.phase, 'designing');
        assert.equal(session.invocationAttempts, 1);
        assert.ok(session.leaseOwner && ['a', 'b', 'c', 'd', 'e'].includes(session.leaseOwner));
      }
      const day = await findBudgetDay(db, '2026-11-24');
      assert.deepEqual([day?.cyclesStarted, day?.invocations], [2, 2]);
      assert.equal(await createSessionWithinCap(db, cycle('f')), null);
    });
  });
}
