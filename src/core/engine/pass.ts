import { setTimeout as delay } from 'node:timers/promises';
import type { AgentConfig } from '../config/load.ts';
import type { Store } from '../db/connect.ts';
import { clearFault, holdFault, markKtrdrDown, markKtrdrReached, readControl, recordTrigger, type HeldFault } from '../db/repositories/activity.ts';
import { recordKtrdrClock } from '../db/repositories/ktrdr-clock.ts';
import {
  effectiveDailyLimit,
  ensureBudgetDay,
  expireStaleReservations,
  incrementBudgetCounters,
  findBudgetDay,
  type BudgetDay,
} from '../db/repositories/budget.ts';
import { dailyLimitInForce, remainingUsd } from '../budget/daily-limit.ts';
import { createSessionWithinCap } from '../db/repositories/cycles.ts';
import { findSession, listActiveSessions, takeLease, updateSession, type Session, type SessionChanges } from '../db/repositories/sessions.ts';
import { phaseOperationId, type GateEvaluation, type SessionOutcome, type InvocationPurpose, type TriggerReason } from '../session/model.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { KtrdrError, ktrdrFaultOf } from '../ktrdr/errors.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { ownershipMismatch } from '../ktrdr/ownership.ts';
import { priorRunOf, restartAfresh, resumeAndVerify, sessionClaim } from './recovery.ts';
import { flattenBacktestResult, flattenTrainingOperation, operationProgress, type BacktestResult, type TrainingResult } from '../ktrdr/results.ts';
import type { Tracer } from '../kernel/tracer.ts';
import { endSession } from '../session/end.ts';
import { assignSearchDirective } from '../agent/search-directive.ts';
import { listOpenBatches } from '../agent/message-batch.ts';
import { quotaShortage } from '../agent/quota.ts';
import { deflatedSharpeInFamily } from '../db/repositories/experiments.ts';
import type { Designer, DesignerKind, InvocationReport } from '../agent/designer.ts';
import { decide, ktrdrSkipReason, type Decision, type OperationObservation } from './decide.ts';
import { canInvoke, decisionInputFor, whilePaused } from './decision-input.ts';
import { explainDecision, type DecisionRecord, type ExplainFacts } from './decision-record.ts';
import { afterRecovery, firstRecoveryStep, type RecoveryDecision, type RecoveryEvent } from './after-recovery.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';
import { keyFingerprint } from '../kernel/key-fingerprint.ts';
import { checkStrategiesDir } from '../strategy/dir-health.ts';
import {
  afterInvocation,
  holdsInvocations,
  meansKtrdrDown,
  provesTheWorldWorks,
  invocationHold,
  faultRetryAt,
  stopsUntilReconfigured,
  type InvocationHold,
} from './after-invocation.ts';
import { locate } from './tick-location.ts';
import { runValidationLane, type ValidationLaneSummary } from './validation-lane.ts';
import { pruneOldRows, retentionCutoff } from '../db/repositories/retention.ts';

/** Rows per delete, and deletes per pass, of the retention rule: at most 10,000 rows a pass, in short statements. */
const PASS_PRUNE_BATCH_ROWS = 1000;
const PASS_PRUNE_BATCHES = 10;
import { followKey, followShortWork, stillUnderWay } from './follow.ts';
import {
  afterNewCycles,
  capacityReport,
  readResearchSlots,
  refillsFirst,
  stopsTrainingWork,
  workersWarning,
  type CapacityReport,
  type FaultedWork,
  type SlotsReading,
} from './capacity.ts';

export interface PassEnvironment {
  store: Store;
  config: AgentConfig;
  ktrdr: KtrdrClient;
  /** Created only when an invocation is due, so a pass with nothing to decide loads no LLM code. */
  designer: () => Promise<Designer>;
  designerKind: DesignerKind;
  now: () => Date;
  tickId: string;
  tracer: Tracer;
  /** Human explanation of what the pass checks and does (`trigger`); silent for `tick`. */
  explain?: (line: string) => void;
  /** Told of every decision as it is recorded (the tick logs one line for each). */
  onDecision?: (decision: DecisionRecord) => void;
  /** Proves the tick lock is still held (a round trip); throws when it is not. Called before any money is spent. */
  verifyTickLock?: () => Promise<void>;
  /** A warning for the operator's log (the tick writes it as a JSON line). */
  warn?: (event: string, fields: Record<string, unknown>) => void;
  /** Waits between polls of followed work; the bench passes one that moves its simulated clock. */
  sleep?: (ms: number) => Promise<void>;
}

export interface PassSummary {
  status: 'ok' | 'paused';
  decisions: DecisionRecord[];
  sessionsCreated: number[];
  budget: { date: string; limitUsd: number; usedUsd: number; remainingUsd: number; invocations: number };
  ktrdrUnreachable: boolean;
  budgetExceeded: boolean;
  /** Every fault of the world met this pass (none is a research result). */
  faults: InfrastructureFault[];
  /** Why invocations were held back at the end of the pass, if they were. */
  invocationsHeld: { reason: 'anthropic_auth' | 'fault_backoff'; fault: InfrastructureFault; since: string; retryAt: string | null } | null;
  /** What the validation lane did this pass (promotion backtests beside the sessions). */
  validation?: ValidationLaneSummary;
  /** KTRDR's training workers and what limits new cycles, as this pass left them (null when it never got that far). */
  capacity: CapacityReport | null;
}

interface Polled {
  session: Session;
  observation: OperationObservation;
  training: TrainingResult | null;
  backtest: BacktestResult | null;
}

function isNotFound(error: unknown): boolean {
  return error instanceof KtrdrError && error.status === 404;
}

function outputFormat(session: Session): string | null {
  const decisions = session.strategyConfig?.decisions as { output_format?: unknown } | undefined;
  return typeof decisions?.output_format === 'string' ? decisions.output_format : null;
}

function epochsConfigured(session: Session): number | null {
  const training = session.strategyConfig?.training as { epochs?: unknown } | undefined;
  return typeof training?.epochs === 'number' ? training.epochs : null;
}

/** One trigger pass: poll, decide, act, record. Every state change is its own transaction. */
export class TriggerPass {
  private readonly env: PassEnvironment;
  private readonly decisions: DecisionRecord[] = [];
  private readonly created: number[] = [];
  private ktrdrUnreachable = false;
  private budgetExceeded = false;
  private designerInstance: Designer | null = null;
  private cachedDay: BudgetDay | null = null;
  private readonly faults: InfrastructureFault[] = [];
  private hold: InvocationHold = { held: false };
  private faultThisPass = false;
  private ktrdrReached = false;
  /** An operator paused the agent during this pass: nothing more is invoked or started. */
  private pausedMidPass = false;
  /** Sessions with an open Message Batch, read once per pass. */
  private batchWaiting = new Set<number>();
  private validation: ValidationLaneSummary | undefined;
  private capacity: CapacityReport | null = null;

  constructor(env: PassEnvironment) {
    this.env = env;
  }

  private get db() {
    return this.env.store.db;
  }

  private get settings() {
    return this.env.config.settings;
  }

  private explain(line: string): void {
    this.env.explain?.(line);
  }

  /** Tells `trigger` what a decision was, in the words of the one function that phrases decisions. */
  private explainRecord(record: DecisionRecord, facts?: ExplainFacts): void {
    for (const line of explainDecision(record, facts)) this.explain(line);
  }

  /** Today's budget row, read once and again only after something spent or counted (an invocation, a new cycle). */
  private async budgetDay(): Promise<BudgetDay> {
    const date = utcDay(this.env.now());
    if (this.cachedDay?.date === date) return this.cachedDay;
    const day =
      (await findBudgetDay(this.db, date)) ?? (await ensureBudgetDay(this.db, date, await effectiveDailyLimit(this.db, this.settings.AGENT_BUDGET_DAILY_USD)));
    this.cachedDay = day;
    return day;
  }

  private budgetChanged(): void {
    this.cachedDay = null;
  }

  private canInvoke(day: BudgetDay): boolean {
    return canInvoke({ designerKind: this.env.designerKind, remainingUsd: remainingUsd(day), settings: this.settings });
  }

  /** What an invocation came to, for the log and the summary (its trigger row was written when it started). */
  private noteResult(sessionId: number, trigger: TriggerReason, outcome: NonNullable<DecisionRecord['outcome']>, detail: string): void {
    const decision: DecisionRecord = { sessionId, trigger, action: 'invocation_result', invoked: false, skipReason: null, outcome, detail };
    this.decisions.push(decision);
    this.env.onDecision?.(decision);
  }

  /** Records a decision (the summary, the log, the trigger row) and explains it to `trigger`. */
  private async record(input: DecisionRecord & { context?: unknown }, facts?: ExplainFacts): Promise<void> {
    const day = await this.budgetDay();
    const { context, ...decision } = input;
    this.explainRecord(decision, facts);
    this.decisions.push(decision);
    this.env.onDecision?.(decision);
    const faultContext = input.fault ? { faultClass: input.fault.faultClass, cause: input.fault.cause } : {};
    const detailContext = input.detail ? { detail: input.detail } : {};
    await recordTrigger(this.db, {
      tickId: this.env.tickId,
      reason: input.trigger,
      sessionId: input.sessionId,
      context: context ?? (input.fault || input.detail ? { ...faultContext, ...detailContext } : null),
      agentInvoked: input.invoked,
      skipReason: input.skipReason,
      budgetUsedTodayUsd: day.usedUsd + day.reservedUsd,
      budgetRemainingUsd: remainingUsd(day),
      at: this.env.now(),
    });
  }

  async run(): Promise<PassSummary> {
    const { tracer } = this.env;
    const now = this.env.now();
    const control = await readControl(this.db);
    this.cachedDay = await ensureBudgetDay(this.db, utcDay(now), dailyLimitInForce(control.budgetLimitUsd, this.settings.AGENT_BUDGET_DAILY_USD));
    const expired = await expireStaleReservations(this.db, new Date(now.getTime() - this.settings.AGENT_LEASE_SECONDS * 1000));
    if (expired > 0) this.budgetChanged();

    this.hold = invocationHold({
      fault: control.fault,
      designerKind: this.env.designerKind,
      keyFingerprint: keyFingerprint(this.settings.ANTHROPIC_API_KEY),
      now,
      backoffMinutes: this.settings.AGENT_FAULT_BACKOFF_MINUTES,
    });

    const openBatches = await listOpenBatches(this.db);
    this.batchWaiting = new Set(openBatches.map((batch) => batch.sessionId));
    if (this.env.designerKind === 'claude' && this.settings.ANTHROPIC_API_KEY && (await listOpenBatches(this.db, { endedSessionsOnly: true })).length > 0) {
      // A cancelled session's batch may still have been processed (and billed): its result settles the reservation.
      this.designerInstance ??= await this.env.designer();
      await this.designerInstance.settleEndedSessionBatches?.();
      this.budgetChanged();
    }
    const sessions = await tracer.span('check_active_session', {}, async (span) => {
      const active = await listActiveSessions(this.db);
      span.setAttributes({ 'sessions.active': active.length });
      return active;
    });
    this.explain(sessions.length === 0 ? 'Checking for work... no active session.' : `Checking for work... ${sessions.length} active session(s).`);

    const polled = await mapWithConcurrency(sessions, this.settings.AGENT_POLL_CONCURRENCY, (session) => this.poll(session));
    if (control.paused) {
      // Pause stops new cycles, invocations and every change of a session; polling costs nothing and keeps the
      // progress (and the no-progress clocks) true, so running operations are still watched.
      for (const item of polled) await this.advanceLocated(item, { pollOnly: true });
      await this.validationLane({ startNew: false });
      await this.record({ sessionId: null, trigger: 'paused', action: 'skip', invoked: false, skipReason: 'paused' });
      this.capacity = capacityReport(await this.readSlots(), { started: 0, paused: true, budgetExceeded: false, ktrdrUnreachable: false, held: false });
      await this.pruneExpired(now);
      return this.summary('paused');
    }
    await this.refillIdleWorkers();
    for (const item of polled) await this.advanceLocated(item);
    await this.startNewCycles();
    // After the research: a validation backtest that finds KTRDR busy must not hold back this pass's new cycles.
    // Before following short work, so the validation backtests run while the pass follows.
    await this.validationLane({ startNew: true });
    await this.followShortWork(now, polled);
    const ktrdrFault = this.faults.find((fault) => meansKtrdrDown(fault.faultClass));
    if (ktrdrFault) await markKtrdrDown(this.db, ktrdrFault, now);
    else if (this.ktrdrReached) await markKtrdrReached(this.db);
    const clockOffsetMs = this.env.ktrdr.clockOffsetMs();
    if (clockOffsetMs !== null) await recordKtrdrClock(this.db, clockOffsetMs, now);
    await this.pruneExpired(now);
    return this.summary('ok');
  }

  /** Promotion backtests, beside the sessions and not in their slots (validation-lane.ts); paused, nothing new starts. */
  private async validationLane(options: { startNew: boolean }): Promise<void> {
    this.validation = await runValidationLane(
      {
        db: this.db,
        settings: this.settings,
        ktrdr: this.env.ktrdr,
        now: this.env.now,
        ...(this.env.verifyTickLock ? { verifyTickLock: this.env.verifyTickLock } : {}),
        explain: (line) => this.explain(line),
        onFault: (fault) => this.metFault(fault, 'backtest'),
      },
      { startNew: options.startNew, ktrdrDown: this.ktrdrUnreachable },
    );
  }

  /**
   * The retention rule (AGENT_RETENTION_DAYS), last in the pass so its own work comes first: a few small batches of
   * trigger and tick rows past the retention; a backlog (a first run on an old database) goes on over later passes.
   */
  private async pruneExpired(now: Date): Promise<void> {
    const days = this.settings.AGENT_RETENTION_DAYS;
    if (days === 0) return;
    await pruneOldRows(this.db, { before: retentionCutoff(now, days), batchSize: PASS_PRUNE_BATCH_ROWS, maxBatches: PASS_PRUNE_BATCHES });
  }

  private summary(status: PassSummary['status']): Promise<PassSummary> {
    return this.budgetDay().then((day) => ({
      status,
      decisions: this.decisions,
      sessionsCreated: this.created,
      budget: { date: day.date, limitUsd: day.limitUsd, usedUsd: day.usedUsd, remainingUsd: remainingUsd(day), invocations: day.invocations },
      ktrdrUnreachable: this.ktrdrUnreachable,
      budgetExceeded: this.budgetExceeded,
      faults: this.faults,
      ...(this.validation ? { validation: this.validation } : {}),
      capacity: this.capacity,
      invocationsHeld: this.hold.held
        ? {
            reason: this.hold.skipReason,
            fault: { faultClass: this.hold.fault.faultClass, cause: this.hold.fault.cause },
            since: this.hold.fault.since.toISOString(),
            retryAt: this.hold.skipReason === 'fault_backoff' ? this.hold.retryAt.toISOString() : null,
          }
        : null,
    }));
  }

  private async poll(session: Session): Promise<Polled> {
    const operationId = phaseOperationId(session);
    if (!operationId) return { session, observation: { kind: 'none' }, training: null, backtest: null };
    return this.env.tracer.span('check_operation_status', { 'trigger.session_id': session.id, 'ktrdr.operation_id': operationId }, async (span) => {
      try {
        const operation = await this.env.ktrdr.getOperation(operationId);
        this.ktrdrReached = true;
        const progress = operationProgress(operation);
        span.setAttributes({ 'ktrdr.operation_status': operation.status });
        const claim = sessionClaim(session);
        const mismatch = claim ? ownershipMismatch(operation, claim, this.env.ktrdr.clockOffsetMs()) : null;
        if (mismatch) return { session, observation: { kind: 'foreign', operationId, reason: mismatch }, training: null, backtest: null };
        const completed = operation.status === 'completed';
        return {
          session,
          observation: {
            kind: 'status',
            status: operation.status,
            percentage: progress.percentage,
            currentStep: progress.currentStep,
            errorMessage: operation.error_message ?? null,
          },
          training:
            completed && session.phase === 'training'
              ? flattenTrainingOperation(operation, {
                  epochsConfigured: epochsConfigured(session),
                  outputFormat: outputFormat(session),
                  priorRun: priorRunOf(session),
                })
              : null,
          backtest: completed && session.phase === 'backtesting' ? flattenBacktestResult(operation.result_summary) : null,
        };
      } catch (error) {
        if (isNotFound(error)) this.ktrdrReached = true;
        if (isNotFound(error)) return { session, observation: { kind: 'not_found' }, training: null, backtest: null };
        // Any other KTRDR failure (down, 429, a malformed answer) leaves this session as it is until the next pass;
        // it must not stop the pass for the other sessions.
        if (error instanceof KtrdrError) {
          span.recordError(error);
          const fault = ktrdrFaultOf(error);
          return { session, observation: { kind: 'unreachable', error: fault.cause, faultClass: fault.faultClass }, training: null, backtest: null };
        }
        throw error;
      }
    });
  }

  private async decideFor(item: Polled): Promise<Decision> {
    const day = await this.budgetDay();
    const { session } = item;
    return decide(
      decisionInputFor({
        session,
        observation: item.observation,
        trainingResult: item.training,
        backtestResult: item.backtest && (await this.withDeflatedSharpe(session, item.backtest)),
        waitingForBatch: this.batchWaiting.has(session.id),
        canInvoke: this.canInvoke(day),
        now: this.env.now(),
        settings: this.settings,
      }),
    );
  }

  /** The backtest with its deflated Sharpe among its family's trials, computed only when the DSR gate is on. */
  private async withDeflatedSharpe(session: Session, backtest: BacktestResult): Promise<BacktestResult & { deflatedSharpe?: number | null }> {
    if (this.settings.GATE_BACKTEST_MIN_DSR === undefined) return backtest;
    const params = session.backtestParams;
    const dsr = await deflatedSharpeInFamily(this.db, {
      symbol: params?.symbol ?? null,
      timeframe: params?.timeframe ?? null,
      sharpe: backtest.sharpe,
      bars: backtest.bars,
      startDate: params?.startDate ?? null,
      endDate: params?.endDate ?? null,
    });
    return { ...backtest, deflatedSharpe: dsr?.dsr ?? null };
  }

  /** advance(), with its session noted on an error that escapes it: its own writes sit in no span that would say so. */
  private async advanceLocated(item: Polled, options: { pollOnly?: boolean } = {}): Promise<void> {
    try {
      await this.advance(item, options);
    } catch (error) {
      locate(error, { stage: 'pass', step: 'advance_session', sessionId: item.session.id });
      throw error;
    }
  }

  private async advance(item: Polled, options: { pollOnly?: boolean } = {}): Promise<void> {
    const { session } = item;
    const decided = await this.decideFor(item);
    const decision: Decision = options.pollOnly ? whilePaused(decided) : decided;
    const now = this.env.now();
    const base = { sessionId: session.id, trigger: decision.trigger, action: decision.action };
    const facts: ExplainFacts = { phase: session.phase };
    switch (decision.action) {
      case 'skip': {
        if (decision.skipReason === 'budget_exceeded') this.budgetExceeded = true;
        const fault =
          (decision.skipReason === 'ktrdr_unreachable' || decision.skipReason === 'ktrdr_busy') && item.observation.kind === 'unreachable'
            ? this.metFault({ faultClass: item.observation.faultClass ?? 'ktrdr_unreachable', cause: item.observation.error })
            : undefined;
        await this.record({ ...base, invoked: false, skipReason: decision.skipReason, ...(fault ? { fault } : {}) }, facts);
        return;
      }
      case 'record_progress': {
        await updateSession(
          this.db,
          session.id,
          {
            operationProgress: { ...decision.progress, seenAt: now.toISOString() },
            ...(decision.changed ? { progressChangedAt: now } : {}),
          },
          now,
        );
        await this.record(
          { ...base, invoked: false, skipReason: 'operation_still_running', detail: decision.progress.currentStep ?? undefined },
          { ...facts, progress: decision.progress },
        );
        return;
      }
      case 'resume_operation':
      case 'restart_operation':
        await this.recover(session, decision);
        return;
      case 'fail': {
        if (decision.cancelOperationId) {
          await this.env.ktrdr.cancelOperation(decision.cancelOperationId, { reason: decision.reason }).catch(() => undefined);
        }
        await this.gateSpan(decision.gate);
        await this.fail(session, {
          trigger: decision.trigger,
          outcome: decision.outcome,
          reason: decision.reason,
          gate: decision.gate,
          trainingResults: item.training,
          backtestResults: item.backtest,
        });
        return;
      }
      case 'enter_assessing': {
        await this.gateSpan(decision.gate);
        const changes: SessionChanges = { backtestResults: item.backtest, backtestGate: decision.gate, phase: 'assessing' };
        if (!decision.invoke) {
          await updateSession(this.db, session.id, changes, now);
          this.budgetExceeded = true;
          await this.record({ ...base, invoked: false, skipReason: 'budget_exceeded' });
          return;
        }
        this.explainRecord({ ...base, invoked: false, skipReason: null });
        if (this.hold.held) {
          await updateSession(this.db, session.id, changes, now);
          await this.recordHold(session.id, 'backtest_completed');
          return;
        }
        await this.invoke(session, 'assess', 'backtest_completed', false, changes);
        return;
      }
      case 'invoke': {
        await this.gateSpan(decision.gate);
        const changes: SessionChanges =
          decision.purpose === 'backtest' && item.training ? { trainingResults: item.training, ...(decision.gate ? { trainingGate: decision.gate } : {}) } : {};
        if (this.hold.held) {
          await this.recordHold(session.id, decision.trigger);
          return;
        }
        if (decision.purpose === 'design' && (await this.strategiesDirFaulted(session.id, decision.trigger))) return;
        await this.invoke(session, decision.purpose, decision.trigger, decision.retry, changes);
        return;
      }
    }
  }

  /**
   * A resume (a failure a resume can fix) or a fresh start (no progress, or a fixable failure with no checkpoint, as
   * after KTRDR's orphan detector failed a training whose backend restarted); either is checked to be this session's.
   * What each step came to is afterRecovery()'s to say; this carries it out.
   */
  private async recover(session: Session, decision: RecoveryDecision): Promise<void> {
    const base = { sessionId: session.id, trigger: decision.trigger, action: decision.action };
    const now = this.env.now();
    // A resume or a fresh start changes KTRDR before any write of ours could notice a lost lock: prove it first, as
    // before an invocation, so two passes never restart one operation twice.
    await this.env.verifyTickLock?.();
    let step = firstRecoveryStep(decision);
    // At most two steps: a resume that finds no checkpoint is followed by a fresh start.
    for (;;) {
      const event: RecoveryEvent = await this.recoveryStep(session, decision, step).catch((error: unknown) => ({
        step: 'threw' as const,
        restartReason: step.step === 'restart' ? step.reason : null,
        error,
      }));
      const next = afterRecovery({ decision, session, now, event });
      const recovery = {
        operationId: decision.operationId,
        failure: decision.action === 'resume_operation' ? (decision.errorMessage ?? 'no message') : '',
        resumedAtEpoch: next.kind === 'resumed' ? next.resumedAtEpoch : null,
        reason: next.kind === 'restarted' ? next.reason : '',
        restartedAs: next.kind === 'restarted' ? next.operationId : '',
      };
      switch (next.kind) {
        case 'restart':
          step = { step: 'restart', reason: next.reason };
          continue;
        case 'resumed':
          await updateSession(this.db, session.id, next.changes, now);
          await this.record({ ...base, invoked: false, skipReason: 'operation_resumed', detail: next.detail }, { recovery });
          return;
        case 'restarted':
          await updateSession(this.db, session.id, next.changes, now);
          await this.record({ ...base, action: 'restart_operation', invoked: false, skipReason: 'operation_restarted', detail: next.detail }, { recovery });
          return;
        case 'wait':
          await this.record({ ...base, invoked: false, skipReason: ktrdrSkipReason(next.fault.faultClass), fault: this.metFault(next.fault) });
          return;
        case 'fail':
          await this.fail(session, { trigger: decision.trigger, outcome: next.outcome, reason: next.reason });
          return;
      }
    }
  }

  private async recoveryStep(session: Session, decision: RecoveryDecision, step: ReturnType<typeof firstRecoveryStep>): Promise<RecoveryEvent> {
    if (step.step === 'restart') {
      return { step: 'restart', reason: step.reason, result: await restartAfresh(this.db, this.env.ktrdr, session, decision.operationId, step.reason) };
    }
    const result = await resumeAndVerify(this.env.ktrdr, session, decision.operationId).catch((error: unknown) => {
      if (error instanceof KtrdrError && error.isNotFound) return null;
      throw error;
    });
    return { step: 'resume', result };
  }

  /** An operator paused the agent after this pass began: it invokes and starts nothing more (recorded once per session). */
  private async pausedSince(sessionId: number | null, trigger: TriggerReason): Promise<boolean> {
    if (!this.pausedMidPass && !(await readControl(this.db)).paused) return false;
    this.pausedMidPass = true;
    await this.record({ sessionId, trigger, action: 'skip', invoked: false, skipReason: 'paused' });
    return true;
  }

  /** Notes a fault met this pass (for the summary and the exit code) and returns it. */
  private metFault(fault: InfrastructureFault, work: FaultedWork = 'any'): InfrastructureFault {
    this.faults.push(fault);
    if (stopsTrainingWork(fault, work)) this.faultThisPass = true;
    if (meansKtrdrDown(fault.faultClass)) this.ktrdrUnreachable = true;
    return fault;
  }

  private async recordHold(sessionId: number | null, trigger: TriggerReason): Promise<void> {
    if (!this.hold.held) return;
    const { fault } = this.hold;
    const detail =
      this.hold.skipReason === 'anthropic_auth'
        ? 'invocations are stopped until ANTHROPIC_API_KEY changes or an operator runs `ktrdr-agent resume`'
        : `retrying after ${this.hold.retryAt.toISOString()} (fault ${fault.streak} in a row)`;
    await this.record({
      sessionId,
      trigger,
      action: 'skip',
      invoked: false,
      skipReason: this.hold.skipReason,
      fault: { faultClass: fault.faultClass, cause: fault.cause },
      detail,
    });
  }

  /** The strategies directory must take a file before money is spent on a design; no session is created or failed. */
  private async strategiesDirFaulted(sessionId: number | null, trigger: TriggerReason): Promise<boolean> {
    const fault = await checkStrategiesDir(this.env.config.strategiesDir);
    if (!fault) return false;
    this.metFault(fault);
    await this.record({ sessionId, trigger, action: 'skip', invoked: false, skipReason: 'infrastructure_fault', fault });
    return true;
  }

  /**
   * The last answer's `anthropic-ratelimit-*` headers said the quota cannot cover one call before its reset: the pass
   * skips the invocation (a recorded fault, not a failure; nothing is sent, nothing counted against the session).
   */
  private async quotaHeld(sessionId: number | null, trigger: TriggerReason): Promise<boolean> {
    if (this.env.designerKind !== 'claude') return false;
    const shortage = await quotaShortage(this.db, this.env.now());
    if (shortage === null) return false;
    const fault = this.metFault({ faultClass: 'anthropic_rate_limited', cause: shortage });
    await this.record({ sessionId, trigger, action: 'skip', invoked: false, skipReason: 'infrastructure_fault', fault });
    return true;
  }

  /** Holds a fault that keeps invocations back on later passes (and on the rest of this one). */
  private async holdBack(fault: InfrastructureFault, previous: HeldFault | null): Promise<void> {
    if (!holdsInvocations(fault.faultClass)) return;
    const now = this.env.now();
    const fingerprint = stopsUntilReconfigured(fault.faultClass) ? keyFingerprint(this.settings.ANTHROPIC_API_KEY) : null;
    await holdFault(this.db, { ...fault, keyFingerprint: fingerprint }, now);
    const sameStreak = previous?.faultClass === fault.faultClass;
    const held: HeldFault = {
      ...fault,
      since: sameStreak ? previous.since : now,
      lastAt: now,
      streak: sameStreak ? previous.streak + 1 : 1,
      keyFingerprint: fingerprint,
    };
    this.hold = stopsUntilReconfigured(fault.faultClass)
      ? { held: true, skipReason: 'anthropic_auth', fault: held }
      : {
          held: true,
          skipReason: 'fault_backoff',
          fault: held,
          retryAt: faultRetryAt({ lastAt: now, streak: held.streak }, this.settings.AGENT_FAULT_BACKOFF_MINUTES),
        };
  }

  private async gateSpan(gate: GateEvaluation | undefined): Promise<void> {
    if (!gate) return;
    await this.env.tracer.span('evaluate_gate', {}, async (span) => {
      const attrs: Record<string, string | number | boolean> = { 'gate.type': gate.gate, 'gate.passed': gate.passed };
      for (const check of gate.checks) {
        if (check.value !== null) attrs[`gate.${check.metric}`] = check.value;
        attrs[`gate.threshold_${check.metric}`] = check.threshold;
      }
      if (gate.reason) attrs['gate.reason'] = gate.reason;
      span.setAttributes(attrs);
    });
  }

  private async fail(
    session: Session,
    input: {
      trigger: TriggerReason;
      outcome: SessionOutcome;
      reason: string;
      gate?: GateEvaluation;
      trainingResults?: TrainingResult | null;
      backtestResults?: BacktestResult | null;
    },
  ): Promise<void> {
    await endSession(
      this.db,
      session.id,
      {
        outcome: input.outcome,
        reason: input.reason,
        ...(input.gate ? { gate: input.gate } : {}),
        ...(input.trainingResults ? { trainingResults: input.trainingResults } : {}),
        ...(input.backtestResults ? { backtestResults: input.backtestResults } : {}),
      },
      this.env.now(),
    );
    await this.record({
      sessionId: session.id,
      trigger: input.trigger,
      action: 'fail',
      invoked: false,
      skipReason: input.gate ? 'gate_failed' : 'session_failed',
      outcome: input.outcome,
      detail: input.reason,
    });
  }

  /** Symbols with hourly data, the search's symbol regions; none when KTRDR does not list them (the history still counts). */
  private async searchSymbols(): Promise<string[]> {
    this.symbolsForSearch ??= await this.env.ktrdr.listSymbols().then(
      (symbols) => symbols.filter((entry) => (entry.available_timeframes ?? []).includes('1h')).map((entry) => entry.symbol),
      () => [],
    );
    return this.symbolsForSearch;
  }

  private symbolsForSearch: string[] | undefined;

  /**
   * Polls work KTRDR expects to finish soon until AGENT_PASS_FOLLOW_SECONDS after the pass started, taking each
   * finished operation's next step now; a KTRDR fault this pass means the next pass looks instead.
   */
  private async followShortWork(startedAt: Date, polled: Polled[]): Promise<void> {
    const seconds = this.settings.AGENT_PASS_FOLLOW_SECONDS;
    if (seconds <= 0 || this.ktrdrUnreachable || this.faultThisPass) return;
    const settled = new Set(polled.filter((item) => !stillUnderWay(item.observation)).flatMap((item) => followKey(item.session) ?? []));
    const canStartCycles = () => !this.budgetExceeded && !this.faultThisPass && !this.hold.held;
    const followed = await followShortWork<Polled>({
      passStartedAt: startedAt,
      deadline: startedAt.getTime() + seconds * 1000,
      now: this.env.now,
      sleep: this.env.sleep ?? ((ms) => delay(ms)),
      activeSessions: () => listActiveSessions(this.db),
      poll: (session) => this.poll(session),
      proveLock: async () => this.env.verifyTickLock?.(),
      paused: async () => (await readControl(this.db)).paused,
      takeNextStep: (item) => this.advanceLocated(item),
      refill: async () => {
        if (canStartCycles()) await this.startNewCycles();
      },
      settled,
    });
    if (followed.rounds > 0)
      this.explain(`Followed short work for ${followed.rounds} poll(s): ${followed.finished} operation(s) ended and went on in this pass.`);
  }

  /** KTRDR's training workers, the active sessions and the budget, read once for the new cycles of this pass. */
  private async readSlots(options: { quiet?: boolean } = {}): Promise<SlotsReading> {
    const day = await this.budgetDay();
    const reading = await readResearchSlots({
      db: this.db,
      ktrdr: this.env.ktrdr,
      setting: this.settings.AGENT_MAX_CONCURRENT_SESSIONS,
      cap: this.settings.AGENT_MAX_SESSIONS_CAP,
      budgetBinds: this.env.designerKind === 'claude' && this.settings.AGENT_BUDGET_ENFORCEMENT,
      spendableUsd: Math.max(0, remainingUsd(day) - this.settings.AGENT_BUDGET_BUFFER_USD),
      ktrdrKnownDown: this.ktrdrUnreachable,
    });
    const warning = options.quiet ? null : workersWarning(reading);
    if (warning) {
      this.env.warn?.('workers_unreadable', { warning });
      this.explain(warning);
    }
    return reading;
  }

  /**
   * `auto`: a training worker KTRDR lists idle takes its new cycle before the sessions' own steps, whose invocations
   * need no training worker (capacity.ts, refillsFirst). Quiet unless a cycle starts: the pass's usual look for new
   * cycles, after the sessions' steps, records and warns as before.
   */
  private async refillIdleWorkers(): Promise<void> {
    if (this.settings.AGENT_MAX_CONCURRENT_SESSIONS !== 'auto' || this.hold.held) return;
    const reading = await this.readSlots({ quiet: true });
    if (refillsFirst(reading)) await this.startNewCycles(reading);
  }

  private async startNewCycles(given?: SlotsReading): Promise<void> {
    const reading = given ?? (await this.readSlots());
    const before = this.created.length;
    await this.startCyclesWithin(reading.active, reading.slots.maxActive);
    const seen = this.created.length > before ? await afterNewCycles(reading, this.env.ktrdr) : reading;
    this.capacity = capacityReport(seen, {
      started: this.created.length - before,
      startedThisPass: this.created.length,
      paused: false,
      budgetExceeded: this.budgetExceeded,
      ktrdrUnreachable: this.ktrdrUnreachable,
      held: this.hold.held || this.faultThisPass,
    });
  }

  private async startCyclesWithin(activeNow: number, max: number): Promise<void> {
    let active = activeNow;
    if (active >= max) return;
    if (this.env.designerKind === 'claude' && !this.settings.ANTHROPIC_API_KEY) {
      throw new AgentError(
        'ANTHROPIC_API_KEY is not set, so the claude designer cannot start a cycle. Set it (env or env file), or set AGENT_DESIGNER=baseline.',
        ExitCode.NotConfigured,
        'not_configured',
      );
    }
    // A new cycle needs KTRDR: when it is down, wait rather than create a session bound to fail.
    let healthFault: InfrastructureFault | null = null;
    if (!this.ktrdrUnreachable) {
      healthFault = await this.env.ktrdr.health().then(
        () => {
          this.ktrdrReached = true;
          return null;
        },
        (error: unknown) => ktrdrFaultOf(error),
      );
    }
    if (this.ktrdrUnreachable || healthFault) {
      if (healthFault) this.metFault(healthFault);
      await this.record({
        sessionId: null,
        trigger: 'start_new_cycle',
        action: 'skip',
        invoked: false,
        skipReason: 'ktrdr_unreachable',
        ...(healthFault ? { fault: healthFault } : {}),
      });
      return;
    }
    if (this.hold.held) {
      await this.recordHold(null, 'start_new_cycle');
      return;
    }
    while (active < max && !this.budgetExceeded && !this.faultThisPass) {
      const day = await this.env.tracer.span('check_budget', {}, async (span) => {
        const current = await this.budgetDay();
        span.setAttributes({ 'trigger.budget_remaining_usd': remainingUsd(current), 'budget.limit_usd': current.limitUsd });
        return current;
      });
      if (!this.canInvoke(day)) {
        this.budgetExceeded = true;
        const budget = {
          activeSessions: active,
          usedUsd: day.usedUsd + day.reservedUsd,
          limitUsd: day.limitUsd,
          bufferUsd: this.settings.AGENT_BUDGET_BUFFER_USD,
        };
        await this.record({ sessionId: null, trigger: 'start_new_cycle', action: 'skip', invoked: false, skipReason: 'budget_exceeded' }, { budget });
        return;
      }
      if (await this.strategiesDirFaulted(null, 'start_new_cycle')) return;
      if (await this.pausedSince(null, 'start_new_cycle')) return;
      if (await this.quotaHeld(null, 'start_new_cycle')) return;
      const now = this.env.now();
      const symbols = await this.searchSymbols();
      const session = await createSessionWithinCap(this.db, {
        maxActive: max,
        designer: this.env.designerKind,
        now,
        leaseOwner: this.env.tickId,
        leaseExpiresAt: new Date(now.getTime() + this.settings.AGENT_LEASE_SECONDS * 1000),
        onCreated: async (trx, created) => void (await assignSearchDirective(trx, created.id, { designer: this.env.designerKind, symbols })),
      });
      if (!session) return;
      this.budgetChanged();
      this.created.push(session.id);
      await this.runInvocation(session.id, 'design', 'start_new_cycle', { newCycle: { activeBefore: active } });
      active += 1;
    }
  }

  /** Takes the lease (so a process killed mid-invocation is found later), then runs the designer. */
  /** One transaction: what the pass learnt (results, gate, a phase change), the lease, and the invocation count. */
  private async invoke(decidedOn: Session, purpose: InvocationPurpose, trigger: TriggerReason, retry: boolean, changes: SessionChanges = {}): Promise<void> {
    const sessionId = decidedOn.id;
    if (await this.pausedSince(sessionId, trigger)) return;
    if (await this.quotaHeld(sessionId, trigger)) return;
    const now = this.env.now();
    const leased = await this.db.transaction().execute(async (trx) => {
      const session = await findSession(trx, sessionId);
      if (!session) return false;
      const lease = { owner: this.env.tickId, expiresAt: new Date(now.getTime() + this.settings.AGENT_LEASE_SECONDS * 1000) };
      // Only in the phase this decision was made for: another pass may have invoked and moved the session on.
      if (!(await takeLease(trx, sessionId, lease, now, { phase: decidedOn.phase }))) return false;
      // A phase change starts the count afresh.
      await updateSession(trx, sessionId, { ...changes, invocationAttempts: changes.phase ? 1 : session.invocationAttempts + 1 }, now);
      await incrementBudgetCounters(trx, utcDay(now), { invocations: 1 });
      return true;
    });
    if (!leased) {
      // Another pass took the lease between this pass's read and its write: it invokes, this one does not.
      await this.record({ sessionId, trigger, action: 'skip', invoked: false, skipReason: 'invocation_in_progress' }, { phase: decidedOn.phase });
      return;
    }
    this.budgetChanged();
    await this.runInvocation(sessionId, purpose, trigger, { retry });
  }

  private async runInvocation(sessionId: number, purpose: InvocationPurpose, trigger: TriggerReason, facts: ExplainFacts): Promise<void> {
    await this.env.verifyTickLock?.();
    const day = await this.budgetDay();
    await this.record({ sessionId, trigger, action: 'invoke', invoked: true, skipReason: null, detail: purpose }, facts);
    let report: InvocationReport;
    try {
      this.designerInstance ??= await this.env.designer();
      report = await this.env.tracer.span(
        'invoke_agent',
        {
          'trigger.reason': trigger,
          'trigger.session_id': sessionId,
          'trigger.agent_invoked': true,
          'trigger.budget_remaining_usd': remainingUsd(day),
          'agent.purpose': purpose,
        },
        () => this.designerInstance!.invoke({ sessionId, purpose, trigger }),
      );
    } catch (error) {
      report = isInfrastructureFault(error)
        ? { status: 'infrastructure_fault', reason: error.fault.cause, lastText: '', costUsd: 0, fault: error.fault }
        : { status: 'error', reason: (error as Error).message, lastText: '', costUsd: 0 };
    }
    this.budgetChanged();
    const session = await findSession(this.db, sessionId);
    const next = afterInvocation({ purpose, session: session ? { phase: session.phase, outcome: session.outcome } : null, report });
    const now = this.env.now();
    const previousHold = this.hold.held ? this.hold.fault : (await readControl(this.db)).fault;
    const clearHeld = async (): Promise<void> => {
      if (previousHold && provesTheWorldWorks(next, report)) await clearFault(this.db, now);
    };
    switch (next.kind) {
      case 'ended':
        await clearHeld();
        if (session?.outcome) this.noteResult(sessionId, trigger, session.outcome, `the ${purpose} invocation ended the session`);
        return;
      case 'waiting':
        // Not an attempt: the session waits in its phase and a later pass collects the batch.
        await updateSession(this.db, sessionId, { lease: null, invocationAttempts: Math.max(0, session!.invocationAttempts - 1) }, now);
        await this.record({ sessionId, trigger, action: 'wait', invoked: false, skipReason: 'waiting_for_batch', detail: next.reason });
        return;
      case 'achieved':
        await updateSession(this.db, sessionId, { lease: null }, now);
        await clearHeld();
        this.noteResult(sessionId, trigger, 'achieved', `the ${purpose} invocation moved the session to ${session!.phase}`);
        return;
      case 'refund': {
        // Not the design's fault: the attempt does not count and the session waits in its phase for a later pass.
        await updateSession(this.db, sessionId, { lease: null, invocationAttempts: Math.max(0, session!.invocationAttempts - 1) }, now);
        if (next.cause === 'budget_exhausted') {
          this.budgetExceeded = true;
          // Told, not recorded: the session waits as if this invocation had not started.
          this.explainRecord({ sessionId, trigger, action: 'refund', invoked: false, skipReason: 'budget_exceeded', detail: purpose });
          return;
        }
        const fault = this.metFault(next.fault, purpose === 'backtest' ? 'backtest' : 'any');
        await this.holdBack(fault, previousHold);
        await this.record({ sessionId, trigger, action: 'refund', invoked: false, skipReason: 'infrastructure_fault', fault, detail: purpose });
        return;
      }
      case 'fail':
        await clearHeld();
        await this.fail(session!, { trigger, outcome: next.outcome, reason: next.reason });
        return;
      case 'stopped':
        // Paused mid-invocation: not an attempt, and nothing more this pass (operator-control.ts).
        this.pausedMidPass = true;
        await updateSession(this.db, sessionId, { lease: null, invocationAttempts: Math.max(0, session!.invocationAttempts - 1) }, now);
        await this.record({ sessionId, trigger, action: 'skip', invoked: false, skipReason: 'paused', detail: next.reason }, { phase: session!.phase });
        return;
    }
  }
}
