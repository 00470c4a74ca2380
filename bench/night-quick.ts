// A shorter night for iterating on throughput: `node bench/night-quick.ts --hours=2 --workers=1 --env=AGENT_MAX_CONCURRENT_SESSIONS=auto`.
// One arm (the settings given, else the defaults), the worker counts given, and where the idle worker time went.
import { runNight } from './night.ts';

const arg = (name: string): string[] => process.argv.filter((value) => value.startsWith(`--${name}=`)).map((value) => value.slice(name.length + 3));
const hours = Number(arg('hours')[0] ?? 2);
const workerCounts = (arg('workers')[0] ?? '1').split(',').map(Number);
const seed = Number(arg('seed')[0] ?? 5);
const env = Object.fromEntries(arg('env').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
for (const workers of workerCounts) {
  const night = await runNight({ name: JSON.stringify(env), env }, workers, hours, seed);
  const idle = Object.entries(night.idle)
    .map(([category, workerHours]) => `${category} ${((100 * workerHours) / (workers * hours)).toFixed(1)}%`)
    .join(', ');
  console.log(
    `${workers} worker(s) ${night.arm}: ${night.cyclesFinished} cycles, ${(100 * night.utilization).toFixed(1)}% busy, wait median ${night.medianWaitSeconds.toFixed(0)} s mean ${night.meanWaitSeconds.toFixed(0)} s, $${night.usdPerCycle.toFixed(4)}/cycle, $${night.spentUsd.toFixed(2)} spent, budget bound at ${night.budgetBoundAtHours?.toFixed(1) ?? '-'} h (${(100 * night.utilizationWhileBudgetLasted).toFixed(1)}% busy until then); idle: ${idle} (${night.realSeconds.toFixed(0)} s real)`,
  );
}
