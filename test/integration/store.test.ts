import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, migrationStatus } from '../../src/core/db/migrate.ts';
import { openStore } from '../../src/core/db/connect.ts';
import { ensureBudgetDay, findBudgetDay } from '../../src/core/db/repositories/budget.ts';
import { expireStaleReservations, reserveBudget, settleReservation } from '../../src/core/db/budget-ledger.ts';
import { endSession } from '../../src/core/session/end.ts';
import { createSession, findSession, listActiveSessions, updateSession } from '../../src/core/db/repositories/sessions.ts';
import { finishTick, readLastCapacity, readLastTick, startTick, type TickSummary } from '../../src/core/db/repositories/ticks.ts';
import { createTestDatabase, openTestStore, storeKinds } from '../support/databases.ts';

for (const kind of storeKinds) {
  describe(`state store on ${kind}`, () => {
    let harness: Awaited<ReturnType<typeof openTestStore>>;
    before(async () => {
      harness = await openTestStore(kind);
    });
    after(async () => {
      await harness.cleanup();
    });

    test('migrations are applied and a second run applies nothing', async () => {
      const status = await migrationStatus(harness.store.db);
      assert.deepEqual(status.pending, []);
      assert.ok(status.applied.length >= 1);
      assert.deepEqual(await migrateToLatest(harness.store.db), []);
    });

    test('the phase CHECK constraint refuses an unknown phase', async () => {
      await assert.rejects(
        sql`INSERT INTO agent_sessions (phase, designer) VALUES ('dreaming', 'baseline')`.execute(harness.store.db),
        /check constraint "valid_phase"/,
      );
    });

    test('sessions round-trip with plain typed values (numbers, dates, JSON)', async () => {
      const now = new Date('2026-11-24T10:00:00Z');
      const session = await createSession(harness.store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: new Date(now.getTime() + 60_000) });
      await updateSession(
        harness.store.db,
        session.id,
        {
          phase: 'training',
          trainingOperationId: 'op_1',
          trainingParams: { strategyName: 's', symbols: ['EURUSD'], timeframes: ['1h'], startDate: '2020-01-01', endDate: '2022-01-01' },
        },
        now,
      );
      const loaded = await findSession(harness.store.db, session.id);
      assert.ok(loaded);
      assert.equal(loaded.phase, 'training');
      assert.equal(typeof loaded.costUsd, 'number');
      assert.equal(typeof loaded.tokensInput, 'number');
      assert.ok(loaded.createdAt instanceof Date);
      assert.deepEqual(loaded.trainingParams?.symbols, ['EURUSD']);
      assert.deepEqual(
        loaded.phaseHistory.map((p) => p.phase),
        ['designing', 'training'],
      );
      assert.ok((await listActiveSessions(harness.store.db)).some((s) => s.id === session.id));
    });

    test('ending a session writes exactly one metrics row and counts the cycle', async () => {
      const now = new Date('2026-11-24T11:00:00Z');
      await ensureBudgetDay(harness.store.db, '2026-11-24', 5);
      const session = await createSession(harness.store.db, { designer: 'baseline', now, leaseOwner: 't', leaseExpiresAt: now });
      assert.equal(await endSession(harness.store.db, session.id, { outcome: 'failed_design', reason: 'no strategy' }, now), true);
      assert.equal(await endSession(harness.store.db, session.id, { outcome: 'failed_design', reason: 'twice' }, now), false);
      const rows = await harness.store.db.selectFrom('agent_metrics').selectAll().where('session_id', '=', session.id).execute();
      assert.equal(rows.length, 1);
      const ended = await findSession(harness.store.db, session.id);
      assert.equal(ended?.phase, 'idle');
      assert.equal(ended?.outcome, 'failed_design');
      assert.equal((await findBudgetDay(harness.store.db, '2026-11-24'))?.cyclesCompleted, 1);
    });

    test('budget reservations never overshoot the limit minus the buffer', async () => {
      const date = '2026-11-25';
      await ensureBudgetDay(harness.store.db, date, 1);
      const reservations = await Promise.all(
        Array.from({ length: 20 }, () => reserveBudget(harness.store.db, { date, amountUsd: 0.1, bufferUsd: 0.1, enforce: true, sessionId: null })),
      );
      const granted = reservations.filter((r) => r !== null);
      assert.equal(granted.length, 9);
      for (const reservation of granted) await settleReservation(harness.store.db, reservation!.id, 0.05);
      const day = await findBudgetDay(harness.store.db, date);
      assert.equal(day?.reservedUsd, 0);
      assert.ok(Math.abs((day?.usedUsd ?? 0) - 0.45) < 1e-9);
    });

    test('stale reservations are settled at their full amount', async () => {
      const date = '2026-11-26';
      await ensureBudgetDay(harness.store.db, date, 5);
      const reservation = await reserveBudget(harness.store.db, { date, amountUsd: 0.3, bufferUsd: 0, enforce: true, sessionId: null });
      assert.ok(reservation);
      assert.equal(await expireStaleReservations(harness.store.db, new Date(Date.now() + 60_000)), 1);
      const day = await findBudgetDay(harness.store.db, date);
      assert.equal(day?.reservedUsd, 0);
      assert.equal(day?.usedUsd, 0.3);
    });

    test('a tick summary is read back as it was written (the one TickSummary type); a running tick has none', async () => {
      const startedAt = new Date('2026-11-27T10:00:00Z');
      const capacity = {
        mode: 'auto' as const,
        trainingWorkers: { total: 4, busy: 3, idle: 1 },
        workersError: null,
        activeSessions: 3,
        maxActive: 4,
        newCyclesAllowed: 1,
        newCyclesStarted: 1,
        limitedBy: 'workers',
        costPerCycleUsd: 0.12,
        affordableCycles: 30,
      };
      const summary: TickSummary = {
        decisions: [
          { sessionId: 7, trigger: 'operation_still_running', action: 'record_progress', invoked: false, skipReason: null, detail: 'Epoch 3/50' },
          { sessionId: null, trigger: 'start_new_cycle', action: 'skip', invoked: false, skipReason: 'budget_exceeded' },
        ],
        sessionsCreated: [8],
        capacity,
      };
      await startTick(harness.store.db, { id: 'tick-summary-1', startedAt, host: 'h' });
      const running = await readLastTick(harness.store.db);
      assert.equal(running?.status, 'running');
      assert.deepEqual(running?.decisions, []);
      await finishTick(harness.store.db, { id: 'tick-summary-1', finishedAt: new Date(startedAt.getTime() + 1000), status: 'degraded', summary });
      const tick = await readLastTick(harness.store.db);
      assert.equal(tick?.status, 'degraded');
      assert.deepEqual(tick?.sessionsCreated, [8]);
      assert.deepEqual(
        tick?.decisions,
        summary.decisions.map((d) => ({ outcome: null, detail: null, ...d })),
      );
      assert.deepEqual(await readLastCapacity(harness.store.db), { tickId: 'tick-summary-1', startedAt, capacity });
    });
  });
}

describe('migrations from an empty database, twice in a row', () => {
  test('on PostgreSQL, two stores opened one after the other', async () => {
    const database = await createTestDatabase();
    try {
      for (let i = 0; i < 2; i++) {
        const store = await openStore({ kind: 'postgres', url: database.url });
        assert.deepEqual((await migrationStatus(store.db)).pending, []);
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });
});

describe('upgrading a database from before the research memory', () => {
  test('sessions that ended before it get their experiments when the memory migration runs (frozen migration, live backfill)', async () => {
    const database = await createTestDatabase();
    const store = await openStore({ kind: 'postgres', url: database.url }, { migrate: false });
    try {
      const { Migrator } = await import('kysely/migration');
      const { migrations } = await import('../../migrations/index.ts');
      const migrator = new Migrator({
        db: store.db,
        provider: { getMigrations: async () => migrations },
        migrationTableName: 'kysely_migration',
        migrationLockTableName: 'kysely_migration_lock',
      });
      const before = await migrator.migrateTo('20261201T081100000Z-spend-estimates');
      assert.equal(before.error, undefined);
      await sql`INSERT INTO agent_sessions (phase, designer, outcome, failure_reason, completed_at) VALUES ('idle', 'baseline', 'failed_design', 'never saved', NOW())`.execute(
        store.db,
      );
      const results = await migrateToLatest(store.db);
      assert.ok(results.some((result) => result.migrationName === '20261201T081500000Z-research-memory' && result.status === 'Success'));
      const experiments = await sql<{ outcome: string }>`SELECT outcome FROM agent_experiments`.execute(store.db);
      assert.deepEqual(
        experiments.rows.map((row) => row.outcome),
        ['failed_design'],
      );
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
