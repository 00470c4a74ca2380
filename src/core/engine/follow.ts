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
 * Work KTRDR expects to finish soon: any backtest (seconds of compute), a training this pass saw at 95% or more, or
 * one whose pace so far (its progress over the time since its phase began) ends it within `windowMs`. A session with a
 * live invocation lease belongs to that invocation.
 */
export function finishesSoon(session: Pick<Session, 'phase' | 'operationProgress' | 'leaseExpiresAt' | 'phaseStartedAt'>, now: Date, windowMs = 0): boolean {
  if (session.leaseExpiresAt && session.leaseExpiresAt.getTime() > now.getTime()) return false;
  const progress = session.operationProgress;
  if (progress && !activeStatuses.has(progress.status)) return false;
  if (session.phase === 'backtesting') return true;
  if (session.phase !== 'training') return false;
  const percentage = progress?.percentage ?? 0;
  if (percentage >= TRAINING_NEARLY_DONE_PERCENT) return true;
  if (percentage <= 0 || !progress?.seenAt) return false;
  const elapsedMs = Date.parse(progress.seenAt) - session.phaseStartedAt.getTime();
  const remainingMs = (elapsedMs * (100 - percentage)) / percentage - (now.getTime() - Date.parse(progress.seenAt));
  return elapsedMs > 0 && remainingMs <= windowMs;
}

/** Whether a poll found the operation still under way (keep following) rather than at an end or unreadable. */
export function stillUnderWay(observation: { kind: string; status?: string }): boolean {
  return observation.kind === 'status' && activeStatuses.has(observation.status ?? '');
}

export interface FollowSteps<Polled extends { session: Session; observation: { kind: string; status?: string } }> {
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
  /** Told when a followed training ended, so the worker it freed can take a new cycle in this pass. */
  trainingEnded?: () => Promise<void>;
  /** Followed no more this pass: work already at an end, or unreadable, when the pass first polled it. */
  settled: Set<string>;
}

export interface FollowOutcome {
  rounds: number;
  /** Operations that ended while followed, their next step taken in this pass. */
  finished: number;
}

export async function followShortWork<Polled extends { session: Session; observation: { kind: string; status?: string } }>(
  steps: FollowSteps<Polled>,
): Promise<FollowOutcome> {
  let rounds = 0;
  let finished = 0;
  // Also bounded in rounds: a clock that does not move (a test's, a frozen one) must not keep a pass polling forever.
  const maxRounds = Math.ceil(Math.max(0, steps.deadline - steps.now().getTime()) / FOLLOW_POLL_MS) + 1;
  while (rounds < maxRounds) {
    const now = steps.now();
    const remaining = steps.deadline - now.getTime();
    if (remaining <= 0) break;
    const followed = (await steps.activeSessions()).filter((session) => {
      const key = followKey(session);
      return key !== null && !steps.settled.has(key) && finishesSoon(session, now, remaining);
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
    let trainingEnded = false;
    for (const session of followed) {
      const polled = await steps.poll(session);
      if (stillUnderWay(polled.observation)) continue;
      steps.settled.add(followKey(session)!);
      // Unreadable now (KTRDR down, busy, the operation gone): the next pass looks at it as it would have anyway.
      if (polled.observation.kind !== 'status') continue;
      finished += 1;
      await steps.takeNextStep(polled);
      if (session.phase === 'training') trainingEnded = true;
    }
    if (trainingEnded) await steps.trainingEnded?.();
  }
  return { rounds, finished };
}
