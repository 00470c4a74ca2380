import { setTimeout as delay } from 'node:timers/promises';
import { markKtrdrDown, markKtrdrReached, readControl, recordKtrdrClock } from '../db/repositories/control.ts';
import { listActiveSessions } from '../db/repositories/sessions.ts';
import { pruneOldRows, retentionCutoff } from '../db/retention.ts';
import { keyFingerprint } from '../kernel/key-fingerprint.ts';
import { listOpenBatches } from '../db/repositories/message-batches.ts';
import type { Designer } from '../agent/designer.ts';
import { invocationHold } from './after-invocation.ts';
import { advanceSession } from './advance-session.ts';
import { capacityReport } from './capacity.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { followKey, followShortWork, stillUnderWay } from './follow.ts';
import { openPassBudget } from './pass-budget.ts';
import { explain, record, type PassContext, type PassEnvironment } from './pass-context.ts';
import { ktrdrHealth, mayFollow, mayStartCycles, noteFault, openLedger, passSummary, type PassSummary } from './pass-ledger.ts';
import { pollSession, type Polled } from './poll-session.ts';
import { readSlots, refillIdleWorkers, searchSymbolsOnce, startNewCycles } from './start-cycles.ts';
import { runValidationLane } from './validation-lane.ts';

export type { PassEnvironment } from './pass-context.ts';
export type { PassSummary } from './pass-ledger.ts';

/** Rows per delete, and deletes per pass, of the retention rule: at most 10,000 rows a pass, in short statements. */
const PASS_PRUNE_BATCH_ROWS = 1000;
const PASS_PRUNE_BATCHES = 10;

/**
 * One trigger pass: poll, decide, act, record. Every state change is its own transaction. The pieces each do one job
 * (poll-session, advance-session, start-cycles, run-invocation, the validation lane, following short work) and note
 * what they did in the pass's ledger (pass-ledger.ts), from which the summary is read.
 */
export class TriggerPass {
  private readonly env: PassEnvironment;

  constructor(env: PassEnvironment) {
    this.env = env;
  }

  async run(): Promise<PassSummary> {
    const { env } = this;
    const { settings } = env.config;
    const db = env.store.db;
    const now = env.now();
    const control = await readControl(db);
    const budget = await openPassBudget({ db, settings, designerKind: env.designerKind, now: env.now });
    const ledger = openLedger(
      invocationHold({
        fault: control.fault,
        designerKind: env.designerKind,
        keyFingerprint: keyFingerprint(settings.ANTHROPIC_API_KEY),
        now,
        backoffMinutes: settings.AGENT_FAULT_BACKOFF_MINUTES,
      }),
      control.paused,
    );
    // Created on first use and kept only once created: a designer that failed to load is tried again.
    let designer: Designer | undefined;
    const context: PassContext = {
      env,
      ledger,
      budget,
      designer: async () => (designer ??= await env.designer()),
      batchWaiting: new Set((await listOpenBatches(db)).map((batch) => batch.sessionId)),
      searchSymbols: searchSymbolsOnce(env.ktrdr),
    };

    if (env.designerKind === 'claude' && settings.ANTHROPIC_API_KEY && (await listOpenBatches(db, { endedSessionsOnly: true })).length > 0) {
      // A cancelled session's batch may still have been processed (and billed): its result settles the reservation.
      await (await context.designer()).settleEndedSessionBatches?.();
      budget.changed();
    }
    const sessions = await env.tracer.span('check_active_session', {}, async (span) => {
      const active = await listActiveSessions(db);
      span.setAttributes({ 'sessions.active': active.length });
      return active;
    });
    explain(context, sessions.length === 0 ? 'Checking for work... no active session.' : `Checking for work... ${sessions.length} active session(s).`);

    const poll = (session: (typeof sessions)[number]) => pollSession({ ktrdr: env.ktrdr, tracer: env.tracer, ledger }, session);
    const polled = await mapWithConcurrency(sessions, settings.AGENT_POLL_CONCURRENCY, poll);
    if (ledger.paused) {
      // Pause stops new cycles, invocations and every change of a session; polling costs nothing and keeps the
      // progress (and the no-progress clocks) true, so running operations are still watched.
      for (const item of polled) await advanceSession(context, item);
      await this.validationLane(context, { startNew: false });
      await record(context, { sessionId: null, trigger: 'paused', action: 'skip', invoked: false, skipReason: 'paused' });
      ledger.capacity = capacityReport(await readSlots(context), { started: 0, paused: true, budgetExceeded: false, ktrdrUnreachable: false, held: false });
      await this.pruneExpired(now);
      return passSummary(ledger, 'paused', await budget.day());
    }
    await refillIdleWorkers(context);
    for (const item of polled) await advanceSession(context, item);
    await startNewCycles(context);
    // After the research: a validation backtest that finds KTRDR busy must not hold back this pass's new cycles.
    // Before following short work, so the validation backtests run while the pass follows. A pause met since the pass
    // began starts none, as a pause before it.
    await this.validationLane(context, { startNew: !ledger.paused });
    await this.followShortWork(context, now, polled, poll);
    const health = ktrdrHealth(ledger);
    if (health.kind === 'down') await markKtrdrDown(db, health.fault, now);
    else if (health.kind === 'reached') await markKtrdrReached(db);
    const clockOffsetMs = env.ktrdr.clockOffsetMs();
    if (clockOffsetMs !== null) await recordKtrdrClock(db, clockOffsetMs, now);
    await this.pruneExpired(now);
    return passSummary(ledger, 'ok', await budget.day());
  }

  /** Promotion backtests, beside the sessions and not in their slots (validation-lane.ts); paused, nothing new starts. */
  private async validationLane(context: PassContext, options: { startNew: boolean }): Promise<void> {
    const { env, ledger } = context;
    ledger.validation = await runValidationLane(
      {
        db: env.store.db,
        settings: env.config.settings,
        ktrdr: env.ktrdr,
        now: env.now,
        ...(env.verifyTickLock ? { verifyTickLock: env.verifyTickLock } : {}),
        explain: (line) => explain(context, line),
        onFault: (fault) => noteFault(ledger, fault, 'backtest'),
      },
      { startNew: options.startNew, ktrdrDown: ledger.ktrdrUnreachable },
    );
  }

  /**
   * Polls work KTRDR expects to finish soon until AGENT_PASS_FOLLOW_SECONDS after the pass started, taking each
   * finished operation's next step now; a KTRDR fault this pass means the next pass looks instead.
   */
  private async followShortWork(context: PassContext, startedAt: Date, polled: Polled[], poll: (session: Polled['session']) => Promise<Polled>): Promise<void> {
    const { env, ledger } = context;
    const seconds = env.config.settings.AGENT_PASS_FOLLOW_SECONDS;
    if (seconds <= 0 || !mayFollow(ledger)) return;
    const settled = new Set(polled.filter((item) => !stillUnderWay(item.observation)).flatMap((item) => followKey(item.session) ?? []));
    const followed = await followShortWork<Polled>({
      passStartedAt: startedAt,
      deadline: startedAt.getTime() + seconds * 1000,
      now: env.now,
      sleep: env.sleep ?? ((ms) => delay(ms)),
      activeSessions: () => listActiveSessions(env.store.db),
      poll,
      proveLock: async () => env.verifyTickLock?.(),
      paused: async () => ledger.paused || (await readControl(env.store.db)).paused,
      takeNextStep: (item) => advanceSession(context, item),
      refill: async () => {
        if (mayStartCycles(ledger)) await startNewCycles(context);
      },
      settled,
    });
    if (followed.rounds > 0)
      explain(context, `Followed short work for ${followed.rounds} poll(s): ${followed.finished} operation(s) ended and went on in this pass.`);
  }

  /**
   * The retention rule (AGENT_RETENTION_DAYS), last in the pass so its own work comes first: a few small batches of
   * trigger and tick rows past the retention; a backlog (a first run on an old database) goes on over later passes.
   */
  private async pruneExpired(now: Date): Promise<void> {
    const days = this.env.config.settings.AGENT_RETENTION_DAYS;
    if (days === 0) return;
    await pruneOldRows(this.env.store.db, { before: retentionCutoff(now, days), batchSize: PASS_PRUNE_BATCH_ROWS, maxBatches: PASS_PRUNE_BATCHES });
  }
}
