// The read models behind `experiments`, `experiments show`, `hypotheses` and `hypotheses show`, and the best
// experiment on `status`: plain projections of the research memory's repositories.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import type { HypothesisStatus, SessionOutcome } from '../../session/model.ts';
import {
  bestExperiment,
  childrenOf,
  countExperiments,
  findExperiment,
  queryExperiments,
  type Experiment,
  type ExperimentSortKey,
} from '../../db/repositories/experiments.ts';
import { findHypothesis, hypothesisEvents, listHypotheses, type Hypothesis } from '../../db/repositories/hypotheses.ts';
import { deflatedSharpesNow, type DeflatedSharpeNow } from '../../db/read-models/trials.ts';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import { promotedExperiments, withPromotions } from './promotion-view.ts';
import type { ExperimentDetailView, ExperimentSummary, ExperimentsView, HypothesesView, HypothesisDetailView, HypothesisEntry } from './schemas.ts';
import { loadSessionSearchView } from './search-view.ts';

type Db = Kysely<Database>;

/** Summaries with their DSR over the family's trials now (one grouped query for the families on the page). */
export async function experimentSummariesNow(db: Db, experiments: Experiment[]): Promise<ExperimentSummary[]> {
  const now = await deflatedSharpesNow(db, experiments);
  return experiments.map((e) => experimentSummary(e, now.get(e.id) ?? null));
}

export function experimentSummary(e: Experiment, dsrNow: DeflatedSharpeNow | null = null): ExperimentSummary {
  return {
    id: e.id,
    sessionId: e.sessionId,
    strategyName: e.strategyName,
    outcome: e.outcome,
    designer: e.designer,
    model: e.model,
    indicators: e.indicatorTypes,
    labelSource: e.labelSource,
    labelThreshold: e.labelThreshold,
    architecture: e.architecture,
    symbol: e.symbol,
    timeframe: e.timeframe,
    trainingWindow: e.trainingWindow,
    backtestWindow: e.backtestWindow,
    gateFailed: e.gateFailed === 'training' || e.gateFailed === 'backtest' ? e.gateFailed : null,
    failedChecks: e.failedChecks,
    accuracy: e.accuracy,
    finalLoss: e.finalLoss,
    sharpe: e.sharpe,
    winRate: e.winRate,
    maxDrawdown: e.maxDrawdown,
    totalTrades: e.totalTrades,
    deflatedSharpe: e.deflatedSharpe,
    dsrTrials: e.dsrTrials,
    dsrNow,
    score: e.score,
    verdict: e.verdict === 'promising' || e.verdict === 'neutral' || e.verdict === 'poor' ? e.verdict : null,
    hypothesisId: e.hypothesisId,
    exploration: e.exploration,
    parentExperimentId: e.parentExperimentId,
    fingerprint: e.fingerprint,
    costUsd: e.costUsd,
    completedAt: e.completedAt.toISOString(),
  };
}

export interface ExperimentsOptions {
  now: Date;
  outcomes: SessionOutcome[] | null;
  indicators: string[] | null;
  symbol: string | null;
  sort: ExperimentSortKey;
  limit: number;
  /** Only promoted strategies (`--promoted`), newest first; the other filters do not apply. */
  promoted?: boolean;
}

export async function loadExperimentsView(db: Db, options: ExperimentsOptions): Promise<ExperimentsView> {
  const [page, total] = await Promise.all([
    options.promoted
      ? promotedExperiments(db, options.limit).then((experiments) => ({ experiments }))
      : queryExperiments(db, { outcomes: options.outcomes, indicators: options.indicators, symbol: options.symbol, sort: options.sort, limit: options.limit }),
    countExperiments(db),
  ]);
  return {
    generatedAt: options.now.toISOString(),
    filters: { outcomes: options.outcomes, indicators: options.indicators, symbol: options.symbol, sort: options.sort, limit: options.limit },
    total,
    experiments: await withPromotions(db, await experimentSummariesNow(db, page.experiments)),
  };
}

export async function loadExperimentDetail(db: Db, id: number, now: Date): Promise<ExperimentDetailView | null> {
  const experiment = await findExperiment(db, id);
  if (!experiment) return null;
  const [parent, children, hypothesis, search] = await Promise.all([
    experiment.parentExperimentId === null ? null : findExperiment(db, experiment.parentExperimentId),
    childrenOf(db, id),
    experiment.hypothesisId === null ? null : findHypothesis(db, experiment.hypothesisId),
    loadSessionSearchView(db, experiment.sessionId),
  ]);
  const verdict = experimentSummary(experiment).verdict;
  const summaries = await experimentSummariesNow(db, [experiment, ...children, ...(parent ? [parent] : [])]);
  const summary = summaries[0]!;
  const childSummaries = summaries.slice(1, 1 + children.length);
  return {
    generatedAt: now.toISOString(),
    experiment: {
      ...(await withPromotions(db, [summary]))[0]!,
      failureReason: experiment.failureReason,
      designFailure: experiment.designFailure,
      strategy: experiment.strategy,
      trainingGate: experiment.trainingGate,
      backtestGate: experiment.backtestGate,
      trainingMetrics: experiment.trainingMetrics,
      backtestMetrics: experiment.backtestMetrics,
      assessment: experiment.assessment && verdict ? { verdict, explanation: experiment.assessment.explanation } : null,
      tokensInput: experiment.tokensInput,
      tokensOutput: experiment.tokensOutput,
    },
    parent: parent ? summaries.at(-1)! : null,
    children: childSummaries,
    hypothesis: hypothesis ? { id: hypothesis.id, text: hypothesis.text, status: hypothesis.status } : null,
    search,
  };
}

export function hypothesisEntry(h: Hypothesis): HypothesisEntry {
  return {
    id: h.id,
    text: h.text,
    rationale: h.rationale,
    status: h.status,
    retired: h.retiredAt !== null,
    source: h.source,
    proposedByExperimentId: h.proposedByExperimentId,
    createdAt: h.createdAt.toISOString(),
    updatedAt: h.updatedAt.toISOString(),
  };
}

export async function loadHypothesesView(
  db: Db,
  options: { now: Date; statuses: HypothesisStatus[] | null; includeRetired: boolean },
): Promise<HypothesesView> {
  const hypotheses = await listHypotheses(db, { statuses: options.statuses, includeRetired: options.includeRetired, limit: 1000 });
  return {
    generatedAt: options.now.toISOString(),
    filters: { statuses: options.statuses, includeRetired: options.includeRetired },
    hypotheses: hypotheses.map(hypothesisEntry),
  };
}

export async function loadHypothesisDetail(db: Db, id: number, now: Date): Promise<HypothesisDetailView | null> {
  const hypothesis = await findHypothesis(db, id);
  if (!hypothesis) return null;
  const [events, tested] = await Promise.all([hypothesisEvents(db, id), queryExperiments(db, { hypothesisId: id, sort: 'completed_at', limit: 100 })]);
  return {
    generatedAt: now.toISOString(),
    hypothesis: hypothesisEntry(hypothesis),
    events: events.map((e) => ({ ...e, at: e.at.toISOString() })),
    experiments: await experimentSummariesNow(db, tested.experiments),
  };
}

export async function loadBestExperiment(db: Db): Promise<ExperimentSummary | null> {
  const best = await bestExperiment(db);
  return best ? (await experimentSummariesNow(db, [best]))[0]! : null;
}

/** `42`, `#42`, or for hypotheses `H42`: a positive id, or an error that says how to write one. */
export function parseResearchId(text: string, kind: 'experiment' | 'hypothesis'): number {
  const trimmed = text.trim().replace(kind === 'hypothesis' ? /^(#|H)/i : /^#/, '');
  if (!/^\d{1,9}$/.test(trimmed) || Number(trimmed) === 0) {
    const list = kind === 'experiment' ? '`ktrdr-agent experiments`' : '`ktrdr-agent hypotheses`';
    throw new AgentError(`Invalid ${kind} id '${text}': give the number ${list} shows, e.g. 42.`, ExitCode.Error, `invalid_${kind}_id`);
  }
  return Number(trimmed);
}
