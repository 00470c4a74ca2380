import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printReport, runChaos } from './harness.ts';

test('a long seeded chaos run keeps every invariant', { timeout: 20 * 60_000 }, async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20261124);
  const report = await runChaos({
    seed,
    rounds: Number(process.env.CHAOS_ROUNDS ?? 150),
    killRate: 0.2,
    maxConcurrent: 3,
    anthropicErrorRate: 0.2,
    dailyBudgetUsd: 2,
    pauseRate: 0.1,
    lockDropRate: 0.1,
    terminateRate: 0.05,
    hugeBodyRate: 0.03,
    clockSkewMs: -5 * 60_000,
    batchFaultRate: 0.1,
  });
  printReport(report);
  assert.ok(report.kills > 0 && report.faultsInjected.simulatorRuns > 0);
  assert.deepEqual(report.violations, []);
});
