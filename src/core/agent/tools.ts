import type { Kysely } from 'kysely';
import { rmSync } from 'node:fs';
import { z } from 'zod';
import type { AgentConfig } from '../config/load.ts';
import type { Database } from '../db/database-schema.ts';
import { recordAction } from '../db/repositories/activity.ts';
import { findSession, recentStrategies, updateSession, type Session } from '../db/repositories/sessions.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { KtrdrError } from '../ktrdr/errors.ts';
import { formatFindings, validateStrategy } from '../strategy/validate.ts';
import { StrategyStore, StrategyStoreError } from '../strategy/store.ts';
import { InfrastructureFaultError, isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';
import { strategiesDirFaultOf } from '../strategy/dir-health.ts';
import { boundedIndicatorSummary } from './indicator-summary.ts';
import { completeAssessment } from './effects.ts';
import type { InvocationPurpose } from '../engine/decide.ts';

export type ToolOutcome = { ok: true; content: unknown } | { ok: false; error: string; fault?: InfrastructureFault };

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  run(input: unknown): Promise<ToolOutcome>;
}

export interface ToolContext {
  db: Kysely<Database>;
  sessionId: number;
  ktrdr: KtrdrClient;
  strategies: StrategyStore;
  config: AgentConfig;
  now: () => Date;
  /** The current model turn and its tokens, for the action log. */
  turn: { index: number; tokensInput: number | null; tokensOutput: number | null };
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
  spec: { name: string; description: string; input: S; run: (input: z.output<S>, session: Session) => Promise<ToolOutcome> },
): ToolDefinition {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(spec.input, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    name: spec.name,
    description: spec.description,
    inputSchema,
    async run(raw: unknown): Promise<ToolOutcome> {
      const started = Date.now();
      const session = await currentSession(context);
      const parsed = spec.input.safeParse(raw ?? {});
      let outcome: ToolOutcome;
      if (!parsed.success) {
        outcome = { ok: false, error: `invalid input for ${spec.name}: ${describeZodError(parsed.error)}` };
      } else {
        try {
          outcome = await spec.run(parsed.data, session);
        } catch (error) {
          if (error instanceof KtrdrError && (error.kind === 'transport' || error.kind === 'timeout' || (error.status ?? 0) >= 500)) {
            context.ktrdrUnreachable = true;
          }
          outcome = isInfrastructureFault(error)
            ? { ok: false, error: `${spec.name} could not run: ${error.fault.cause}`, fault: error.fault }
            : { ok: false, error: `${spec.name} failed: ${(error as Error).message}` };
        }
      }
      await recordAction(context.db, {
        sessionId: context.sessionId,
        phase: session.phase,
        toolName: spec.name,
        args: raw ?? {},
        result: outcome.ok ? outcome.content : null,
        success: outcome.ok,
        errorMessage: outcome.ok ? null : outcome.error,
        durationMs: Date.now() - started,
        turn: context.turn.index,
        tokensInput: context.turn.tokensInput,
        tokensOutput: context.turn.tokensOutput,
        at: context.now(),
      });
      return outcome;
    },
  };
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

function trainingTaskId(sessionId: number, strategyName: string): string {
  // Deterministic per session and strategy, so a start retried after a crash finds the same KTRDR operation.
  return `op_training_agent_s${sessionId}_${strategyName}`.slice(0, 100);
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

function designTools(context: ToolContext): ToolDefinition[] {
  const registryErrors = (name: string) => `Fix the problems above and call ${name} again.`;
  return [
    defineTool(context, {
      name: 'get_recent_strategies',
      description: 'The most recent finished research sessions, newest first: strategy, indicators, outcome, gate reason, key metrics.',
      input: z.object({ n: z.number().int().min(1).max(50).optional() }).strict(),
      run: async (input) => ({ ok: true, content: await recentStrategies(context.db, input.n ?? context.config.settings.AGENT_RECENT_STRATEGIES_COUNT) }),
    }),
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
      run: async () => {
        const symbols = await context.ktrdr.listSymbols();
        return { ok: true, content: symbols.map((s) => ({ symbol: s.symbol, timeframes: s.available_timeframes ?? [] })) };
      },
    }),
    defineTool(context, {
      name: 'validate_strategy',
      description: 'Validate a v3 strategy (as a JSON object) with the same rules KTRDR trains by, plus range checks. Returns every problem by path.',
      input: z.object({ config: z.record(z.string(), z.unknown()) }).strict(),
      run: async (input) => {
        const result = validateStrategy(input.config);
        if (!result.valid) return { ok: false, error: `${formatFindings(result.findings)}\n${registryErrors('validate_strategy')}` };
        return { ok: true, content: { valid: true, warnings: result.findings.filter((f) => f.severity === 'warning') } };
      },
    }),
    defineTool(context, {
      name: 'save_strategy_config',
      description:
        'Validate and save the strategy into the strategies directory KTRDR reads. `name` must match ^[A-Za-z0-9][A-Za-z0-9_-]*$ and equal config.name. A name already used by a different strategy is refused.',
      input: z
        .object({
          name: z.string().min(1).max(100),
          config: z.record(z.string(), z.unknown()),
          description: z.string().max(2000).optional(),
        })
        .strict(),
      run: async (input, session) => {
        if (session.phase !== 'designing') return { ok: false, error: `save_strategy_config is only allowed while designing (phase is ${session.phase})` };
        const config = { ...input.config, ...(input.description && !input.config.description ? { description: input.description } : {}) };
        const result = validateStrategy(config, { expectedName: input.name, nameMismatch: 'error' });
        if (!result.valid) return { ok: false, error: `strategy not saved:\n${formatFindings(result.findings)}\n${registryErrors('save_strategy_config')}` };
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
        const ktrdrCheck = await context.ktrdr.validateStrategy(input.name).then(
          (r) => ({ valid: r.valid, issues: r.issues ?? [] }),
          (error: unknown) => ({ valid: null, issues: [], note: `KTRDR validation unavailable: ${(error as Error).message}` }),
        );
        if (ktrdrCheck.valid === false) {
          // Only a strategy KTRDR accepts becomes the session's: start_training cannot pick up a rejected one.
          if (saved.written) rmSync(saved.path, { force: true });
          const problems = ktrdrCheck.issues.filter((i) => i.severity === 'error').map((i) => `- ${i.message}`).join('\n');
          return { ok: false, error: `KTRDR rejected the strategy (not saved):\n${problems}\nFix it and save again.` };
        }
        await updateSession(
          context.db,
          session.id,
          { strategyName: input.name, strategyConfig: config, strategyFilePath: saved.path },
          context.now(),
        );
        return {
          ok: true,
          content: {
            saved: input.name,
            path: saved.path,
            warnings: result.findings.filter((f) => f.severity === 'warning').map((f) => `${f.path}: ${f.message}`),
            ktrdr_validation: ktrdrCheck,
          },
        };
      },
    }),
    defineTool(context, {
      name: 'start_training',
      description:
        'Start training the saved strategy in KTRDR. Choose a training window that leaves later data for an out-of-sample backtest. The session moves to TRAINING.',
      input: z
        .object({
          strategy_name: z.string().min(1),
          start_date: isoDate,
          end_date: isoDate,
          symbols: z.array(z.string().min(1)).min(1).max(10).optional(),
          timeframes: z.array(z.string().min(1)).min(1).max(5).optional(),
        })
        .strict(),
      run: async (input, session) => {
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
        const today = context.now().toISOString().slice(0, 10);
        if (input.end_date > today) return { ok: false, error: `end_date ${input.end_date} is in the future (today is ${today})` };
        const trainingData = (session.strategyConfig?.training_data ?? {}) as {
          symbols?: { symbol?: string; list?: string[] };
          timeframes?: { timeframe?: string; list?: string[] };
        };
        const symbols = input.symbols ?? trainingData.symbols?.list ?? (trainingData.symbols?.symbol ? [trainingData.symbols.symbol] : []);
        const timeframes = input.timeframes ?? trainingData.timeframes?.list ?? (trainingData.timeframes?.timeframe ? [trainingData.timeframes.timeframe] : []);
        const response = await context.ktrdr.startTraining({
          strategyName: input.strategy_name,
          symbols,
          timeframes,
          startDate: input.start_date,
          endDate: input.end_date,
          taskId: trainingTaskId(session.id, input.strategy_name),
        });
        const operationId = response.operationId;
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
          content: { operation_id: operationId, phase: 'training', message: 'Training started. The trigger will call you back when it completes and passes its gate.' },
        };
      },
    }),
  ];
}

function backtestTools(context: ToolContext): ToolDefinition[] {
  return [
    defineTool(context, {
      name: 'start_backtest',
      description:
        'Backtest the trained model on data it was not trained on. The strategy and model come from the session. A window overlapping the training window on the same symbol is refused.',
      input: z
        .object({
          start_date: isoDate,
          end_date: isoDate,
          symbol: z.string().min(1).optional(),
          timeframe: z.string().min(1).optional(),
        })
        .strict(),
      run: async (input, session) => {
        if (session.phase !== 'training') return { ok: false, error: `start_backtest is only allowed after training passed its gate (phase is ${session.phase})` };
        const training = session.trainingResults as { modelPath?: string | null } | null;
        const params = session.trainingParams;
        if (!training?.modelPath || !params || !session.strategyName) {
          return { ok: false, error: 'the session has no trained model (model_path) to backtest' };
        }
        if (session.trainingGate && !session.trainingGate.passed) return { ok: false, error: 'the training gate did not pass' };
        if (input.start_date >= input.end_date) return { ok: false, error: 'start_date must be before end_date' };
        const today = context.now().toISOString().slice(0, 10);
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
        const response = await context.ktrdr.startBacktest({
          strategyName: session.strategyName,
          modelPath: training.modelPath,
          startDate: input.start_date,
          endDate: input.end_date,
          symbol,
          timeframe,
          // A retried invocation (the first died with its process) adopts the backtest the first one may have started.
          ...(session.invocationAttempts > 1 ? { adoptStartedSince: session.phaseStartedAt.getTime() } : {}),
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
      description: 'Record your assessment of the strategy. This completes the research cycle.',
      input: z
        .object({
          verdict: z.enum(['promising', 'neutral', 'poor']),
          explanation: z.string().min(10).max(8000),
          strengths: listOfPoints,
          weaknesses: listOfPoints,
          suggestions: listOfPoints,
        })
        .strict(),
      run: async (input, session) => {
        if (session.phase !== 'assessing') return { ok: false, error: `save_assessment is only allowed while assessing (phase is ${session.phase})` };
        await completeAssessment(context.db, session.id, { ...input, author: session.designer === 'baseline' ? 'baseline' : context.config.settings.AGENT_MODEL }, context.now());
        return { ok: true, content: { saved: true, outcome: 'success' } };
      },
    }),
  ];
}

/** The model sees only the tools of its current phase. */
export function toolsFor(purpose: InvocationPurpose, context: ToolContext): ToolDefinition[] {
  const phaseTools = purpose === 'design' ? designTools(context) : purpose === 'backtest' ? backtestTools(context) : assessTools(context);
  return [getAgentStateTool(context), ...phaseTools];
}
