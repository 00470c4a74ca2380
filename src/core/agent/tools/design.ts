import { rmSync } from 'node:fs';
import { z } from 'zod';
import { recentStrategies, updateSession } from '../../db/repositories/sessions.ts';
import { formatFindings, validateStrategy } from '../../strategy/validate.ts';
import { StrategyStoreError } from '../../strategy/store.ts';
import { InfrastructureFaultError } from '../../kernel/faults.ts';
import { strategiesDirFaultOf } from '../../strategy/dir-health.ts';
import { inTransaction } from '../../db/in-transaction.ts';
import {
  earlierRunsOfDesign,
  experimentMetrics,
  experimentSortKeys,
  findExperiment,
  queryExperiments,
  someExperimentIds,
  type Experiment,
} from '../../db/repositories/experiments.ts';
import { findHypothesis, setHypothesisStatus } from '../../db/repositories/hypotheses.ts';
import { recordLineage } from '../../db/repositories/sessions.ts';
import { sessionOutcomes } from '../../session/model.ts';
import { strategyFeatures, strategyFingerprint } from '../../research/fingerprint.ts';
import { claimDesign, describeClaimRefusal, liveHolder, type DesignClaim } from '../../db/repositories/design-claims.ts';
import { phaseModel } from '../../config/model-checks.ts';
import { boundedIndicatorSummary } from '../indicator-summary.ts';
import { clipped, strategySizeProblem } from '../model-text.ts';
import { searchRefusal } from '../search-directive.ts';
import type { ToolDefinition } from '../tool-dispatch.ts';
import { defineTool, isoDate, validHypothesisIds, type ToolContext } from './define.ts';

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

export const sameWindow = (a: { startDate: string; endDate: string } | null, b: { start_date: string; end_date: string }) =>
  a !== null && a.startDate === b.start_date && a.endDate === b.end_date;

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

/** Designing a strategy: what was tried, what KTRDR offers, validating and saving a design (start_training is in start.ts). */
export function designTools(context: ToolContext): ToolDefinition[] {
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
  ];
}
