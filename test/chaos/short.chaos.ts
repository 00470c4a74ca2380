import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printReport, runChaos } from './harness.ts';

// Out of `npm test` for now (run it with `npm run test:chaos`): on the merged round-3 code it finds live double starts
// in four runs of six (the validation lane starting a model's robustness and lockbox backtests beside each
// other; a fresh training start beside a live first run). Those are real defects under injected faults, to be fixed
// before this run returns to the CI lane; see docs/chaos.md, "Open".

test('a short seeded chaos run keeps every invariant', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 7);
  const report = await runChaos({
    seed,
    rounds: 100,
    killRate: 0.25,
    maxConcurrent: 3,
    anthropicErrorRate: 0.15,
    dailyBudgetUsd: 0.5,
    pauseRate: 0.05,
    lockDropRate: 0.05,
    terminateRate: 0.03,
    hugeBodyRate: 0.01,
    clockSkewMs: -5 * 60_000,
    batchFaultRate: 0.1,
  });
  printReport(report);
  assert.ok(report.ticks >= 30);
  assert.ok(report.kills > 0);
  assert.ok(
    report.pauses > 0 && report.lockDrops > 0 && report.terminations > 0 && report.hugeBodies > 0,
    `every fault class was injected: ${JSON.stringify(report)}`,
  );
  assert.ok(
    Object.values(report.batchFaults).every((n) => n > 0),
    `every batch fault was injected: ${JSON.stringify(report.batchFaults)}`,
  );
  assert.deepEqual(report.violations, [], `seed ${seed}: ${report.violations.length} invariant violations:\n${report.violations.join('\n')}`);
});
