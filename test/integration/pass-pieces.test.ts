import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/load.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { setPaused } from '../../src/core/db/repositories/control.ts';
import { ensureBudgetDay, incrementBudgetCounters, setBudgetLimitOverride } from '../../src/core/db/repositories/budget.ts';
import { reserveBudget } from '../../src/core/db/budget-ledger.ts';
import type { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { noopTracer } from '../../src/core/kernel/tracer.ts';
import { utcDay } from '../../src/core/kernel/utc-day.ts';
import { createSessionWithinCap } from '../../src/core/db/transactions/create-cycle.ts';
import { findSession } from '../../src/core/db/repositories/sessions.ts';
import { advanceSession } from '../../src/core/engine/advance-session.ts';
import { pausedSince } from '../../src/core/engine/invocation-guards.ts';
import { openPassBudget } from '../../src/core/engine/pass-budget.ts';
import type { PassContext } from '../../src/core/engine/pass-context.ts';
import { openLedger, type PassLedger } from '../../src/core/engine/pass-ledger.ts';
import { searchSymbolsOnce } from '../../src/core/engine/start-cycles.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

describe('the pieces of a pass against a store', () => {
  const work = tempDir('ktrdr-agent-pass-pieces-');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;

  before(async () => {
    database = await createTestDatabase();
    store = await openStore({ kind: 'postgres', url: database.url });
  });
  after(async () => {
    await store.close();
    await database.drop();
    work.remove();
  });

  const config = () =>
    loadConfig({
      env: { HOME: work.path, DATABASE_URL: database.url, KTRDR_STRATEGIES_DIR: work.path, AGENT_BUDGET_DAILY_USD: '10', AGENT_BUDGET_BUFFER_USD: '1' },
    });

  /** What a piece of a baseline pass is handed; it never needs the designer or KTRDR here. */
  const baselineContext = async (input: { tickId: string; ledger: PassLedger; now: () => Date; explain?: (line: string) => void }): Promise<PassContext> => {
    const loaded = config();
    const noDesigner = async () => assert.fail('no designer is needed');
    return {
      env: {
        store,
        config: loaded,
        ktrdr: {} as KtrdrClient,
        designer: noDesigner,
        designerKind: 'baseline',
        now: input.now,
        tickId: input.tickId,
        tracer: noopTracer,
        ...(input.explain ? { explain: input.explain } : {}),
      },
      ledger: input.ledger,
      budget: await openPassBudget({ db: store.db, settings: loaded.settings, designerKind: 'baseline', now: input.now }),
      designer: noDesigner,
      batchWaiting: new Set(),
      searchSymbols: async () => [],
    };
  };

  test("the pass's budget: the operator's limit at open, a dead process's reservation counted, one read until something changed", async () => {
    // The pass's clock runs two hours ahead of the database's, so a reservation made now is past any lease.
    let clock = new Date(Date.now() + 2 * 3600_000);
    const date = utcDay(clock);
    await ensureBudgetDay(store.db, date, 10);
    await reserveBudget(store.db, { date, amountUsd: 0.5, bufferUsd: 0, enforce: false, sessionId: null });
    const { settings } = config();
    await setBudgetLimitOverride(store.db, 4, settings.AGENT_BUDGET_DAILY_USD, clock);
    const budget = await openPassBudget({ db: store.db, settings, designerKind: 'claude', now: () => clock });

    const opened = await budget.day();
    assert.deepEqual([opened.date, opened.limitUsd, opened.usedUsd, opened.reservedUsd], [date, 4, 0.5, 0]);
    assert.equal(budget.spendableUsd(opened), 2.5);
    assert.equal(budget.canInvoke({ ...opened, usedUsd: 3, reservedUsd: 0 }), false);
    const baseline = await openPassBudget({ db: store.db, settings, designerKind: 'baseline', now: () => clock });
    assert.equal(baseline.canInvoke({ ...opened, usedUsd: 4 }), true);

    await incrementBudgetCounters(store.db, date, { invocations: 1 });
    assert.equal((await budget.day()).invocations, opened.invocations, 'read once, until something spent or counted');
    budget.changed();
    assert.equal((await budget.day()).invocations, opened.invocations + 1);

    clock = new Date(clock.getTime() + 24 * 3600_000);
    const next = await budget.day();
    assert.equal(next.date, utcDay(clock), 'a pass that crosses midnight reads the new day');
    assert.equal(next.usedUsd, 0);
    assert.equal(next.limitUsd, 4, "the new day opens at the operator's limit");
    await setBudgetLimitOverride(store.db, null, settings.AGENT_BUDGET_DAILY_USD, clock);
  });

  test('a pause met mid-pass stops the rest of the pass, recorded each time it stops something', async () => {
    const now = () => new Date();
    const lines: string[] = [];
    const ledger = openLedger({ held: false });
    const context = await baselineContext({ tickId: 'tick_pieces', ledger, now, explain: (line) => lines.push(line) });

    assert.equal(await pausedSince(context, null, 'start_new_cycle'), false);
    assert.equal(ledger.decisions.length, 0);
    await setPaused(store.db, true, now());
    assert.equal(await pausedSince(context, null, 'invocation_check'), true);
    assert.equal(ledger.paused, true);
    await setPaused(store.db, false, now());
    // Resumed meanwhile: this pass still starts nothing more (the next one will).
    assert.equal(await pausedSince(context, null, 'start_new_cycle'), true);
    assert.deepEqual(
      ledger.decisions.map((d) => [d.sessionId, d.trigger, d.action, d.skipReason]),
      [
        [null, 'invocation_check', 'skip', 'paused'],
        [null, 'start_new_cycle', 'skip', 'paused'],
      ],
    );
    const rows = await store.db.selectFrom('agent_triggers').select(['session_id', 'skip_reason']).where('tick_id', '=', 'tick_pieces').execute();
    assert.equal(rows.length, 2);
    assert.ok(lines.length > 0, 'each recorded decision is explained to `trigger`');
  });

  test('once the pass knows of a pause, a session due an invocation goes through the one pause rule: skipped as paused, nothing invoked', async () => {
    const now = () => new Date();
    const session = await createSessionWithinCap(store.db, { maxActive: 5, designer: 'baseline', now: now(), leaseOwner: 'other', leaseExpiresAt: now() });
    assert.ok(session);
    const ledger = openLedger({ held: false }, true);
    const context = await baselineContext({ tickId: 'tick_paused_rule', ledger, now });
    await advanceSession(context, { session, observation: { kind: 'none' }, training: null, backtest: null });
    assert.deepEqual(
      ledger.decisions.map((d) => [d.sessionId, d.trigger, d.action, d.skipReason]),
      [[session.id, 'paused', 'skip', 'paused']],
    );
    assert.equal((await findSession(store.db, session.id))?.invocationAttempts, session.invocationAttempts, 'no attempt counted');
  });

  test("the search's symbols are asked of KTRDR once a pass, only those with hourly data, none when KTRDR cannot list them", async () => {
    let asked = 0;
    const listing = searchSymbolsOnce({
      listSymbols: async () => {
        asked += 1;
        return [{ symbol: 'EURUSD', available_timeframes: ['1h', '1d'] }, { symbol: 'GBPUSD', available_timeframes: ['1d'] }, { symbol: 'USDJPY' }];
      },
    } as unknown as KtrdrClient);
    assert.deepEqual(await listing(), ['EURUSD']);
    assert.deepEqual(await listing(), ['EURUSD']);
    assert.equal(asked, 1);
    const failing = searchSymbolsOnce({ listSymbols: async () => Promise.reject(new Error('down')) } as unknown as KtrdrClient);
    assert.deepEqual(await failing(), []);
  });
});
