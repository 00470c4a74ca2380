// KTRDR's utilization in `status` and the TUI: training workers busy and idle as KTRDR listed them to the last pass
// that read them, sessions running and what limits new cycles now. Read from the last tick's summary, so `status`
// never calls KTRDR itself.
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { readLastCapacity } from '../../db/repositories/ticks.ts';
import { formatPercent, formatUsd, paint, relativeTime } from '../format.ts';

const count = z.int().nonnegative();

export const cycleLimits = ['workers', 'budget', 'cap', 'setting', 'paused', 'ktrdr_unreachable', 'fault_hold'] as const;

export const utilizationSchema = z.object({
  /** When the pass that read this started, and its tick. */
  asOf: z.iso.datetime(),
  tickId: z.string(),
  mode: z.enum(['auto', 'fixed']),
  /** As KTRDR listed them (`GET /workers`); null when the list was not read or could not be. */
  trainingWorkers: z.object({ total: count, busy: count, idle: count }).nullable(),
  /** Busy training workers over all of them; null without a list or with no worker. */
  busyFraction: z.number().min(0).max(1).nullable(),
  workersError: z.string().nullable(),
  activeSessions: count,
  /** The most sessions that pass let be active. */
  maxActive: count,
  newCyclesStarted: count,
  /** What limits new cycles now. */
  limitedBy: z.enum(cycleLimits),
  costPerCycleUsd: z.number().nullable(),
  /** New cycles the rest of today's budget pays for at that cost; null when the budget sets no such bound. */
  affordableCycles: count.nullable(),
});
export type Utilization = z.infer<typeof utilizationSchema>;

/** The capacity part of the last tick that reached it (a tick that stopped before it has none). */
export async function loadUtilization(db: Kysely<Database>): Promise<Utilization | null> {
  const last = await readLastCapacity(db);
  if (!last) return null;
  const { capacity } = last;
  const workers = capacity.trainingWorkers;
  const parsed = utilizationSchema.safeParse({
    asOf: last.startedAt.toISOString(),
    tickId: last.tickId,
    mode: capacity.mode,
    trainingWorkers: workers,
    busyFraction: workers && workers.total > 0 ? workers.busy / workers.total : null,
    workersError: capacity.workersError,
    activeSessions: capacity.activeSessions,
    maxActive: capacity.maxActive,
    newCyclesStarted: capacity.newCyclesStarted,
    limitedBy: capacity.limitedBy,
    costPerCycleUsd: capacity.costPerCycleUsd,
    affordableCycles: capacity.affordableCycles,
  });
  // A summary written by another version of the agent is not shown rather than shown wrong.
  return parsed.success ? parsed.data : null;
}

/** "3 busy, 1 idle of 4 (75% busy)", or why there is no figure. */
export function describeWorkers(utilization: Utilization): string {
  const workers = utilization.trainingWorkers;
  if (!workers) return utilization.workersError ? `unknown (GET /workers failed: ${utilization.workersError})` : 'unknown (not read)';
  if (workers.total === 0) return 'none registered with KTRDR';
  return `${workers.busy} busy, ${workers.idle} idle of ${workers.total} (${formatPercent(utilization.busyFraction)} busy)`;
}

/** What limits new cycles now, in the operator's words. */
export function describeLimit(utilization: Utilization): string {
  switch (utilization.limitedBy) {
    case 'workers':
      return utilization.trainingWorkers?.idle ? 'idle training workers (one new cycle per idle worker)' : 'no idle training worker';
    case 'budget':
      return utilization.affordableCycles !== null && utilization.costPerCycleUsd !== null
        ? `the budget (pays for ${utilization.affordableCycles} more cycle(s) at ${formatUsd(utilization.costPerCycleUsd, 4)} per cycle)`
        : 'the budget (spent for today)';
    case 'cap':
      return `AGENT_MAX_SESSIONS_CAP (${utilization.maxActive})`;
    case 'setting':
      return utilization.mode === 'auto'
        ? `the fallback of ${utilization.maxActive} session(s): KTRDR's worker list could not be read`
        : `AGENT_MAX_CONCURRENT_SESSIONS (${utilization.maxActive})`;
    case 'paused':
      return 'paused (ktrdr-agent resume)';
    case 'ktrdr_unreachable':
      return 'KTRDR unreachable';
    case 'fault_hold':
      return 'a fault hold (see the banner)';
  }
}

export function utilizationLines(utilization: Utilization | null, activeTotal: number, now: Date, color: boolean): string[] {
  const lines = [paint('=== KTRDR Utilization ===', 'bold', color)];
  if (!utilization) return [...lines, "Not known yet: the next tick reads KTRDR's workers."];
  const mode = utilization.mode === 'auto' ? `auto, at most ${utilization.maxActive} now` : `at most ${utilization.maxActive}`;
  lines.push(
    `Training workers: ${describeWorkers(utilization)}, as of ${relativeTime(new Date(utilization.asOf), now)}`,
    `Sessions: ${activeTotal} active (${mode})`,
    `New cycles: limited by ${describeLimit(utilization)}`,
  );
  return lines;
}

const shortLimits: Record<Utilization['limitedBy'], (utilization: Utilization) => string> = {
  workers: (u) => (u.trainingWorkers?.idle ? 'idle workers' : 'no idle worker'),
  budget: () => 'the budget',
  cap: (u) => `the cap (${u.maxActive})`,
  setting: (u) => (u.mode === 'auto' ? 'fallback (worker list unreadable)' : `the setting (${u.maxActive})`),
  paused: () => 'paused',
  ktrdr_unreachable: () => 'KTRDR unreachable',
  fault_hold: () => 'a fault hold',
};

/** One line for the TUI, short enough for 100 columns. */
export function utilizationSummary(utilization: Utilization | null, activeTotal: number): string {
  if (!utilization) return 'KTRDR workers: not known yet';
  const workers = utilization.trainingWorkers;
  const figure = workers ? `${workers.busy}/${workers.total} training workers busy` : 'training workers unknown';
  return `${figure} · ${activeTotal} session(s) · new cycles limited by ${shortLimits[utilization.limitedBy](utilization)}`;
}
