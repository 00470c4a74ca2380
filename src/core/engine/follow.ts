// A pass follows short work to its end: an operation KTRDR expects to finish soon is polled until it ends (within
// AGENT_PASS_FOLLOW_SECONDS of the pass's start) so its next step is taken in the same pass, not five minutes later.
// Waiting spends no tokens: only KTRDR is asked, and an invocation happens only as the step a later pass would take.
import { phaseOperationId } from '../session/model.ts';
import type { Session } from '../db/repositories/sessions.ts';

/** A training this far along ends within about a minute of the ones we run (60–75 s for 50 epochs on the real KTRDR). */
export const TRAINING_NEARLY_DONE_PERCENT = 95;

/**
 * Between polls of followed work. KTRDR asks its worker only when polled, behind a 1 s cache (CONTRACT §2.3,
 * OPERATIONS_CACHE_TTL), so a shorter interval learns nothing sooner.
 */
export const FOLLOW_POLL_MS = 2_000;

const activeStatuses = new Set(['pending', 'running', 'resuming']);

/** The key of one session's current operation: a session followed to its step is not followed again in that step. */
export function followKey(session: Pick<Session, 'id' | 'phase' | 'trainingOperationId' | 'backtestOperationId'>): string | null {
  const operationId = phaseOperationId(session);
  return operationId === null ? null : `${session.id}:${operationId}`;
}

/**
 * Percentage points between two readings before their rate is trusted: KTRDR reports progress by epoch (2 points an
 * epoch at 50 epochs), so two readings a poll apart may straddle one epoch's end and say nothing of the pace.
 */
export const PACE_MIN_POINTS = 10;

/** A training's progress as this pass's own polls saw it: the first and the latest reading with a percentage. */
export interface TrainingPace {
  first: { percentage: number; at: number };
  last: { percentage: number; at: number };
}

/** Notes a poll's percentage in a training's pace. */
export function notePace(pace: TrainingPace | undefined, percentage: number, at: number): TrainingPace {
  const reading = { percentage, at };
  // The rate is measured from the first reading with progress: time queued or loading data is not training's pace.
  return pace && pace.first.percentage > 0 ? { first: pace.first, last: reading } : { first: reading, last: reading };
}

/** Two readings far enough apart to trust their rate. */
function paceKnown(pace: TrainingPace | undefined): boolean {
  return pace !== undefined && pace.last.at > pace.first.at && pace.last.percentage - pace.first.percentage >= PACE_MIN_POINTS;
}

/**
 * When a training is expected to end (epoch ms), or null when nothing says yet. Two readings of this pass far enough
 * apart give its rate of progress (KTRDR's queue and data loading left out); otherwise the pace since its phase began,
 * from the latest reading (this pass's poll, or the progress the pass recorded).
 */
export function trainingEndEstimate(session: Pick<Session, 'operationProgress' | 'phaseStartedAt'>, pace?: TrainingPace): number | null {
  if (pace && paceKnown(pace)) {
    const perMs = (pace.last.percentage - pace.first.percentage) / (pace.last.at - pace.first.at);
    return pace.last.at + (100 - pace.last.percentage) / perMs;
  }
  const progress = session.operationProgress;
  const percentage = pace?.last.percentage ?? progress?.percentage ?? 0;
  const seenAt = pace?.last.at ?? (progress?.seenAt ? Date.parse(progress.seenAt) : null);
  if (percentage <= 0 || seenAt === null) return null;
  const elapsedMs = seenAt - session.phaseStartedAt.getTime();
  if (elapsedMs <= 0) return null;
  return seenAt + (elapsedMs * (100 - percentage)) / percentage;
}

/**
 * Work KTRDR expects to finish soon: any backtest (seconds of compute), a training this pass saw at 95% or more, or
 * one whose pace ends it within `windowMs`. A training this pass started before following began (its phase began
 * between `probeSince` and `probeUntil`) whose pace nothing says yet is followed too, to learn it: a training that ends
 * inside the window is caught whether it started before this pass or in it. A session with a live invocation lease belongs to that invocation.
 */
export function finishesSoon(
  session: Pick<Session, 'phase' | 'operationProgress' | 'leaseExpiresAt' | 'phaseStartedAt'>,
  now: Date,
  windowMs = 0,
  learn: { pace?: TrainingPace; probeSince?: Date; probeUntil?: Date } = {},
): boolean {
  if (session.leaseExpiresAt && session.leaseExpiresAt.getTime() > now.getTime()) return false;
  const progress = session.operationProgress;
  if (progress && !activeStatuses.has(progress.status)) return false;
  if (session.phase === 'backtesting') return true;
  if (session.phase !== 'training') return false;
  const percentage = learn.pace?.last.percentage ?? progress?.percentage ?? 0;
  if (percentage >= TRAINING_NEARLY_DONE_PERCENT) return true;
  // Started in this pass before following began: the pace since its phase began is mostly KTRDR's queue and data
  // loading, so it is polled until its own readings say how fast it goes. One started while following (a refill) is
  // not: a pass never chains more than one training's end to the next cycle, however short the trainings.
  const started = session.phaseStartedAt.getTime();
  const probed =
    learn.probeSince !== undefined && started >= learn.probeSince.getTime() && started <= (learn.probeUntil?.getTime() ?? Number.POSITIVE_INFINITY);
  if (probed && !paceKnown(learn.pace)) return true;
  const endsAt = trainingEndEstimate(session, learn.pace);
  return endsAt !== null && endsAt - now.getTime() <= windowMs;
}

/** Whether a poll found the operation still under way (keep following) rather than at an end or unreadable. */
export function stillUnderWay(observation: FollowedObservation): boolean {
  return observation.kind === 'status' && activeStatuses.has(observation.status ?? '');
}

/** What a poll of followed work found, as far as following reads it. */
export interface FollowedObservation {
  kind: string;
  status?: string;
  percentage?: number | null;
}

export interface FollowSteps<Polled extends { session: Session; observation: FollowedObservation }> {
  /** When the pass began: a training started since then is polled to learn its pace. */
  passStartedAt: Date;
  /** Epoch ms after which no further poll starts. */
  deadline: number;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** The active sessions as the database holds them now. */
  activeSessions: () => Promise<Session[]>;
  poll: (session: Session) => Promise<Polled>;
  /** Proves the tick lock before the pass acts on what a poll found; throws when it is lost. */
  proveLock: () => Promise<void>;
  /** True when an operator paused the agent since the pass began: following stops, as every change does. */
  paused?: () => Promise<boolean>;
  /** The session's next decision, as the pass would take it on its next run. */
  takeNextStep: (polled: Polled) => Promise<void>;
  /**
   * Told when a followed training ended, so the worker it freed takes a new cycle in this pass (before the ended
   * sessions' next steps), and again after any followed step, which may have ended its session and freed its slot.
   */
  refill?: () => Promise<void>;
  /** Followed no more this pass: work already at an end, or unreadable, when the pass first polled it. */
  settled: Set<string>;
}

export interface FollowOutcome {
  rounds: number;
  /** Operations that ended while followed, their next step taken in this pass. */
  finished: number;
}

export async function followShortWork<Polled extends { session: Session; observation: FollowedObservation }>(
  steps: FollowSteps<Polled>,
): Promise<FollowOutcome> {
  let rounds = 0;
  let finished = 0;
  const paces = new Map<string, TrainingPace>();
  const followingFrom = steps.now();
  // Also bounded in rounds: a clock that does not move (a test's, a frozen one) must not keep a pass polling forever.
  const maxRounds = Math.ceil(Math.max(0, steps.deadline - steps.now().getTime()) / FOLLOW_POLL_MS) + 1;
  while (rounds < maxRounds) {
    const now = steps.now();
    const remaining = steps.deadline - now.getTime();
    if (remaining <= 0) break;
    const followed = (await steps.activeSessions()).filter((session) => {
      const key = followKey(session);
      return (
        key !== null &&
        !steps.settled.has(key) &&
        finishesSoon(session, now, remaining, { pace: paces.get(key), probeSince: steps.passStartedAt, probeUntil: followingFrom })
      );
    });
    if (followed.length === 0) break;
    // The first look is at once (a backtest started this pass may already be done); later ones wait between polls.
    if (rounds > 0) {
      await steps.sleep(Math.min(FOLLOW_POLL_MS, remaining));
      if (steps.now().getTime() >= steps.deadline) break;
    }
    await steps.proveLock();
    if (await steps.paused?.()) break;
    rounds += 1;
    const ended: Polled[] = [];
    for (const session of followed) {
      const polled = await steps.poll(session);
      if (stillUnderWay(polled.observation)) {
        const percentage = polled.observation.percentage;
        if (session.phase === 'training' && typeof percentage === 'number') {
          const key = followKey(session)!;
          paces.set(key, notePace(paces.get(key), percentage, steps.now().getTime()));
        }
        continue;
      }
      steps.settled.add(followKey(session)!);
      // Unreadable now (KTRDR down, busy, the operation gone): the next pass looks at it as it would have anyway.
      if (polled.observation.kind === 'status') ended.push(polled);
    }
    // A training that ended freed a worker: the new cycle that takes it starts first, and the ended sessions' own next
    // steps (a backtest needs no training worker) after it, so the worker does not idle through their invocations.
    if (ended.some((polled) => polled.session.phase === 'training')) await steps.refill?.();
    for (const polled of ended) {
      finished += 1;
      await steps.takeNextStep(polled);
    }
    // A step may have ended its session (a failed gate, an assessment): with a fixed number of sessions, its slot.
    if (ended.length > 0) await steps.refill?.();
  }
  return { rounds, finished };
}
