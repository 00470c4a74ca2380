// `demo`'s own writes to its sandbox database, and what one of its ticks achieved. Starting the simulator stays in
// the command (only commands start it).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { listActiveSessions, releaseAllLeases } from '../../db/repositories/sessions.ts';
import type { TickOutcome } from '../../engine/runtime.ts';
import { decisionNote } from '../../engine/decision-record.ts';
import { endSession } from '../../session/end.ts';

/** Sessions that were waiting on operations of the previous demo's simulator: those operations died with it. */
export async function cancelOrphanedOperations(db: Kysely<Database>, now: Date): Promise<number[]> {
  const orphaned = (await listActiveSessions(db)).filter((s) => s.phase === 'training' || s.phase === 'backtesting');
  for (const session of orphaned) {
    await endSession(db, session.id, { outcome: 'cancelled', reason: 'demo --keep: the previous demo simulator, which ran its operation, is gone' }, now);
  }
  return orphaned.map((s) => s.id);
}

/** After a Ctrl-C: the demo's database is its own, and a lease left held would show "Agent: working" for 15 minutes. */
export function releaseDemoLeases(db: Kysely<Database>, now: Date): Promise<number[]> {
  return releaseAllLeases(db, now);
}

export interface DemoTick {
  /** One note per decision, for the tick's line. */
  notes: string[];
  /** Cycles that ended in this tick, and of those the successes and the gate failures. */
  finished: number;
  succeeded: number;
  gateFailures: number;
  /** A session that succeeded in this tick, and one that ended at all: the demo shows one of them afterwards. */
  successSession: number | null;
  endedSession: number | null;
}

export function demoTick(summary: Extract<TickOutcome, { kind: 'ran' }>['summary']): DemoTick {
  const notes = summary.decisions.map((d) => decisionNote(d, summary.sessionsCreated.at(-1)));
  const ended = summary.decisions.filter((d) => d.outcome && d.outcome !== 'achieved');
  return {
    notes,
    finished: ended.length,
    succeeded: ended.filter((d) => d.outcome === 'success').length,
    gateFailures: ended.filter((d) => d.outcome === 'failed_training_gate' || d.outcome === 'failed_backtest_gate').length,
    successSession: ended.find((d) => d.outcome === 'success')?.sessionId ?? null,
    endedSession: ended[0]?.sessionId ?? null,
  };
}
