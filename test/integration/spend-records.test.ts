import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAnthropicClient } from '../../src/core/agent/anthropic-client.ts';
import { databaseBudget } from '../../src/core/agent/database-budget.ts';
import { invokeAgent, type InvocationDeps } from '../../src/core/agent/invoke.ts';
import { priceFor } from '../../src/core/budget/pricing.ts';
import { renderBudgetText } from '../../src/core/cli/views/budget-text.ts';
import { loadBudgetView } from '../../src/core/cli/views/budget-view.ts';
import { findBudgetDay } from '../../src/core/db/repositories/budget.ts';
import { estimatedSpendUsd } from '../../src/core/db/repositories/budget-reservations.ts';
import { expireStaleReservations, reserveBudget } from '../../src/core/db/budget-ledger.ts';
import { toNumber, toNumberOrNull } from '../../src/core/db/values.ts';
import { startFakeAnthropic, text, thinking, toolUse, type FakeAnthropic, type ScriptStep } from '../support/fake-anthropic.ts';
import { openTestStore, storeKinds } from '../support/databases.ts';

const API_KEY = 'sk-ant-api03-spend-records-5b7d';
const MODEL = 'claude-opus-5-5';

function deps(fake: FakeAnthropic, budget: InvocationDeps['budget'], overrides: Partial<InvocationDeps> = {}): InvocationDeps {
  return {
    client: createAnthropicClient({ apiKey: API_KEY, baseURL: fake.url, timeoutMs: 10_000 }),
    model: MODEL,
    maxTokens: 8_000,
    maxTurns: 20,
    timeoutMs: 20_000,
    price: priceFor(MODEL),
    system: 'You design trading strategies. '.repeat(200),
    tools: [
      {
        name: 'list_indicators',
        description: 'Lists the indicators.',
        inputSchema: { type: 'object', properties: {} },
        async run() {
          return { ok: true, content: { indicators: ['rsi', 'adx'] } };
        },
      },
    ],
    firstMessage: 'Design a strategy.',
    budget,
    retry: { maxAttempts: 2, initialDelayMs: 1 },
    ...overrides,
  };
}

for (const kind of storeKinds) {
  describe(`spend records on ${kind}`, () => {
    let harness: Awaited<ReturnType<typeof openTestStore>>;
    let fake: FakeAnthropic;
    before(async () => {
      harness = await openTestStore(kind);
      fake = await startFakeAnthropic({ apiKey: API_KEY });
    });
    after(async () => {
      await fake.close();
      await harness.cleanup();
    });

    test('an attempt cut off after it was sent is booked as estimated; the answered retry is confirmed, with its request id', async () => {
      const date = '2026-12-02';
      const budget = databaseBudget({
        db: harness.store.db,
        dailyLimitUsd: 5,
        bufferUsd: 0,
        enforce: true,
        sessionId: null,
        now: () => new Date(`${date}T10:00:00Z`),
      });
      fake.script([{ drop: true }, { content: [thinking('Done.'), text('A design.')], stop_reason: 'end_turn' }]);

      const result = await invokeAgent(deps(fake, budget));

      assert.equal(result.status, 'completed', result.reason);
      const rows = await harness.store.db.selectFrom('agent_budget_reservations').selectAll().where('date', '=', date).orderBy('id').execute();
      assert.deepEqual(
        rows.map((row) => [row.status, row.estimated, row.request_id === null]),
        [
          ['settled', true, true],
          ['settled', false, false],
        ],
      );
      assert.equal(toNumberOrNull(rows[0]!.settled_usd), toNumber(rows[0]!.amount_usd), 'the cut-off attempt keeps its reservation');
      assert.match(rows[1]!.request_id ?? '', /^req_011C/);
      // The answered attempt says where it ran and at which tier (what its price depends on); the cut-off one cannot.
      assert.deepEqual(
        rows.map((row) => [row.inference_geo, row.service_tier]),
        [
          [null, null],
          ['global', 'standard'],
        ],
      );
      const day = await findBudgetDay(harness.store.db, date);
      assert.ok(day!.usedUsd >= result.costUsd - 1e-12 && day!.usedUsd - result.costUsd <= 2e-6);
      assert.equal(day!.reservedUsd, 0);
      assert.ok(Math.abs((await estimatedSpendUsd(harness.store.db, { date })) - toNumber(rows[0]!.amount_usd)) < 1e-9);

      // `budget` shows the unconfirmed part apart from the confirmed spend.
      const view = await loadBudgetView(harness.store.db, {
        now: new Date(`${date}T12:00:00Z`),
        days: 0,
        configuredLimitUsd: 5,
        bufferUsd: 0,
        enforcement: true,
      });
      assert.ok(Math.abs(view.today.estimatedUsd - toNumber(rows[0]!.amount_usd)) < 1e-6);
      assert.match(renderBudgetText(view, { color: false }), /of which estimated, unconfirmed: \$0\.\d+ \(calls cut off after they were sent\)/);
    });

    test('a request refused before it was sent books nothing', async () => {
      const date = '2026-12-03';
      const budget = databaseBudget({
        db: harness.store.db,
        dailyLimitUsd: 5,
        bufferUsd: 0,
        enforce: true,
        sessionId: null,
        now: () => new Date(`${date}T10:00:00Z`),
      });
      const closed = await startFakeAnthropic();
      const refusedUrl = closed.url;
      await closed.close();

      const result = await invokeAgent(
        deps(fake, budget, { client: createAnthropicClient({ apiKey: API_KEY, baseURL: refusedUrl, timeoutMs: 5_000 }), countTokens: false }),
      );

      assert.equal(result.fault?.faultClass, 'anthropic_unreachable');
      const day = await findBudgetDay(harness.store.db, date);
      assert.equal(day?.usedUsd, 0);
      assert.equal(day?.reservedUsd, 0);
      assert.equal(await estimatedSpendUsd(harness.store.db, { date }), 0);
    });

    test('reservations left open by a dead process are booked in full and marked estimated', async () => {
      const date = '2026-12-04';
      const budget = databaseBudget({
        db: harness.store.db,
        dailyLimitUsd: 5,
        bufferUsd: 0,
        enforce: true,
        sessionId: null,
        now: () => new Date(`${date}T10:00:00Z`),
      });
      assert.ok(await budget.reserve(0.25));
      assert.equal(await expireStaleReservations(harness.store.db, new Date(Date.now() + 60_000)), 1);
      assert.equal(await estimatedSpendUsd(harness.store.db, { date }), 0.25);
    });

    test('concurrent invocations racing for one small budget never book a cent over the limit', async () => {
      const date = '2026-12-05';
      const limitUsd = 0.5;
      const bufferUsd = 0.05;
      const budget = () =>
        databaseBudget({ db: harness.store.db, dailyLimitUsd: limitUsd, bufferUsd, enforce: true, sessionId: null, now: () => new Date(`${date}T10:00:00Z`) });
      // Every turn thinks about 2,000 tokens ($0.04 of output) and asks for another tool call.
      const turn = (): ScriptStep => ({
        content: [thinking(`${'Weigh momentum against mean reversion. '.repeat(200)}`), toolUse('list_indicators', {})],
        stop_reason: 'tool_use',
      });
      fake.script(Array.from({ length: 80 }, turn));

      const results = await Promise.all(Array.from({ length: 4 }, () => invokeAgent(deps(fake, budget()))));

      for (const result of results) assert.equal(result.status, 'budget_exhausted', result.reason);
      const day = await findBudgetDay(harness.store.db, date);
      assert.equal(day!.reservedUsd, 0);
      assert.ok(day!.usedUsd <= limitUsd - bufferUsd + 1e-9, `booked $${day!.usedUsd} against $${limitUsd - bufferUsd}`);
      const spent = results.reduce((sum, result) => sum + result.costUsd, 0);
      const rows = await harness.store.db.selectFrom('agent_budget_reservations').selectAll().where('date', '=', date).execute();
      // Booked amounts are rounded up to the micro-dollar: never below what was spent, at most 1 µ$ a call above.
      assert.ok(day!.usedUsd >= spent - 1e-12, `the day books $${day!.usedUsd} for $${spent} spent`);
      assert.ok(day!.usedUsd - spent <= rows.length * 1e-6, `the day books $${day!.usedUsd} for $${spent} spent`);
      for (const row of rows) assert.ok(toNumber(row.settled_usd ?? 0) <= toNumber(row.amount_usd), `settled above its reservation: ${JSON.stringify(row)}`);
      // Sanity: a reservation was actually refused (the race was lost by someone), and spend did happen.
      assert.ok(rows.length >= 4);
      assert.ok((await reserveBudget(harness.store.db, { date, amountUsd: limitUsd, bufferUsd, enforce: true, sessionId: null })) === null);
    });

    test('the race holds with retries, connections cut after sending and calls run in the US at 1.1x', async () => {
      const date = '2026-12-06';
      const limitUsd = 0.5;
      const bufferUsd = 0.05;
      const usFake = await startFakeAnthropic({ apiKey: API_KEY, workspaceInferenceGeo: 'us' });
      try {
        const budget = () =>
          databaseBudget({
            db: harness.store.db,
            dailyLimitUsd: limitUsd,
            bufferUsd,
            enforce: true,
            sessionId: null,
            now: () => new Date(`${date}T10:00:00Z`),
          });
        const turn = (): ScriptStep => ({
          content: [thinking(`${'Weigh momentum against mean reversion. '.repeat(200)}`), toolUse('list_indicators', {})],
          stop_reason: 'tool_use',
        });
        // Every third request is cut off after it was sent: its reservation is kept as an estimate and it is retried.
        usFake.script(Array.from({ length: 90 }, (_, i) => (i % 3 === 2 ? { drop: true } : turn())));

        const results = await Promise.all(
          Array.from({ length: 4 }, () => invokeAgent({ ...deps(usFake, budget()), retry: { maxAttempts: 3, initialDelayMs: 1 } })),
        );

        for (const result of results) assert.equal(result.status, 'budget_exhausted', result.reason);
        const day = await findBudgetDay(harness.store.db, date);
        assert.equal(day!.reservedUsd, 0);
        assert.ok(day!.usedUsd <= limitUsd - bufferUsd + 1e-9, `booked $${day!.usedUsd} against $${limitUsd - bufferUsd}`);
        const rows = await harness.store.db.selectFrom('agent_budget_reservations').selectAll().where('date', '=', date).execute();
        for (const row of rows)
          assert.ok(toNumber(row.settled_usd ?? 0) <= toNumber(row.amount_usd) + 1e-12, `settled above its reservation: ${JSON.stringify(row)}`);
        // Both kinds of settlement took part in the race: confirmed US calls and kept estimates.
        assert.ok(
          rows.some((row) => row.estimated),
          'a cut-off attempt was booked as an estimate',
        );
        assert.ok(
          rows.some((row) => !row.estimated && row.inference_geo === 'us'),
          'an answered call ran in the US',
        );
      } finally {
        await usFake.close();
      }
    });
  });
}
