// The promotion stage and the lockbox through the built CLI on PostgreSQL: `promotion` on `experiments --json` rows
// (the issue's contract names), `experiments --promoted`, the counts on `status`, `lockbox`, `lockbox reset` without
// and with --confirm, `lockbox retry` (its refusals and a held window planned again), and the new settings out of
// range (exit 2, naming the variable).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { z } from 'zod';
import { lockboxResetSchema, lockboxRetrySchema, lockboxViewSchema } from '../../src/core/cli/views/promotion-schemas.ts';
import { errorResultSchema, experimentDetailViewSchema, experimentsViewSchema, statusViewSchema } from '../../src/core/cli/views/schemas.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { listPromotions, planValidations, promotionsOfExperiments, validationsOf } from '../../src/core/db/repositories/promotions.ts';
import { updateValidation } from '../../src/core/db/repositories/validation-backtests.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { seedExperiments } from '../support/seed-experiments.ts';
import { seedPromotions } from '../support/seed-promotions.ts';

function parsed<S extends z.ZodType>(schema: S, result: CliResult): z.output<S> {
  assert.equal(result.code, 0, result.stderr);
  const check = schema.safeParse(JSON.parse(result.stdout));
  assert.ok(check.success, check.success ? '' : JSON.stringify(check.error.issues.slice(0, 5), null, 1));
  return check.data;
}

describe('promotion and lockbox commands (built CLI, PostgreSQL)', () => {
  const home = tempDir('ktrdr-agent-promotion-cli-');
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let env: Record<string, string>;
  let seeded: Awaited<ReturnType<typeof seedPromotions>>;

  before(async () => {
    database = await createTestDatabase();
    store = await openStore({ kind: 'postgres', url: database.url });
    await seedExperiments(store.db, 40);
    seeded = await seedPromotions(store.db);
    env = { HOME: home.path, DATABASE_URL: database.url };
  });
  after(async () => {
    await store.close();
    await database.drop();
    home.remove();
  });

  test('experiments --json rows carry promotion (null when never a candidate); --promoted lists the promoted', async () => {
    const view = parsed(experimentsViewSchema, await runCli(['experiments', '--limit', '100', '--json'], env));
    const byId = new Map(view.experiments.map((e) => [e.id, e]));
    assert.ok(
      view.experiments.every((e) => e.promotion !== undefined),
      'every row has the field',
    );
    const promoted = byId.get(seeded.promoted)!.promotion!;
    assert.equal(promoted.status, 'promoted');
    assert.deepEqual(
      promoted.robustness,
      [
        { startDate: '2018-12-05', endDate: '2019-12-04', sharpe: 0.4 },
        { startDate: '2024-12-06', endDate: '2025-12-05', sharpe: 0.6 },
      ].sort((a, b) => (a.startDate < b.startDate ? 1 : -1)),
    );
    assert.deepEqual(promoted.lockbox, { startDate: '2025-12-06', endDate: '2026-12-05', sharpe: 0.5, psr: 0.95, trades: 42, maxDrawdown: 0.12 });
    assert.equal(typeof promoted.dsrAtDecision, 'number');
    assert.equal(typeof promoted.trialsAtDecision, 'number');
    assert.match(promoted.reason ?? '', /PSR 0\.950/);
    assert.equal(byId.get(seeded.rejected)!.promotion!.status, 'rejected');
    assert.equal(byId.get(seeded.pending[0]!)!.promotion!.status, 'pending');
    assert.equal(byId.get(seeded.pending[0]!)!.promotion!.lockbox, null);
    assert.ok(
      view.experiments.some((e) => e.promotion === null),
      'experiments that never passed both gates have none',
    );

    const only = parsed(experimentsViewSchema, await runCli(['experiments', '--promoted', '--json'], env));
    assert.deepEqual(
      only.experiments.map((e) => e.id),
      [seeded.promoted],
    );
    const text = await runCli(['experiments', '--promoted'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /promotion/);
    assert.match(text.stdout, new RegExp(`#${seeded.promoted} .*promoted`));
    const detail = parsed(experimentDetailViewSchema, await runCli(['experiments', 'show', String(seeded.rejected), '--json'], env));
    assert.equal(detail.experiment.promotion?.status, 'rejected');
    const promotedDetail = parsed(experimentDetailViewSchema, await runCli(['experiments', 'show', String(seeded.promoted), '--json'], env));
    assert.equal(promotedDetail.experiment.promotion?.status, 'promoted');
    const lockbox = promotedDetail.experiment.promotion?.lockbox;
    assert.deepEqual([lockbox?.startDate, lockbox?.endDate, lockbox?.sharpe, lockbox?.psr], ['2025-12-06', '2026-12-05', 0.5, 0.95]);
    assert.equal(typeof promotedDetail.experiment.promotion?.searchSharpe, 'number');
    // One rendering check: the promotion line of the detail.
    const shown = await runCli(['experiments', 'show', String(seeded.promoted)], env);
    assert.match(shown.stdout, /Promotion: promoted \(lockbox Sharpe 0\.50/);
  });

  test('status shows promoted strategies and pending validations', async () => {
    const status = parsed(statusViewSchema, await runCli(['status', '--json'], env));
    assert.deepEqual(status.promotions, { promoted: 1, pending: seeded.pending.length, rejected: 1, validationsInFlight: 0 });
    const text = await runCli(['status'], env);
    assert.match(text.stdout, new RegExp(`=== Promotions ===\\nPromoted: 1, pending validation: ${seeded.pending.length}, rejected: 1`));
  });

  test('lockbox lists the boundary and its consultations; reset without --confirm changes nothing and exits 1; with it, burns', async () => {
    const before = parsed(lockboxViewSchema, await runCli(['lockbox', '--json'], env));
    assert.equal(before.lockboxes.length, 1);
    assert.deepEqual(
      { ...before.lockboxes[0], fixedAt: null },
      {
        symbol: 'EURUSD',
        timeframe: '1h',
        startDate: '2025-12-06',
        searchPeriodEnd: '2025-12-05',
        months: 12,
        dataEndWhenFixed: '2026-12-06',
        fixedAt: null,
        burnedAt: null,
        burnedReason: null,
        consultations: 2,
        experimentIds: [seeded.promoted, seeded.rejected].sort((a, b) => a - b),
      },
    );
    const text = await runCli(['lockbox'], env);
    assert.match(text.stdout, /EURUSD 1h +│? *2025-12-06 .*2025-12-05 .* 2 .*in force/);

    const refused = await runCli(['lockbox', 'reset', 'EURUSD', '1h'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Nothing changed: resetting the lockbox of EURUSD 1h \(from 2025-12-06, consulted 2 time\(s\)\) burns it/);
    assert.match(refused.stderr, /--confirm/);
    assert.doesNotMatch(refused.stderr, /at .*\.(ts|js):\d+/, 'no stack trace');
    assert.deepEqual(parsed(lockboxViewSchema, await runCli(['lockbox', '--json'], env)).lockboxes, before.lockboxes);

    const missing = await runCli(['lockbox', 'reset', 'GBPUSD', '4h', '--confirm'], env);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /No lockbox is in force for GBPUSD 4h/);

    const burned = parsed(lockboxResetSchema, await runCli(['lockbox', 'reset', 'EURUSD', '1h', '--confirm', '--json'], env));
    assert.equal(burned.burned.consultations, 2);
    assert.ok(burned.burned.burnedAt);
    const after = parsed(lockboxViewSchema, await runCli(['lockbox', '--json'], env));
    assert.equal(after.lockboxes[0]!.burnedReason, 'reset by the operator (lockbox reset --confirm)');
    assert.equal(after.lockboxes[0]!.burnedAt, burned.burned.burnedAt);
  });

  test('lockbox retry: unknown experiment or no promotion exit 4, decided or nothing held exit 1 (unchanged); held windows are planned again', async () => {
    const retry = (id: number | string, json = false) => runCli(['lockbox', 'retry', String(id), ...(json ? ['--json'] : [])], env);
    const unknown = await retry(999999);
    assert.equal(unknown.code, 4);
    assert.match(unknown.stderr, /No experiment #999999\. `ktrdr-agent experiments` lists them/);
    assert.equal((await retry('abc')).code, 1);

    const promotions = await promotionsOfExperiments(
      store.db,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const noPromotion = Array.from({ length: 40 }, (_, i) => i + 1).find((id) => (promotions.get(id)?.promotion.status ?? 'not_candidate') === 'not_candidate');
    assert.ok(noPromotion, 'the seed has an experiment that never became a candidate');
    const none = await retry(noPromotion);
    assert.equal(none.code, 4);
    assert.match(none.stderr, new RegExp(`Experiment #${noPromotion} has no promotion`));

    const settled = await promotionsOfExperiments(store.db, [seeded.promoted]);
    const decided = errorResultSchema.parse(JSON.parse((await retry(seeded.promoted, true)).stdout));
    assert.deepEqual(await promotionsOfExperiments(store.db, [seeded.promoted]), settled, 'a decided promotion is unchanged');
    assert.deepEqual([decided.error.code, decided.error.exitCode], ['promotion_decided', 1]);
    assert.match(decided.error.message, /already promoted/);

    const [waiting, heldOne] = seeded.pending;
    const nothing = await retry(waiting!);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /Nothing changed: no validation backtest of experiment #\d+ is held/);
    assert.doesNotMatch(nothing.stderr, /at .*\.(ts|js):\d+/, 'no stack trace');

    const promotion = (await listPromotions(store.db, ['pending'])).find((p) => p.experimentId === heldOne)!;
    await planValidations(
      store.db,
      promotion.id,
      [{ kind: 'robustness', ordinal: 1, symbol: 'EURUSD', timeframe: '1h', startDate: '2018-12-05', endDate: '2019-12-04', lockboxId: null }],
      null,
    );
    const [window] = await validationsOf(store.db, promotion.id);
    await updateValidation(store.db, window!.id, { status: 'held', attempts: 3, operationId: 'op_lost', lastError: 'unknown to KTRDR (404)' });
    const result = parsed(lockboxRetrySchema, await retry(heldOne!, true));
    assert.deepEqual(result.retried, [{ kind: 'robustness', ordinal: 1, startDate: '2018-12-05', endDate: '2019-12-04', heldFor: 'unknown to KTRDR (404)' }]);
    assert.match(result.reason, /^retried by the operator at .* \(lockbox retry\)/);
    const [replanned] = await validationsOf(store.db, promotion.id);
    assert.deepEqual([replanned!.status, replanned!.attempts, replanned!.operationId], ['planned', 0, null]);
    assert.equal((await retry(heldOne!)).code, 1, 'a second retry finds nothing held');
  });

  test('the new settings out of range exit 2 and name the variable', async () => {
    for (const [name, value] of [
      ['AGENT_PROMOTION_MIN_DSR', '1.5'],
      ['AGENT_PROMOTION_MIN_LOCKBOX_PSR', '-0.1'],
      ['AGENT_PROMOTION_ROBUSTNESS_WINDOWS', '0'],
      ['AGENT_LOCKBOX_MONTHS', 'twelve'],
      ['AGENT_VALIDATION_CONCURRENCY', '2.5'],
    ] as const) {
      const result = await runCli(['status'], { ...env, [name]: value });
      assert.equal(result.code, 2, `${name}=${value}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`${name}="${value.replace('.', '\\.')}"`));
      assert.doesNotMatch(result.stderr, /at .*\.(ts|js):\d+/);
    }
  });
});
