// `pause` and `resume`: the operator's switch over automatic triggering, kept in the control row every tick reads.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { clearFault, readControl, setPaused } from '../../db/repositories/control.ts';

export interface PauseResult {
  paused: true;
}

export interface ResumeResult {
  paused: false;
  /** The fault that held invocations back and is lifted now (a refused key, a backoff), or null. */
  clearedFault: { faultClass: string; cause: string; since: string } | null;
}

export async function pauseTriggering(db: Kysely<Database>, now: Date): Promise<PauseResult> {
  await setPaused(db, true, now);
  return { paused: true };
}

/** Clears the pause and a held fault: the next tick invokes the designer again. */
export async function resumeTriggering(db: Kysely<Database>, now: Date): Promise<ResumeResult> {
  const { fault } = await readControl(db);
  await setPaused(db, false, now);
  await clearFault(db, now);
  return { paused: false, clearedFault: fault ? { faultClass: fault.faultClass, cause: fault.cause, since: fault.since.toISOString() } : null };
}
