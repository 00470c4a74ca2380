import { z } from 'zod';
import { updateSession } from '../../db/repositories/sessions.ts';
import { installationId } from '../../db/installation.ts';
import { earlierRunsOfDesign } from '../../db/repositories/experiments.ts';
import { claimDesign, describeClaimRefusal, type DesignClaim } from '../../db/repositories/design-claims.ts';
import { inTransaction } from '../../db/in-transaction.ts';
import { trainingTaskId } from '../../ktrdr/task-id.ts';
import { coverageProblem } from '../../ktrdr/coverage.ts';
import { strategyFingerprint } from '../../research/fingerprint.ts';
import { utcDay } from '../../kernel/utc-day.ts';
import { confirmStartOwnership } from './start-ownership.ts';
import { lockboxRefusal } from '../lockbox-boundary.ts';
import type { ToolDefinition, ToolOutcome } from '../tool-dispatch.ts';
import { defineTool, isoDate, type ToolContext } from './define.ts';
import { describeRun, sameWindow } from './design.ts';

/** Date windows [a1,a2] and [b1,b2] (inclusive days) share at least one day. */
function windowsOverlap(a: { startDate: string; endDate: string }, b: { startDate: string; endDate: string }): boolean {
  return a.startDate <= b.endDate && b.startDate <= a.endDate;
}

/** The session ended while the operation was being started (an operator's cancel): nobody would watch it. */
async function abandon(context: ToolContext, operationId: string): Promise<ToolOutcome> {
  await context.ktrdr.cancelOperation(operationId, { reason: 'the research session ended while it was starting' }).catch(() => undefined);
  return { ok: false, error: `the session ended while ${operationId} was starting; the operation was cancelled` };
}

/** Starts training the design saved in this session: the design phase's last tool. */
export function startTrainingTool(context: ToolContext): ToolDefinition {
  return defineTool(context, {
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
  });
}

export function backtestTools(context: ToolContext): ToolDefinition[] {
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
