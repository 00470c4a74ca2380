import type { Kysely } from 'kysely';
import type { Settings } from '../config/schema.ts';
import type { Database } from '../db/database-schema.ts';
import { findExperiment } from '../db/repositories/experiments.ts';
import {
  listPromotions,
  notePromotion,
  planValidations,
  plannedValidations,
  screenCandidates,
  validationsInFlight,
  validationsOf,
  type Promotion,
  type ValidationBacktest,
} from '../db/repositories/promotions.ts';
import { updateValidation } from '../db/repositories/validation-backtests.ts';
import { settlePromotion } from '../db/transactions/settle-promotion.ts';
import { lockboxOf } from '../agent/lockbox-boundary.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError, ktrdrFaultForDecision, ktrdrFaultIn } from '../ktrdr/errors.ts';
import { operationStrategy, ownershipMismatch, type OperationClaim } from '../ktrdr/ownership.ts';
import { flattenBacktestResult } from '../ktrdr/results.ts';
import { statusObservation } from './poll-session.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { decidePromotion, psrAgainstZero, robustnessWindows, searchPeriodEnd, shiftDay } from '../research/lockbox.ts';
import { decide, type OperationObservation } from './decide.ts';
import { decisionConfig } from './decision-input.ts';
import { stillLiveAfterFailedCancel } from './recovery.ts';

/**
 * The validation lane (issue #20 item 2, issue #24 item 3): candidates (both gates passed, DSR over the family now at
 * least AGENT_PROMOTION_MIN_DSR) are backtested on robustness windows of the search period and once on the lockbox,
 * beside the research sessions (not in their slots), at most AGENT_VALIDATION_CONCURRENCY backtests at once, and
 * decided by rule, with no model. The backtests follow the sessions' rules: the same poll, ownership check, stall
 * limits and resume budget (decide() is asked, with the validation as a session in `backtesting`). A fault of the
 * world only delays: the promotion stays pending.
 */
export interface ValidationLaneEnvironment {
  db: Kysely<Database>;
  settings: Settings;
  ktrdr: KtrdrClient;
  now: () => Date;
  /** Proves the tick lock before KTRDR is changed (a start or a cancel), as before any recovery. */
  verifyTickLock?: () => Promise<void>;
  explain?: (line: string) => void;
  /** Told of every fault of the world met (the pass's summary and exit code). */
  onFault: (fault: InfrastructureFault) => void;
}

export interface ValidationLaneSummary {
  screened: number;
  started: number;
  completed: number;
  decided: { experimentId: number; status: 'promoted' | 'rejected'; reason: string }[];
  inFlight: number;
}

/** How many candidates one pass screens: the rest wait for the next pass (a first run over an old memory is spread out). */
const SCREEN_PER_PASS = 200;

export async function runValidationLane(env: ValidationLaneEnvironment, options: { startNew: boolean; ktrdrDown: boolean }): Promise<ValidationLaneSummary> {
  const lane = new ValidationLane(env);
  return lane.run(options);
}

class ValidationLane {
  private readonly env: ValidationLaneEnvironment;
  private faulted = false;
  private readonly summary: ValidationLaneSummary = { screened: 0, started: 0, completed: 0, decided: [], inFlight: 0 };

  constructor(env: ValidationLaneEnvironment) {
    this.env = env;
  }

  private get db() {
    return this.env.db;
  }

  private fault(error: unknown): boolean {
    const fault = ktrdrFaultForDecision(error);
    if (!fault) return false;
    this.faulted = true;
    this.env.onFault(fault);
    return true;
  }

  async run(options: { startNew: boolean; ktrdrDown: boolean }): Promise<ValidationLaneSummary> {
    const { settings } = this.env;
    const fresh = await screenCandidates(this.db, { minDsr: settings.AGENT_PROMOTION_MIN_DSR, now: this.env.now(), limit: SCREEN_PER_PASS });
    this.summary.screened = fresh.length;
    for (const promotion of fresh) this.env.explain?.(`Promotion: experiment #${promotion.experimentId} is a candidate (${promotion.reason}).`);
    if (options.ktrdrDown) this.faulted = true;
    const pending = await listPromotions(this.db, ['pending']);
    for (const promotion of pending) {
      if (this.faulted) break;
      if ((await validationsOf(this.db, promotion.id)).length === 0) await this.plan(promotion);
    }
    for (const validation of await validationsInFlight(this.db)) {
      if (this.faulted) break;
      // A start of unknown outcome is retried (or adopted) only when starting is allowed: a pause changes nothing in KTRDR.
      if (validation.status === 'starting' && !options.startNew) continue;
      await this.follow(validation);
    }
    if (options.startNew && !this.faulted) await this.startPlanned();
    for (const promotion of await listPromotions(this.db, ['pending'])) await this.decideIfComplete(promotion);
    this.summary.inFlight = (await validationsInFlight(this.db)).length;
    return this.summary;
  }

  /** The windows of one candidate: robustness windows of the search period, then the lockbox up to KTRDR's last full day. */
  private async plan(promotion: Promotion): Promise<void> {
    const experiment = await findExperiment(this.db, promotion.experimentId);
    if (!experiment || !promotion.symbol || !promotion.timeframe || !promotion.modelPath || !promotion.strategyName) {
      await this.reject(promotion, 'the experiment has no trained model, symbol or timeframe to validate');
      return;
    }
    let lockbox;
    let range;
    try {
      const context = { db: this.db, ktrdr: this.env.ktrdr, months: this.env.settings.AGENT_LOCKBOX_MONTHS, now: this.env.now };
      lockbox = await lockboxOf(context, promotion.symbol, promotion.timeframe);
      range = lockbox ? await this.env.ktrdr.getDataRange(promotion.symbol, promotion.timeframe) : null;
    } catch (error) {
      if (this.fault(error)) return;
      throw error;
    }
    if (!lockbox || !range) {
      await notePromotion(this.db, promotion.id, `waiting: KTRDR has no ${promotion.symbol} ${promotion.timeframe} data to hold a lockbox`);
      return;
    }
    // The last full day of data, and never today: new data lengthens the lockbox, its start never moves.
    const yesterday = shiftDay(utcDay(this.env.now()), -1);
    const lastFull = shiftDay(range.end_date.slice(0, 10), -1);
    const lockboxEnd = lastFull < yesterday ? lastFull : yesterday;
    if (lockboxEnd <= lockbox.startDate) {
      await notePromotion(
        this.db,
        promotion.id,
        `waiting: the lockbox of ${promotion.symbol} ${promotion.timeframe} (from ${lockbox.startDate}) has no full day of data yet`,
      );
      return;
    }
    const searchStart = shiftDay((lockbox.dataStart ?? range.start_date).slice(0, 10), 1);
    const windows = robustnessWindows({
      searchPeriod: { startDate: searchStart, endDate: searchPeriodEnd(lockbox.startDate) },
      training: experiment.trainingWindow,
      backtest: experiment.backtestWindow,
      count: this.env.settings.AGENT_PROMOTION_ROBUSTNESS_WINDOWS,
    });
    if (windows.length === 0) {
      await this.reject(promotion, 'the search period has no room for a robustness window outside the training and backtest windows');
      return;
    }
    const base = { symbol: promotion.symbol, timeframe: promotion.timeframe };
    await planValidations(
      this.db,
      promotion.id,
      [
        ...windows.map((w, index) => ({
          ...base,
          kind: 'robustness' as const,
          ordinal: index + 1,
          startDate: w.startDate,
          endDate: w.endDate,
          lockboxId: null,
        })),
        { ...base, kind: 'lockbox' as const, ordinal: 1, startDate: lockbox.startDate, endDate: lockboxEnd, lockboxId: lockbox.id },
      ],
      lockbox.id,
    );
    await notePromotion(this.db, promotion.id, `validating: ${windows.length} robustness window(s) and the lockbox ${lockbox.startDate}..${lockboxEnd}`);
  }

  /**
   * Starts planned backtests up to the lane's concurrency, one at a time per promotion: the slots go to several
   * candidates rather than to one, and one model never has two validation backtests live at once.
   */
  private async startPlanned(): Promise<void> {
    const limit = this.env.settings.AGENT_VALIDATION_CONCURRENCY;
    const running = await validationsInFlight(this.db);
    let inFlight = running.length;
    if (inFlight >= limit) return;
    const busy = new Set(running.map((v) => v.promotionId));
    for (const validation of await plannedValidations(this.db, 200)) {
      if (this.faulted || inFlight >= limit) return;
      if (busy.has(validation.promotionId)) continue;
      busy.add(validation.promotionId);
      await this.start(validation);
      inFlight += 1;
    }
  }

  /**
   * Starts (or, after a start of unknown outcome, adopts) a validation backtest. Its start time is written first, so
   * a start that KTRDR carries out late is adopted by the next try rather than run twice (adoptStartedSince).
   */
  private async start(validation: ValidationBacktest): Promise<void> {
    const promotion = (await listPromotions(this.db, ['pending'])).find((p) => p.id === validation.promotionId);
    if (!promotion?.modelPath || !promotion.strategyName) return;
    await this.env.verifyTickLock?.();
    const startedAt = validation.status === 'starting' && validation.startedAt ? validation.startedAt : this.env.now();
    if (validation.status !== 'starting')
      await updateValidation(this.db, validation.id, { status: 'starting', startedAt, operationId: null, progress: null, progressChangedAt: null });
    try {
      // Never beside a live run of the same model: KTRDR's active backtests are read first. One that is this very
      // request (a start whose answer was lost, a clock that makes it look older) is adopted; any other is waited for.
      const live = await this.liveRunOfModel(promotion, validation);
      if (live?.ours) {
        await updateValidation(this.db, validation.id, { status: 'running', operationId: live.operationId, progressChangedAt: this.env.now() });
        return;
      }
      if (live) {
        await notePromotion(this.db, validation.promotionId, `waiting: backtest ${live.operationId} of ${promotion.strategyName} is still running in KTRDR`);
        return;
      }
      const started = await this.env.ktrdr.startBacktest({
        strategyName: promotion.strategyName,
        modelPath: promotion.modelPath,
        startDate: validation.startDate,
        endDate: validation.endDate,
        symbol: validation.symbol,
        timeframe: validation.timeframe,
        adoptStartedSince: startedAt.getTime(),
      });
      await updateValidation(this.db, validation.id, { status: 'running', operationId: started.operationId, progressChangedAt: this.env.now() });
      this.summary.started += 1;
      this.env.explain?.(
        `Promotion: ${validation.kind} backtest ${validation.startDate}..${validation.endDate} of experiment #${promotion.experimentId} started (${started.operationId}).`,
      );
    } catch (error) {
      if (this.fault(error)) return;
      if (!(error instanceof KtrdrError)) throw error;
      // A start that failed, or whose outcome is unknown, stays `starting` with its first start time: the next try
      // adopts the run if KTRDR did start it, so one request never runs twice. Held once the resume budget is spent.
      const attempts = validation.attempts + 1;
      const reason = `the ${validation.kind} backtest could not be started: ${error.message}`;
      if (attempts <= this.env.settings.AGENT_RESUME_MAX_ATTEMPTS) {
        await updateValidation(this.db, validation.id, { attempts, lastError: reason });
        return;
      }
      await updateValidation(this.db, validation.id, { status: 'held', attempts, lastError: reason });
      await notePromotion(this.db, validation.promotionId, `held: ${reason} (${attempts} tries)`);
    }
  }

  /** A backtest of this promotion's strategy that KTRDR still runs, and whether it is this validation's own request. */
  private async liveRunOfModel(promotion: Promotion, validation: ValidationBacktest): Promise<{ operationId: string; ours: boolean } | null> {
    const { operations } = await this.env.ktrdr.listOperations({ operationType: 'backtesting', activeOnly: true, limit: 100 });
    for (const summary of operations) {
      const operation = await this.env.ktrdr.getOperation(summary.operation_id).catch((error: unknown) => {
        if (error instanceof KtrdrError && error.isNotFound) return null;
        throw error;
      });
      if (!operation || operationStrategy(operation) !== promotion.strategyName) continue;
      const mismatch = ownershipMismatch(operation, validationClaim(validation, promotion, 0));
      return { operationId: operation.operation_id, ours: validation.status === 'starting' && mismatch === null };
    }
    return null;
  }

  private async retryOrHold(validation: ValidationBacktest, reason: string): Promise<void> {
    const attempts = validation.attempts + 1;
    if (attempts <= this.env.settings.AGENT_RESUME_MAX_ATTEMPTS) {
      await updateValidation(this.db, validation.id, {
        status: 'planned',
        attempts,
        lastError: reason,
        operationId: null,
        startedAt: null,
        progress: null,
        progressChangedAt: null,
      });
      return;
    }
    // Not the strategy's verdict: the promotion stays pending (a fault never rejects), and says what holds it.
    await updateValidation(this.db, validation.id, { status: 'held', attempts, lastError: reason });
    await notePromotion(
      this.db,
      validation.promotionId,
      `held: the ${validation.kind} backtest ${validation.startDate}..${validation.endDate} could not run after ${attempts} tries (${reason})`,
    );
  }

  private async observe(
    validation: ValidationBacktest,
    promotion: Promotion,
  ): Promise<{ observation: OperationObservation; operation: Awaited<ReturnType<KtrdrClient['getOperation']>> | null }> {
    try {
      const operation = await this.env.ktrdr.getOperation(validation.operationId!);
      // KTRDR's creation time is on its own clock: its measured offset comes off first, as in a session's poll.
      const mismatch = ownershipMismatch(
        operation,
        validationClaim(validation, promotion, (validation.startedAt ?? this.env.now()).getTime()),
        this.env.ktrdr.clockOffsetMs(),
      );
      if (mismatch) return { observation: { kind: 'foreign', operationId: validation.operationId!, reason: mismatch }, operation: null };
      return {
        observation: statusObservation(operation),
        operation,
      };
    } catch (error) {
      if (error instanceof KtrdrError && error.isNotFound) return { observation: { kind: 'not_found' }, operation: null };
      const fault =
        ktrdrFaultIn(error) ?? (error instanceof KtrdrError ? { faultClass: 'ktrdr_unreachable' as const, cause: `KTRDR: ${error.message}` } : null);
      if (!fault) throw error;
      this.faulted = true;
      this.env.onFault(fault);
      return { observation: { kind: 'unreachable', error: fault.cause, faultClass: fault.faultClass }, operation: null };
    }
  }

  private async follow(validation: ValidationBacktest): Promise<void> {
    const promotion = (await listPromotions(this.db, ['pending'])).find((p) => p.id === validation.promotionId);
    if (!promotion) return;
    if (validation.status === 'starting') {
      // A start whose outcome was unknown: try again, adopting the operation if KTRDR did start it.
      await this.start(validation);
      return;
    }
    const { observation, operation } = await this.observe(validation, promotion);
    if (observation.kind === 'unreachable') return;
    const now = this.env.now();
    const config = decisionConfig(this.env.settings);
    // The backtest gate without the DSR check: a validation backtest is not a trial of the family's search.
    config.gates = { ...config.gates, backtestMinDsr: null };
    const backtest = operation && operation.status === 'completed' ? flattenBacktestResult(operation.result_summary) : null;
    const progress = validation.progress;
    const decision = decide({
      session: {
        id: validation.id,
        phase: 'backtesting',
        trainingOperationId: null,
        backtestOperationId: validation.operationId,
        resumeAttempts: validation.attempts,
        invocationAttempts: 0,
        leaseExpiresAt: null,
        progressChangedAt: validation.progressChangedAt ?? validation.startedAt,
        lastProgress: progress
          ? { percentage: progress.percentage, currentStep: progress.currentStep, seenAt: new Date(progress.seenAt), status: progress.status }
          : null,
      },
      operation: observation,
      trainingResult: null,
      backtestResult: backtest,
      canInvoke: true,
      now,
      config,
    });
    switch (decision.action) {
      case 'record_progress':
        await updateValidation(this.db, validation.id, {
          progress: { ...decision.progress, seenAt: now.toISOString() },
          ...(decision.changed ? { progressChangedAt: now } : {}),
        });
        return;
      case 'restart_operation':
      case 'resume_operation': {
        // A validation backtest is short: a stalled or failed one is started afresh rather than resumed.
        if (decision.action === 'restart_operation' && !(await this.cancelled(validation, decision.operationId, decision.reason))) return;
        await this.retryOrHold(
          validation,
          decision.action === 'restart_operation' ? decision.reason : `operation ${decision.operationId} failed: ${decision.errorMessage ?? 'no message'}`,
        );
        return;
      }
      case 'enter_assessing':
        await this.complete(validation, backtest!, { passed: true, reason: null });
        return;
      case 'fail':
        if (decision.gate && backtest) {
          await this.complete(validation, backtest, { passed: decision.gate.passed, reason: decision.gate.reason ?? null });
          return;
        }
        if (decision.cancelOperationId && !(await this.cancelled(validation, decision.cancelOperationId, decision.reason))) return;
        if (observation.kind === 'not_found' || observation.kind === 'foreign') {
          // KTRDR lost the run (or answers with another): it may still run unseen, so nothing is started beside it,
          // as a session never restarts a lost operation. The promotion waits, held, and says why.
          await updateValidation(this.db, validation.id, { status: 'held', lastError: decision.reason });
          await notePromotion(this.db, validation.promotionId, `held: ${decision.reason}`);
          return;
        }
        await this.retryOrHold(validation, decision.reason);
        return;
      case 'skip':
      case 'invoke':
        return;
    }
  }

  /**
   * Cancels a stalled validation backtest before anything replaces it, as a session's fresh start does (recovery.ts):
   * two live runs of one request must never be. False while KTRDR will not cancel it (the next pass tries again).
   */
  private async cancelled(validation: ValidationBacktest, operationId: string, reason: string): Promise<boolean> {
    await this.env.verifyTickLock?.();
    try {
      const live = await this.env.ktrdr.cancelOperation(operationId, { reason, force: true }).then(
        () => null,
        (error: unknown) => stillLiveAfterFailedCancel(this.env.ktrdr, operationId, error),
      );
      if (live === null) return true;
      await notePromotion(this.db, validation.promotionId, `waiting: ${live}`);
      return false;
    } catch (error) {
      if (this.fault(error)) return false;
      if (!(error instanceof KtrdrError)) throw error;
      // KTRDR refused the cancel and could not say whether the run ended: wait, never start a second one.
      await notePromotion(this.db, validation.promotionId, `waiting: operation ${operationId} could not be cancelled (${error.message})`);
      return false;
    }
  }

  private async complete(
    validation: ValidationBacktest,
    backtest: ReturnType<typeof flattenBacktestResult>,
    gate: { passed: boolean; reason: string | null },
  ): Promise<void> {
    const psr = psrAgainstZero({ sharpe: backtest.sharpe, bars: backtest.bars, startDate: validation.startDate, endDate: validation.endDate });
    await updateValidation(this.db, validation.id, { status: 'completed', results: backtest, gate, sharpe: backtest.sharpe, psr, completedAt: this.env.now() });
    this.summary.completed += 1;
  }

  private async decideIfComplete(promotion: Promotion): Promise<void> {
    const validations = await validationsOf(this.db, promotion.id);
    if (validations.length === 0 || validations.some((v) => v.status !== 'completed')) return;
    const lockbox = validations.find((v) => v.kind === 'lockbox');
    if (!lockbox) return;
    const verdict = decidePromotion({
      lockbox: { gatePassed: lockbox.gate?.passed === true, gateReason: lockbox.gate?.reason ?? null, sharpe: lockbox.sharpe, psr: lockbox.psr },
      robustnessSharpes: validations.filter((v) => v.kind === 'robustness').map((v) => v.sharpe),
      minLockboxPsr: this.env.settings.AGENT_PROMOTION_MIN_LOCKBOX_PSR,
    });
    if (verdict.promoted) await this.settle(promotion, 'promoted', verdict.reason);
    else await this.reject(promotion, verdict.reason);
  }

  private reject(promotion: Promotion, reason: string): Promise<void> {
    return this.settle(promotion, 'rejected', reason);
  }

  /** The decision and what it says of the hypotheses the experiment tested, in one transaction. */
  private async settle(promotion: Promotion, status: 'promoted' | 'rejected', reason: string): Promise<void> {
    const now = this.env.now();
    const decided = await settlePromotion(this.db, { promotionId: promotion.id, experimentId: promotion.experimentId, status, reason, now });
    if (!decided) return;
    this.summary.decided.push({ experimentId: promotion.experimentId, status, reason });
    this.env.explain?.(`Promotion: experiment #${promotion.experimentId} ${status}: ${reason}.`);
  }
}

/** What a validation backtest of ours looks like in KTRDR (ktrdr/ownership.ts), started no earlier than `notBeforeMs`. */
function validationClaim(validation: ValidationBacktest, promotion: Promotion, notBeforeMs: number): OperationClaim {
  return {
    kind: 'backtest',
    strategyName: promotion.strategyName ?? '',
    symbols: [validation.symbol],
    timeframes: [validation.timeframe],
    startDate: validation.startDate,
    endDate: validation.endDate,
    notBeforeMs,
    ...(promotion.modelPath ? { modelPath: promotion.modelPath } : {}),
  };
}
