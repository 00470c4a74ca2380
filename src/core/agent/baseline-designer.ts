import { createHash } from 'node:crypto';
import { recentStrategies, findSession } from '../db/repositories/sessions.ts';
import { installationId } from '../db/installation.ts';
import { InfrastructureFaultError, isInfrastructureFault } from '../kernel/faults.ts';
import { BOUNDED_INDICATORS, type BoundedIndicatorFact } from '../strategy/bounded-indicators.ts';
import type { Designer, DesignerKind, InvocationReport, InvocationRequest } from './designer.ts';
import { toolsFor, type ToolContext, type ToolDefinition } from './tools.ts';
import { operatorStop } from './operator-control.ts';
import { directiveInForce } from './search-directive.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { searchPeriodEndOf } from './lockbox-boundary.ts';
import { ktrdrFaultForDecision } from '../ktrdr/errors.ts';
import { IN_FLIGHT_REFUSAL } from '../db/repositories/design-claims.ts';

/**
 * The control arm: designs valid, varied v3 strategies from the bounded-indicator table with no LLM and no cost,
 * avoids the indicator pairs tried recently, trains and backtests on windows that never overlap, and writes an
 * assessment derived from the metrics. Everything it writes is labelled as baseline.
 */
export class BaselineDesigner implements Designer {
  readonly kind: DesignerKind = 'baseline';
  private readonly context: (sessionId: number) => ToolContext;

  constructor(context: (sessionId: number) => ToolContext) {
    this.context = context;
  }

  async invoke(request: InvocationRequest): Promise<InvocationReport> {
    const context = this.context(request.sessionId);
    const tools = toolsFor(request.purpose, context);
    const call = async (name: string, input: unknown) => {
      const tool = tools.find((t: ToolDefinition) => t.name === name);
      if (!tool) throw new Error(`baseline: no tool ${name} in phase ${request.purpose}`);
      const outcome = await tool.run(input);
      if (!outcome.ok) throw outcome.fault ? new InfrastructureFaultError(outcome.fault.faultClass, outcome.fault.cause) : new Error(outcome.error);
      return outcome.content;
    };
    try {
      if (request.purpose === 'design') await this.design(context, call);
      else if (request.purpose === 'backtest') await this.backtest(context, call);
      else await this.assess(context, call);
      return { status: 'completed', reason: `${this.kind} designer finished`, lastText: '', costUsd: 0 };
    } catch (error) {
      if (isInfrastructureFault(error)) return { status: 'infrastructure_fault', reason: error.fault.cause, lastText: '', costUsd: 0, fault: error.fault };
      // A tool refused because an operator paused the agent or ended the session: not the design's failure.
      const stopped = await operatorStop(context.db, request.sessionId);
      if (stopped !== null) return { status: 'operator_stopped', reason: stopped, lastText: '', costUsd: 0 };
      return { status: context.ktrdrUnreachable ? 'ktrdr_unreachable' : 'error', reason: (error as Error).message, lastText: '', costUsd: 0 };
    }
  }

  protected async design(context: ToolContext, call: ToolCall): Promise<void> {
    const recent = await recentStrategies(context.db, 20);
    const tried = new Set(
      recent.map((r) =>
        r.indicators
          .map((i) => i.split(':')[1])
          .sort()
          .join('+'),
      ),
    );
    const symbols = (await call('get_available_symbols', {})) as { symbol: string; timeframes: string[] }[];
    const withHourly = symbols.filter((s) => s.timeframes.includes('1h'));
    const pool = withHourly.length > 0 ? withHourly : symbols;
    const seed = hash(`${context.sessionId}`);
    // The cycle's directive (a region drawn uniformly for the random control) leads; the rest keep the random order.
    const region = (await directiveInForce(context.db, context.sessionId))?.search.directive.region ?? null;
    const pairs = candidatePairs();
    const rotated = pairs.map((_, index) => pairs[(index + seed) % pairs.length]!);
    const order = [...rotated.filter((pair) => pairKey(pair) === region?.indicators), ...rotated.filter((pair) => pairKey(pair) !== region?.indicators)];
    const untried = order.filter((candidate) => !tried.has(pairKey(candidate)) || pairKey(candidate) === region?.indicators);
    const symbolInfo = pool.find((entry) => entry.symbol === region?.symbol) ?? pool[seed % Math.max(1, pool.length)];
    const symbol = symbolInfo?.symbol ?? 'EURUSD';
    const timeframe = symbolInfo?.timeframes.includes('1h') ? '1h' : (symbolInfo?.timeframes[0] ?? '1h');
    // The research memory refuses a design already run; the random arm then simply draws the next pair.
    // The installation id keeps a recreated database's session N from reusing another run's strategy (and model) name.
    const installation = await installationId(context.db);
    const window = trainingWindow(await availableRange(context, symbol, timeframe));
    for (const pair of [...untried, ...order].slice(0, 8)) {
      const name = `baseline_${pair.map((f) => f.type).join('_')}_${installation}_s${context.sessionId}`;
      const config = buildStrategy(name, pair, symbol, timeframe, seed);
      try {
        await call('save_strategy_config', { name, config, tests_hypothesis: 'exploration', training_window: window });
      } catch (error) {
        // Already run, nearly copied while exploring, or running now in another session (the design claim): the next pair is as good a draw.
        if (isRefusedAsKnown(error)) continue;
        throw error;
      }
      await startTraining(call, name, window);
      return;
    }
    throw new Error('baseline: every candidate design was already run');
  }

  protected async backtest(context: ToolContext, call: ToolCall): Promise<void> {
    const session = await findSession(context.db, context.sessionId);
    const params = session?.trainingParams;
    if (!params) throw new Error('baseline: the session has no training parameters');
    const start = new Date(`${params.endDate}T00:00:00Z`);
    start.setUTCDate(start.getUTCDate() + 1);
    const end = shiftYears(start, 1);
    const available = await availableRange(context, params.symbols[0] ?? 'EURUSD', params.timeframes[0] ?? '1h');
    await call('start_backtest', { start_date: utcDay(start), end_date: utcDay(end < available.end ? end : available.end) });
  }

  protected async assess(context: ToolContext, call: ToolCall): Promise<void> {
    const session = await findSession(context.db, context.sessionId);
    const training = (session?.trainingResults ?? {}) as { accuracy?: number | null; lossReduction?: number | null };
    const backtest = (session?.backtestResults ?? {}) as {
      sharpe?: number | null;
      winRate?: number | null;
      maxDrawdown?: number | null;
      totalTrades?: number | null;
    };
    const sharpe = backtest.sharpe ?? 0;
    const drawdown = backtest.maxDrawdown ?? 1;
    const trades = backtest.totalTrades ?? 0;
    const bars = (backtest as { bars?: number | null }).bars;
    const verdict = sharpe > 1 && drawdown < 0.2 && trades > 50 ? 'promising' : sharpe < 0 || drawdown > 0.3 || trades < 20 ? 'poor' : 'neutral';
    const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
    await call('save_assessment', {
      verdict,
      explanation: `[baseline] Metric-derived assessment (no LLM). Sharpe ${sharpe.toFixed(2)}, win rate ${pct(backtest.winRate)}, max drawdown ${pct(backtest.maxDrawdown)}, ${trades} trades over ${bars ?? 'an unreported number of'} bars; test accuracy ${pct(training.accuracy)}, loss reduction ${pct(training.lossReduction)}.`,
      strengths: [sharpe > 0 ? `[baseline] positive risk-adjusted return (Sharpe ${sharpe.toFixed(2)})` : '[baseline] passed both quality gates'],
      weaknesses: [
        drawdown > 0.2
          ? `[baseline] drawdown ${pct(drawdown)} is high`
          : trades < 50
            ? `[baseline] only ${trades} trades: weak statistical evidence`
            : '[baseline] single symbol and timeframe tested',
      ],
      suggestions: ['[baseline] test the same indicator pair on another symbol out of sample'],
    });
  }
}

export type ToolCall = (name: string, input: unknown) => Promise<unknown>;

/** A save refused because the design was already run, or nearly copies one while the cycle explores: try the next. */
export function isRefusedAsKnown(error: unknown): boolean {
  const message = (error as Error).message;
  return message.includes('already run') || message.includes('near-copy') || message.includes(IN_FLIGHT_REFUSAL);
}
export interface TrainingWindow {
  start_date: string;
  end_date: string;
}

/**
 * The search period: the days KTRDR has data for (`/data/range`), ending yesterday at the latest and before the
 * symbol's lockbox (which no designer may touch); a window outside the data would fail the training or silently
 * shorten the backtest. Without a data range, the last ten years before the lockbox.
 */
export async function availableRange(context: ToolContext, symbol: string, timeframe: string): Promise<{ start: Date; end: Date }> {
  const yesterday = shiftDays(context.now(), -1);
  const lockboxEnd = await searchPeriodEndOf(
    { db: context.db, ktrdr: context.ktrdr, months: context.config.settings.AGENT_LOCKBOX_MONTHS, now: context.now },
    symbol,
    timeframe,
  ).catch((error: unknown) => {
    // A window cannot be chosen without the boundary: a KTRDR that does not answer is a fault of the world.
    const fault = ktrdrFaultForDecision(error);
    if (fault) throw new InfrastructureFaultError(fault.faultClass, fault.cause);
    throw error;
  });
  const before = lockboxEnd ? new Date(`${lockboxEnd}T00:00:00Z`) : yesterday;
  const limit = before < yesterday ? before : yesterday;
  const range = await context.ktrdr.getDataRange(symbol, timeframe).catch(() => null);
  if (!range) return { start: shiftYears(limit, -10), end: limit };
  // Whole days inside the range: the first full day after its start, its last full day.
  const start = shiftDays(new Date(`${range.start_date.slice(0, 10)}T00:00:00Z`), 1);
  const last = shiftDays(new Date(`${range.end_date.slice(0, 10)}T00:00:00Z`), -1);
  return { start, end: last < limit ? last : limit };
}

/** Four years ending two years before the data ends (the two years left for the backtest), kept inside the data. */
export function trainingWindow(available: { start: Date; end: Date }): TrainingWindow {
  const end = shiftYears(available.end, -2);
  const start = shiftYears(available.end, -6);
  if (start >= available.start) return { start_date: utcDay(start), end_date: utcDay(end) };
  // Less than six years of data: train on the first two thirds, backtest on the rest.
  const span = available.end.getTime() - available.start.getTime();
  const cut = new Date(available.start.getTime() + Math.floor((span * 2) / 3 / 86_400_000) * 86_400_000);
  return { start_date: utcDay(available.start), end_date: utcDay(cut) };
}

export async function startTraining(call: ToolCall, name: string, window: TrainingWindow): Promise<void> {
  await call('start_training', { strategy_name: name, ...window });
}

export function hash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

export function pairKey(pair: BoundedIndicatorFact[]): string {
  return pair
    .map((f) => f.type)
    .sort()
    .join('+');
}

/** Two complementary bounded signals (different indicator types), never the same type twice. */
export function candidatePairs(): BoundedIndicatorFact[][] {
  const singles = BOUNDED_INDICATORS.filter((fact, index, all) => all.findIndex((f) => f.type === fact.type) === index);
  const pairs: BoundedIndicatorFact[][] = [];
  for (let i = 0; i < singles.length; i++) for (let j = i + 1; j < singles.length; j++) pairs.push([singles[i]!, singles[j]!]);
  return pairs;
}

export function buildStrategy(name: string, pair: BoundedIndicatorFact[], symbol: string, timeframe: string, seed: number): Record<string, unknown> {
  const indicators: Record<string, unknown> = {};
  const fuzzySets: Record<string, unknown> = {};
  const nnInputs: unknown[] = [];
  for (const fact of pair) {
    const id = `${fact.type}_${Object.values(fact.defaultParameters).find((v) => typeof v === 'number') ?? 'x'}`;
    indicators[id] = { type: fact.type, ...fact.defaultParameters };
    const setName = `${fact.type}_zones`;
    fuzzySets[setName] = {
      indicator: fact.output ? `${id}.${fact.output}` : id,
      ...Object.fromEntries(fact.zones.map((zone) => [zone.name, [...zone.triangle]])),
    };
    nnInputs.push({ fuzzy_set: setName, timeframes: 'all' });
  }
  const hidden = [
    [16, 8],
    [32, 16],
    [24, 12],
  ][seed % 3]!;
  return {
    name,
    version: '3.0',
    description: `[baseline] ${pair.map((f) => f.displayName).join(' + ')} on ${symbol} ${timeframe}`,
    hypothesis: `[baseline] ${pair[0]!.displayName} and ${pair[1]!.displayName} are complementary bounded signals whose fuzzy zones predict zigzag swings.`,
    training_data: {
      symbols: { mode: 'single', symbol },
      timeframes: { mode: 'single', timeframe },
      history_required: 200,
    },
    indicators,
    fuzzy_sets: fuzzySets,
    nn_inputs: nnInputs,
    model: { type: 'mlp', architecture: { hidden_layers: hidden, dropout: 0.2, activation: 'relu', output_activation: 'softmax' } },
    decisions: { output_format: 'classification', confidence_threshold: 0.6 },
    training: {
      epochs: 50,
      batch_size: 32,
      learning_rate: 0.001,
      labels: { source: 'zigzag', zigzag_threshold: [0.015, 0.02, 0.025][seed % 3], label_lookahead: 20 },
      data_split: { train: 0.7, validation: 0.15, test: 0.15 },
    },
  };
}

function shiftYears(date: Date, years: number): Date {
  const copy = new Date(date);
  copy.setUTCFullYear(copy.getUTCFullYear() + years);
  return copy;
}

function shiftDays(date: Date, days: number): Date {
  const copy = new Date(date);
  copy.setUTCDate(copy.getUTCDate() + days);
  return copy;
}
