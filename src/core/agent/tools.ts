import type { Kysely } from 'kysely';
import { rmSync } from 'node:fs';
import { z } from 'zod';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { recordAction } from '../db/repositories/activity.ts';
import { findSession, recentStrategies, updateSession, type Session } from '../db/repositories/sessions.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError, ktrdrFaultIn } from '../ktrdr/errors.ts';
import { confirmStartOwnership } from './start-ownership.ts';
import { installationId } from '../db/repositories/installation.ts';
import { trainingTaskId } from '../ktrdr/task-id.ts';
import { coverageProblem } from '../ktrdr/coverage.ts';
import { formatFindings, validateStrategy } from '../strategy/validate.ts';
import { StrategyStore, StrategyStoreError } from '../strategy/store.ts';
import { InfrastructureFaultError, isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';
import { strategiesDirFaultOf } from '../strategy/dir-health.ts';
import { boundedIndicatorSummary } from './indicator-summary.ts';
import { completeAssessment } from '../session/end.ts';
import { lockboxRefusal } from './lockbox-boundary.ts';
import { runEffect } from './operator-control.ts';
import { clipped, storedToolInput, strategySizeProblem } from './model-text.ts';
import { inTransaction } from '../db/in-transaction.ts';
import {
  earlierRunsOfDesign,
  experimentMetrics,
  experimentSortKeys,
  findExperiment,
  queryExperiments,
  recordLineage,
  someExperimentIds,
  type Experiment,
} from '../db/repositories/experiments.ts';
import {
  findHypothesis,
  HYPOTHESES_PER_CALL_MAX,
  HYPOTHESIS_EVIDENCE_MAX,
  HYPOTHESIS_RATIONALE_MAX,
  HYPOTHESIS_TEXT_MAX,
  MODEL_VERDICT_STATUSES,
  openHypotheses,
  setHypothesisStatus,
  statusVerdictWasMadeOn,
} from '../db/repositories/hypotheses.ts';
import { sessionOutcomes, verdicts, type HypothesisStatus, type InvocationPurpose, type ToolErrorKind } from '../session/model.ts';
import type { ToolOutcome } from './tool-dispatch.ts';
import { strategyFeatures, strategyFingerprint } from '../research/fingerprint.ts';
import { claimDesign, describeClaimRefusal, liveHolder, type DesignClaim } from '../db/repositories/design-claims.ts';
import { phaseModel } from '../config/model-checks.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { searchRefusal } from './search-directive.ts';

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** `signal` is the invocation's: a tool's KTRDR requests, retries and backoffs end with it. */
  run(input: unknown, options?: { signal?: AbortSignal }): Promise<ToolOutcome>;
}

export interface ToolContext {
  db: Kysely<Database>;
  sessionId: number;
  ktrdr: KtrdrClient;
  strategies: StrategyStore;
  config: AgentConfig;
  now: () => Date;
  /** The current model turn and its tokens, for the action log. */
  turn: { index: number; tokensInput: number | null; tokensOutput: number | null; requestId?: string | null; tokensThinking?: number | null };
  /** Set when a tool could not reach KTRDR: the invocation then waits instead of failing the session. */
  ktrdrUnreachable: boolean;
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'not a real calendar date');

function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`).join('; ');
}

async function currentSession(context: ToolContext): Promise<Session> {
  const session = await findSession(context.db, context.sessionId);
  if (!session) throw new Error(`session ${context.sessionId} no longer exists`);
  return session;
}

function defineTool<S extends z.ZodType>(
  context: ToolContext,
  spec: {
    name: string;
    description: string;
    input: S;
    /** The tool starts compute or changes the session: it runs under the operator's control (operator-control.ts). */
    effect?: true;
    run: (input: z.output<S>, session: Session, ktrdr: KtrdrClient) => Promise<ToolOutcome>;
  },
): ToolDefinition {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(spec.input, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    name: spec.name,
    description: spec.description,
    inputSchema,
    async run(raw: unknown, options: { signal?: AbortSignal } = {}): Promise<ToolOutcome> {
      const started = Date.now();
      const session = await currentSession(context);
      const parsed = spec.input.safeParse(raw ?? {});
      let outcome: ToolOutcome;
      if (!parsed.success) {
        outcome = { ok: false, error: `invalid input for ${spec.name}: ${describeZodError(parsed.error)}`, kind: 'invalid_input' };
      } else {
        try {
          const ktrdr = options.signal ? context.ktrdr.withSignal(options.signal) : context.ktrdr;
          outcome = spec.effect ? await runEffect(context, (locked) => spec.run(parsed.data, locked, ktrdr)) : await spec.run(parsed.data, session, ktrdr);
        } catch (error) {
          const ktrdrFault = ktrdrFaultIn(error);
          if (ktrdrFault && ktrdrFault.faultClass !== 'ktrdr_unreachable') {
            // KTRDR up but busy (429, a 503 with no free worker) or refusing our credentials (401/403): a fault of the
            // world, so the invocation ends without failing its session.
            outcome = { ok: false, error: `${spec.name} failed: ${ktrdrFault.cause}`, fault: ktrdrFault, kind: 'ktrdr_unavailable' };
          } else if (isInfrastructureFault(error)) {
            outcome = { ok: false, error: `${spec.name} could not run: ${error.fault.cause}`, fault: error.fault, kind: 'infrastructure_fault' };
          } else {
            // A call abandoned because the invocation ended says nothing about KTRDR.
            if (error instanceof KtrdrError && error.isUnreachable) {
              context.ktrdrUnreachable = true;
            }
            outcome = { ok: false, error: `${spec.name} failed: ${(error as Error).message}`, kind: thrownKind(error) };
          }
        }
      }
      await recordAction(context.db, {
        sessionId: context.sessionId,
        phase: session.phase,
        toolName: spec.name,
        args: storedToolInput(raw),
        result: outcome.ok ? outcome.content : null,
        success: outcome.ok,
        errorMessage: outcome.ok ? null : outcome.error,
        errorKind: outcome.ok ? null : (outcome.kind ?? 'rejected'),
        durationMs: Date.now() - started,
        turn: context.turn.index,
        tokensInput: context.turn.tokensInput,
        tokensOutput: context.turn.tokensOutput,
        requestId: context.turn.requestId ?? null,
        tokensThinking: context.turn.tokensThinking ?? null,
        at: context.now(),
      });
      return outcome;
    },
  };
}

/** The kind of a failure a tool threw: how KTRDR failed, or the tool's own exception. */
function thrownKind(error: unknown): ToolErrorKind {
  if (!(error instanceof KtrdrError)) return 'exception';
  if (ktrdrFaultIn(error)) return 'ktrdr_unavailable';
  return error.kind === 'invalid_response' ? 'ktrdr_invalid_response' : 'ktrdr_rejected';
}

function agentState(session: Session) {
  return {
    session_id: session.id,
    phase: session.phase,
    strategy_name: session.strategyName,
    training_operation_id: session.trainingOperationId,
    backtest_operation_id: session.backtestOperationId,
    training_params: session.trainingParams,
    backtest_params: session.backtestParams,
    training_results: session.trainingResults,
    training_gate: session.trainingGate,
    backtest_results: session.backtestResults,
    backtest_gate: session.backtestGate,
  };
}

/** Date windows [a1,a2] and [b1,b2] (inclusive days) share at least one day. */
export function windowsOverlap(a: { startDate: string; endDate: string }, b: { startDate: string; endDate: string }): boolean {
  return a.startDate <= b.endDate && b.startDate <= a.endDate;
}

/** The session ended while the operation was being started (an operator's cancel): nobody would watch it. */
async function abandon(context: ToolContext, operationId: string): Promise<ToolOutcome> {
  await context.ktrdr.cancelOperation(operationId, { reason: 'the research session ended while it was starting' }).catch(() => undefined);
  return { ok: false, error: `the session ended while ${operationId} was starting; the operation was cancelled` };
}

function getAgentStateTool(context: ToolContext): ToolDefinition {
  return defineTool(context, {
    name: 'get_agent_state',
    description: 'Read the current research session: phase, strategy, operations, results and gate evaluations. Read-only.',
    input: z.object({}).strict(),
    run: async (_input, session) => ({ ok: true, content: agentState(session) }),
  });
}

/** One line per experiment, for a tool error that points at what was already learnt. */
export function describeRun(e: Experiment): string {
  const windows = [
    e.trainingWindow ? `training ${e.trainingWindow.startDate}..${e.trainingWindow.endDate}` : null,
    e.backtestWindow ? `backtest ${e.backtestWindow.startDate}..${e.backtestWindow.endDate}` : null,
  ].filter(Boolean);
  const metrics = [
    e.accuracy !== null ? `accuracy ${(e.accuracy * 100).toFixed(1)}%` : null,
    e.sharpe !== null ? `sharpe ${e.sharpe.toFixed(2)}` : null,
    e.deflatedSharpe !== null ? `DSR ${e.deflatedSharpe.toFixed(2)} among ${e.dsrTrials ?? '?'} trials at its end` : null,
  ].filter(Boolean);
  const reason = e.outcome !== 'success' && e.failureReason ? ` (${e.failureReason.slice(0, 160)})` : '';
  return `experiment #${e.id} (session #${e.sessionId}) on ${e.symbol ?? '?'} ${e.timeframe ?? '?'}${windows.length ? `, ${windows.join(', ')}` : ''}: ${e.outcome}${reason}${metrics.length ? `; ${metrics.join(', ')}` : ''}`;
}

const sameWindow = (a: { startDate: string; endDate: string } | null, b: { start_date: string; end_date: string }) =>
  a !== null && a.startDate === b.start_date && a.endDate === b.end_date;

/** Ids a tool may be given, listed when it was given another. */
async function validHypothesisIds(context: ToolContext): Promise<string> {
  const open = await openHypotheses(context.db, 20);
  return open.length === 0
    ? 'there are no open hypotheses (propose one in save_assessment, or use "exploration")'
    : `open hypotheses: ${open.map((h) => `#${h.id} ${h.text.slice(0, 60)}`).join('; ')}`;
}

async function validExperimentIds(context: ToolContext): Promise<string> {
  const ids = await someExperimentIds(context.db);
  return ids.length === 0
    ? 'there are no experiments yet (leave parent_experiment out)'
    : `known experiments include ${ids.map((id) => `#${id}`).join(', ')} (query_experiments lists more)`;
}

function queryExperimentsTool(context: ToolContext): ToolDefinition {
  return defineTool(context, {
    name: 'query_experiments',
    description:
      'Search every experiment run so far (the research memory). Filters: indicators (all of these types), outcome, symbol, timeframe, hypothesis id, a metric range; sort by a metric; paged with limit/offset. Read-only.',
    input: z
      .object({
        indicators: z.array(z.string().min(1).max(40)).max(5).optional(),
        outcome: z.array(z.enum(sessionOutcomes)).max(8).optional(),
        symbol: z.string().min(1).max(40).optional(),
        timeframe: z.string().min(1).max(20).optional(),
        hypothesis: z.number().int().positive().optional(),
        metric: z.enum(experimentMetrics).optional(),
        min: z.number().optional(),
        max: z.number().optional(),
        sort: z.enum(experimentSortKeys).optional(),
        limit: z.number().int().min(1).max(50).optional(),
        offset: z.number().int().min(0).max(100000).optional(),
      })
      .strict(),
    run: async (input) => {
      if ((input.min !== undefined || input.max !== undefined) && !input.metric) return { ok: false, error: 'min/max need metric: name the metric they bound' };
      const limit = input.limit ?? 10;
      const offset = input.offset ?? 0;
      const { experiments } = await queryExperiments(context.db, {
        outcomes: input.outcome ?? null,
        indicators: input.indicators ?? null,
        symbol: input.symbol ?? null,
        timeframe: input.timeframe ?? null,
        hypothesisId: input.hypothesis ?? null,
        metric: input.metric ? { name: input.metric, min: input.min ?? null, max: input.max ?? null } : null,
        sort: input.sort ?? 'completed_at',
        limit,
        offset,
      });
      return {
        ok: true,
        content: {
          experiments: experiments.map((e) => ({
            id: e.id,
            strategy: e.strategyName,
            indicators: e.indicatorTypes,
            label: e.labelSource ? `${e.labelSource}${e.labelThreshold !== null ? ` ${e.labelThreshold}` : ''}` : null,
            architecture: e.architecture,
            symbol: e.symbol,
            timeframe: e.timeframe,
            outcome: e.outcome,
            failure: e.failedChecks.length ? e.failedChecks.join(',') : null,
            accuracy: e.accuracy,
            final_loss: e.finalLoss,
            sharpe: e.sharpe,
            deflated_sharpe: e.deflatedSharpe,
            // The DSR above is as computed when the experiment ended, among this many trials of its family then.
            dsr_trials: e.dsrTrials,
            design_failure: e.designFailure?.detail ?? null,
            win_rate: e.winRate,
            score: e.score,
            hypothesis: e.hypothesisId,
            parent: e.parentExperimentId,
          })),
          next_offset: experiments.length === limit ? offset + limit : null,
        },
      };
    },
  });
}

/** What get_recent_strategies returns at most: entries, and characters of each text in one. */
const RECENT_STRATEGIES_MAX = 20;
const RECENT_TEXT_MAX = 300;

function designTools(context: ToolContext): ToolDefinition[] {
  const registryErrors = (name: string) => `Fix the problems above and call ${name} again.`;
  return [
    defineTool(context, {
      name: 'get_recent_strategies',
      description: 'The most recent finished research sessions, newest first: strategy, indicators, outcome, gate reason, key metrics.',
      input: z.object({ n: z.number().int().min(1).max(RECENT_STRATEGIES_MAX).optional() }).strict(),
      // Bounded whatever the rows hold (rows older than the strategy bounds may hold anything): at most
      // RECENT_STRATEGIES_MAX entries, each text shown to RECENT_TEXT_MAX characters.
      run: async (input) => ({
        ok: true,
        content: (await recentStrategies(context.db, Math.min(RECENT_STRATEGIES_MAX, input.n ?? context.config.settings.AGENT_RECENT_STRATEGIES_COUNT))).map(
          (r) => ({
            ...r,
            strategyName: clipped(r.strategyName, RECENT_TEXT_MAX),
            hypothesis: clipped(r.hypothesis, RECENT_TEXT_MAX),
            failureReason: clipped(r.failureReason, RECENT_TEXT_MAX),
            indicators: r.indicators.slice(0, 12).map((i) => clipped(i, 80)),
          }),
        ),
      }),
    }),
    queryExperimentsTool(context),
    defineTool(context, {
      name: 'get_available_indicators',
      description: 'Indicator types KTRDR can compute, with parameter names and, for bounded indicators, their value range.',
      input: z.object({}).strict(),
      run: async () => ({ ok: true, content: boundedIndicatorSummary() }),
    }),
    defineTool(context, {
      name: 'get_available_symbols',
      description: 'Symbols with data in KTRDR and their timeframes.',
      input: z.object({}).strict(),
      run: async (_input, _session, ktrdr) => {
        const symbols = await ktrdr.listSymbols();
        return { ok: true, content: symbols.map((s) => ({ symbol: s.symbol, timeframes: s.available_timeframes ?? [] })) };
      },
    }),
    defineTool(context, {
      name: 'validate_strategy',
      description: 'Validate a v3 strategy (as a JSON object) with the same rules KTRDR trains by, plus range checks. Returns every problem by path.',
      input: z.object({ config: z.record(z.string(), z.unknown()) }).strict(),
      run: async (input) => {
        const tooLarge = strategySizeProblem(input.config);
        if (tooLarge) return { ok: false, error: tooLarge };
        const result = validateStrategy(input.config);
        if (!result.valid) return { ok: false, error: `${formatFindings(result.findings)}\n${registryErrors('validate_strategy')}` };
        return { ok: true, content: { valid: true, warnings: result.findings.filter((f) => f.severity === 'warning') } };
      },
    }),
    defineTool(context, {
      name: 'save_strategy_config',
      effect: true,
      description:
        "Validate and save the strategy into the strategies directory KTRDR reads. `name` must match ^[A-Za-z0-9][A-Za-z0-9_-]*$ and equal config.name. A name already used by a different strategy is refused. When this cycle explores, a near-copy of an earlier experiment is refused; `declines_directive` states why you do not follow the cycle's directive (recorded, never an error).",
      input: z
        .object({
          name: z.string().min(1).max(100),
          config: z.record(z.string(), z.unknown()),
          description: z.string().max(2000).optional(),
          tests_hypothesis: z.union([z.number().int().positive(), z.literal('exploration')]).optional(),
          parent_experiment: z.number().int().positive().optional(),
          training_window: z.object({ start_date: isoDate, end_date: isoDate }).strict().optional(),
          declines_directive: z.string().min(1).max(500).optional(),
        })
        .strict(),
      run: async (input, session, ktrdr) => {
        if (session.phase !== 'designing') return { ok: false, error: `save_strategy_config is only allowed while designing (phase is ${session.phase})` };
        const config = { ...input.config, ...(input.description && !input.config.description ? { description: input.description } : {}) };
        const tooLarge = strategySizeProblem(config);
        if (tooLarge) return { ok: false, error: tooLarge };
        const result = validateStrategy(config, { expectedName: input.name, nameMismatch: 'error' });
        if (!result.valid) return { ok: false, error: `strategy not saved:\n${formatFindings(result.findings)}\n${registryErrors('save_strategy_config')}` };
        const hypothesisId = typeof input.tests_hypothesis === 'number' ? input.tests_hypothesis : null;
        const hypothesis = hypothesisId === null ? null : await findHypothesis(context.db, hypothesisId);
        if (hypothesisId !== null && (!hypothesis || hypothesis.retiredAt)) {
          return { ok: false, error: `tests_hypothesis #${hypothesisId} is not an open hypothesis; ${await validHypothesisIds(context)}` };
        }
        if (input.parent_experiment !== undefined && !(await findExperiment(context.db, input.parent_experiment))) {
          return { ok: false, error: `parent_experiment #${input.parent_experiment} does not exist; ${await validExperimentIds(context)}` };
        }
        // A design already run on the same symbol and timeframe (and window, when one is given) is a known answer.
        const features = strategyFeatures(config);
        const fingerprint = strategyFingerprint(config);
        const runs = await earlierRunsOfDesign(context.db, { fingerprint, symbol: features.symbol, timeframe: features.timeframe });
        const window = input.training_window;
        const duplicate = window ? runs.find((e) => sameWindow(e.trainingWindow, window)) : runs[0];
        if (duplicate) {
          return {
            ok: false,
            error: `strategy not saved: this design (fingerprint ${fingerprint.slice(0, 12)}) was already run: ${describeRun(duplicate)}. Change what it computes (indicators, parameters, fuzzy sets, model, labels), or${window ? ' choose a training_window not run yet' : ' give a training_window not run yet'}; renaming it does not make it new.`,
          };
        }
        // The same design in flight in another session: refused before anything is written (and again, race-free, below).
        const claim: DesignClaim = {
          fingerprint,
          symbol: features.symbol,
          timeframe: features.timeframe,
          window: window ? { startDate: window.start_date, endDate: window.end_date } : null,
        };
        const inFlight = await liveHolder(context.db, session.id, claim);
        if (inFlight) return { ok: false, error: `strategy not saved: ${describeClaimRefusal(inFlight, claim)}` };
        const refusal = await searchRefusal(context.db, session.id, config, {
          tolerance: context.config.settings.AGENT_NEAR_DUPLICATE_TOLERANCE,
          declined: input.declines_directive,
        });
        if (refusal) return { ok: false, error: refusal };
        let saved;
        try {
          saved = await context.strategies.save(input.name, config);
        } catch (error) {
          // A directory that cannot take the file is the world's fault: more paid turns retrying the save cannot help.
          const fault = strategiesDirFaultOf(context.strategies.directory, error);
          if (fault) throw new InfrastructureFaultError(fault.faultClass, fault.cause);
          if (error instanceof StrategyStoreError) return { ok: false, error: `strategy not saved: ${error.message}` };
          throw error;
        }
        const ktrdrCheck = await ktrdr.validateStrategy(input.name).then(
          (r) => ({ valid: r.valid, issues: r.issues ?? [] }),
          (error: unknown) => ({ valid: null, issues: [], note: `KTRDR validation unavailable: ${(error as Error).message}` }),
        );
        if (ktrdrCheck.valid === false) {
          // Only a strategy KTRDR accepts becomes the session's: start_training cannot pick up a rejected one.
          if (saved.written) rmSync(saved.path, { force: true });
          const problems = ktrdrCheck.issues
            .filter((i) => i.severity === 'error')
            .map((i) => `- ${i.message}`)
            .join('\n');
          return { ok: false, error: `KTRDR rejected the strategy (not saved):\n${problems}\nFix it and save again.`, kind: 'ktrdr_rejected' };
        }
        const holder = await inTransaction(context.db, async (trx) => {
          const taken = await claimDesign(trx, session.id, claim, context.now());
          if (taken) return taken;
          await updateSession(trx, session.id, { strategyName: input.name, strategyConfig: config, strategyFilePath: saved.path }, context.now());
          await recordLineage(trx, session.id, {
            model: session.designer === 'claude' ? phaseModel(context.config.settings, 'design') : null,
            testsHypothesisId: hypothesisId,
            exploration: input.tests_hypothesis === 'exploration',
            parentExperimentId: input.parent_experiment ?? null,
          });
          if (hypothesis && hypothesis.status === 'untested') {
            await setHypothesisStatus(trx, hypothesis.id, {
              status: 'testing',
              evidence: `session #${session.id} designs ${input.name} to test it`,
              experimentId: null,
              via: 'save_strategy_config',
              now: context.now(),
            });
          }
          return null;
        });
        if (holder) {
          // Lost the race to a session that saved the same design meanwhile: this file is not this session's.
          if (saved.written) rmSync(saved.path, { force: true });
          return { ok: false, error: `strategy not saved: ${describeClaimRefusal(holder, claim)}` };
        }
        return {
          ok: true,
          content: {
            saved: input.name,
            fingerprint,
            tests_hypothesis: input.tests_hypothesis ?? null,
            parent_experiment: input.parent_experiment ?? null,
            path: saved.path,
            warnings: result.findings.filter((f) => f.severity === 'warning').map((f) => `${f.path}: ${f.message}`),
            ktrdr_validation: ktrdrCheck,
          },
        };
      },
    }),
    defineTool(context, {
      name: 'start_training',
      effect: true,
      description:
        "Start training the saved strategy in KTRDR. Choose a training window that leaves later data for an out-of-sample backtest, inside the search period: a window reaching into a symbol's lockbox (its most recent data, held back for promotion) is refused. The session moves to TRAINING.",
      input: z
        .object({
          strategy_name: z.string().min(1).max(100),
          start_date: isoDate,
          end_date: isoDate,
          symbols: z.array(z.string().min(1).max(40)).min(1).max(10).optional(),
          timeframes: z.array(z.string().min(1).max(20)).min(1).max(5).optional(),
        })
        .strict(),
      run: async (input, session, ktrdr) => {
        if (session.phase !== 'designing') return { ok: false, error: `start_training is only allowed while designing (phase is ${session.phase})` };
        if (session.strategyName !== input.strategy_name) {
          return {
            ok: false,
            error: session.strategyName
              ? `strategy_name must be the strategy saved in this session: '${session.strategyName}'`
              : 'save the strategy with save_strategy_config first',
          };
        }
        if (input.start_date >= input.end_date) return { ok: false, error: 'start_date must be before end_date' };
        const today = utcDay(context.now());
        if (input.end_date > today) return { ok: false, error: `end_date ${input.end_date} is in the future (today is ${today})` };
        const trainingData = (session.strategyConfig?.training_data ?? {}) as {
          symbols?: { symbol?: string; list?: string[] };
          timeframes?: { timeframe?: string; list?: string[] };
        };
        const symbols = input.symbols ?? trainingData.symbols?.list ?? (trainingData.symbols?.symbol ? [trainingData.symbols.symbol] : []);
        const timeframes = input.timeframes ?? trainingData.timeframes?.list ?? (trainingData.timeframes?.timeframe ? [trainingData.timeframes.timeframe] : []);
        const uncovered = await coverageProblem(context.ktrdr, { symbols, timeframes, startDate: input.start_date, endDate: input.end_date });
        if (uncovered) return { ok: false, error: `training not started: ${uncovered}` };
        const lockboxHit = await lockboxRefusal(
          { db: context.db, ktrdr, months: context.config.settings.AGENT_LOCKBOX_MONTHS, now: context.now },
          { symbols, timeframes, startDate: input.start_date, endDate: input.end_date },
        );
        if (lockboxHit) return { ok: false, error: `training not started: ${lockboxHit}` };
        if (session.strategyConfig) {
          const runs = await earlierRunsOfDesign(context.db, {
            fingerprint: strategyFingerprint(session.strategyConfig),
            symbol: symbols[0] ?? null,
            timeframe: timeframes[0] ?? null,
          });
          const duplicate = runs.find((e) => sameWindow(e.trainingWindow, input));
          if (duplicate)
            return {
              ok: false,
              error: `this design was already trained on this window: ${describeRun(duplicate)}. Choose another window, or go back and change the design.`,
            };
          // The claim narrows to the window now chosen; another session running it on this window refuses the start.
          const claim: DesignClaim = {
            fingerprint: strategyFingerprint(session.strategyConfig),
            symbol: symbols[0] ?? null,
            timeframe: timeframes[0] ?? null,
            window: { startDate: input.start_date, endDate: input.end_date },
          };
          const holder = await inTransaction(context.db, (trx) => claimDesign(trx, session.id, claim, context.now()));
          if (holder) return { ok: false, error: `training not started: ${describeClaimRefusal(holder, claim)}` };
        }
        const response = await ktrdr.startTraining({
          strategyName: input.strategy_name,
          symbols,
          timeframes,
          startDate: input.start_date,
          endDate: input.end_date,
          taskId: trainingTaskId(await installationId(context.db), session.id, input.strategy_name),
        });
        const operationId = response.operationId;
        const foreign = await confirmStartOwnership(ktrdr, operationId, {
          kind: 'training',
          strategyName: input.strategy_name,
          symbols,
          timeframes,
          startDate: input.start_date,
          endDate: input.end_date,
          notBeforeMs: session.createdAt.getTime(),
        });
        if (foreign) return { ok: false, error: foreign };
        const recorded = await updateSession(
          context.db,
          session.id,
          {
            phase: 'training',
            trainingOperationId: operationId,
            trainingParams: { strategyName: input.strategy_name, symbols, timeframes, startDate: input.start_date, endDate: input.end_date },
          },
          context.now(),
        );
        if (!recorded) return abandon(context, operationId);
        return {
          ok: true,
          content: {
            operation_id: operationId,
            phase: 'training',
            message: 'Training started. The trigger will call you back when it completes and passes its gate.',
          },
        };
      },
    }),
  ];
}

function backtestTools(context: ToolContext): ToolDefinition[] {
  return [
    defineTool(context, {
      name: 'start_backtest',
      effect: true,
      description:
        "Backtest the trained model on data it was not trained on. The strategy and model come from the session. A window overlapping the training window on the same symbol, or reaching into the symbol's lockbox (its most recent data, held back for promotion), is refused.",
      input: z
        .object({
          start_date: isoDate,
          end_date: isoDate,
          symbol: z.string().min(1).max(40).optional(),
          timeframe: z.string().min(1).max(20).optional(),
        })
        .strict(),
      run: async (input, session, ktrdr) => {
        if (session.phase !== 'training')
          return { ok: false, error: `start_backtest is only allowed after training passed its gate (phase is ${session.phase})` };
        const training = session.trainingResults as { modelPath?: string | null } | null;
        const params = session.trainingParams;
        if (!training?.modelPath || !params || !session.strategyName) {
          return { ok: false, error: 'the session has no trained model (model_path) to backtest' };
        }
        if (session.trainingGate && !session.trainingGate.passed) return { ok: false, error: 'the training gate did not pass' };
        if (input.start_date >= input.end_date) return { ok: false, error: 'start_date must be before end_date' };
        const today = utcDay(context.now());
        if (input.end_date > today) return { ok: false, error: `end_date ${input.end_date} is in the future (today is ${today})` };
        const symbol = input.symbol ?? params.symbols[0];
        const timeframe = input.timeframe ?? params.timeframes[0];
        if (!symbol || !timeframe) return { ok: false, error: 'give symbol and timeframe: the training parameters name none' };
        if (params.symbols.includes(symbol) && windowsOverlap({ startDate: input.start_date, endDate: input.end_date }, params)) {
          return {
            ok: false,
            error: `the backtest window ${input.start_date}..${input.end_date} overlaps the training window ${params.startDate}..${params.endDate} on ${symbol}: backtest on data the model never saw (a later window, or another symbol)`,
          };
        }
        const uncovered = await coverageProblem(ktrdr, { symbols: [symbol], timeframes: [timeframe], startDate: input.start_date, endDate: input.end_date });
        if (uncovered) return { ok: false, error: `backtest not started: ${uncovered}` };
        const lockboxHit = await lockboxRefusal(
          { db: context.db, ktrdr, months: context.config.settings.AGENT_LOCKBOX_MONTHS, now: context.now },
          { symbols: [symbol], timeframes: [timeframe], startDate: input.start_date, endDate: input.end_date },
        );
        if (lockboxHit) return { ok: false, error: `backtest not started: ${lockboxHit}` };
        const response = await ktrdr.startBacktest({
          strategyName: session.strategyName,
          modelPath: training.modelPath,
          startDate: input.start_date,
          endDate: input.end_date,
          symbol,
          timeframe,
          // A backtest of this session's model started since the phase began is this session's: one an earlier
          // invocation started before it died, or whose start timed out and KTRDR carried out late, is adopted.
          adoptStartedSince: session.phaseStartedAt.getTime(),
        });
        const recorded = await updateSession(
          context.db,
          session.id,
          {
            phase: 'backtesting',
            backtestOperationId: response.operationId,
            backtestParams: { symbol, timeframe, startDate: input.start_date, endDate: input.end_date, modelPath: training.modelPath },
          },
          context.now(),
        );
        if (!recorded) return abandon(context, response.operationId);
        return { ok: true, content: { operation_id: response.operationId, phase: 'backtesting', message: 'Backtest started.' } };
      },
    }),
  ];
}

function assessTools(context: ToolContext): ToolDefinition[] {
  const listOfPoints = z.array(z.string().min(1).max(1000)).min(1).max(8);
  return [
    defineTool(context, {
      name: 'save_assessment',
      effect: true,
      description: 'Record your assessment of the strategy. This completes the research cycle.',
      input: z
        .object({
          verdict: z.enum(verdicts),
          explanation: z.string().min(10).max(8000),
          strengths: listOfPoints,
          weaknesses: listOfPoints,
          suggestions: listOfPoints,
          hypotheses_proposed: z
            .array(z.object({ text: z.string().min(10).max(HYPOTHESIS_TEXT_MAX), rationale: z.string().max(HYPOTHESIS_RATIONALE_MAX).optional() }).strict())
            .max(
              HYPOTHESES_PER_CALL_MAX,
              `propose at most ${HYPOTHESES_PER_CALL_MAX} hypotheses per assessment: keep the ones this result most directly suggests`,
            )
            .optional(),
          hypothesis_verdict: z
            .object({
              id: z.number().int().positive(),
              // An in-sample result supports or refutes; only a promotion (the lockbox) validates.
              status: z.enum(MODEL_VERDICT_STATUSES),
              evidence: z.string().min(10).max(HYPOTHESIS_EVIDENCE_MAX),
            })
            .strict()
            .optional(),
        })
        .strict(),
      run: async (input, session) => {
        if (session.phase !== 'assessing') return { ok: false, error: `save_assessment is only allowed while assessing (phase is ${session.phase})` };
        const { hypotheses_proposed: proposed, hypothesis_verdict: verdict, ...assessment } = input;
        let shownStatus: HypothesisStatus | null = null;
        if (verdict) {
          const hypothesis = await findHypothesis(context.db, verdict.id);
          if (!hypothesis || hypothesis.retiredAt)
            return { ok: false, error: `hypothesis_verdict names #${verdict.id}, which is not an open hypothesis; ${await validHypothesisIds(context)}` };
          shownStatus = (await statusVerdictWasMadeOn(context.db, session.id, verdict.id)) ?? hypothesis.status;
        }
        await completeAssessment(
          context.db,
          session.id,
          // The assessment is written by the assess phase's model (AGENT_MODEL_ASSESS), not the designer's.
          { ...assessment, author: session.designer === 'claude' ? phaseModel(context.config.settings, 'assess') : session.designer },
          context.now(),
          {
            proposed: (proposed ?? []).map((p) => ({ text: p.text, rationale: p.rationale ?? null })),
            verdict: verdict && shownStatus ? { ...verdict, shownStatus } : null,
            via: 'save_assessment',
          },
        );
        return {
          ok: true,
          content: {
            saved: true,
            outcome: 'success',
            hypotheses_proposed: proposed?.length ?? 0,
            hypothesis_verdict: verdict ? `#${verdict.id} ${verdict.status}` : null,
          },
        };
      },
    }),
  ];
}

/** The model sees only the tools of its current phase. */
export function toolsFor(purpose: InvocationPurpose, context: ToolContext): ToolDefinition[] {
  const phaseTools = purpose === 'design' ? designTools(context) : purpose === 'backtest' ? backtestTools(context) : assessTools(context);
  return [getAgentStateTool(context), ...phaseTools];
}
