import { batchWaitOf } from '../../agent/message-batch.ts';
import { findOpenBatch } from '../../db/repositories/message-batches.ts';
import { sessionActionRows } from '../../db/repositories/actions.ts';
// The read model behind `session <id>`: one session by primary key, its actions through idx_actions_session
// (bounded; tool results, which can be large, are not read), and the action count from the same index.
import { findExperimentOfSession } from '../../db/repositories/experiments.ts';
import { experimentSummariesNow } from './research-view.ts';
import type { Kysely } from 'kysely';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import type { Database } from '../../db/database-schema.ts';
import { estimatedSpendUsd } from '../../db/repositories/budget-reservations.ts';
import { shownUsd } from '../../budget/money.ts';
import { findSession, type Session } from '../../db/repositories/sessions.ts';
import { fromJson, toDate, toNumber } from '../../db/values.ts';
import type { SessionAction, SessionView, StrategySummary } from './schemas.ts';
import { loadSessionSearchView } from './search-view.ts';
import { assessmentOf, backtestFigures, currentInvocation, currentOperation, gateEvaluation, secondsBetween, trainingFigures } from './session-facts.ts';

type Db = Kysely<Database>;

// Session ids are PostgreSQL INT (SERIAL): anything larger cannot exist.
export const MAX_SESSION_ID = 2_147_483_647;

export function parseSessionId(text: string): number {
  const trimmed = text.trim().replace(/^#/, '');
  if (!/^\d+$/.test(trimmed) || Number(trimmed) === 0) {
    throw new AgentError(
      `Invalid session id '${text}': give the number shown by \`ktrdr-agent status\` or \`history\`, e.g. \`ktrdr-agent session 42\`.`,
      ExitCode.Error,
      'invalid_session_id',
    );
  }
  return Number(trimmed);
}

export interface SessionViewOptions {
  now: Date;
  /** At most this many actions, oldest first. */
  actionLimit: number;
  stallAfterSeconds: number;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** The parts of a v3 strategy config a person needs to know what was tried. */
export function strategySummary(session: Session): StrategySummary | null {
  const config = session.strategyConfig;
  if (!config && !session.strategyName) return null;
  const indicators =
    config?.indicators && typeof config.indicators === 'object' && !Array.isArray(config.indicators)
      ? Object.entries(config.indicators as Record<string, unknown>).map(([id, value]) => {
          const type = value && typeof value === 'object' ? (value as { type?: unknown }).type : undefined;
          return { id, type: typeof type === 'string' ? type : null };
        })
      : [];
  const trainingData = config?.training_data && typeof config.training_data === 'object' ? (config.training_data as Record<string, unknown>) : {};
  const symbolsOf = (value: unknown): string[] => {
    if (Array.isArray(value)) return stringList(value);
    // v3 also allows { mode, symbols: [...] } / { mode, list: [...] }.
    if (value && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      return stringList(object.symbols ?? object.list);
    }
    return typeof value === 'string' ? [value] : [];
  };
  return {
    name: optionalText(config?.name) ?? session.strategyName,
    hypothesis: optionalText(config?.hypothesis),
    description: optionalText(config?.description),
    indicators,
    symbols: symbolsOf(trainingData.symbols).length > 0 ? symbolsOf(trainingData.symbols) : (session.trainingParams?.symbols ?? []),
    timeframes: symbolsOf(trainingData.timeframes).length > 0 ? symbolsOf(trainingData.timeframes) : (session.trainingParams?.timeframes ?? []),
    filePath: session.strategyFilePath,
  };
}

async function loadActions(db: Db, sessionId: number, limit: number): Promise<{ total: number; items: SessionAction[] }> {
  const { rows, total } = await sessionActionRows(db, sessionId, limit);
  return {
    total,
    items: rows.map((row) => ({
      id: toNumber(row.id),
      at: toDate(row.action_at).toISOString(),
      phase: row.phase,
      toolName: row.tool_name,
      args: fromJson(row.tool_args),
      success: row.success,
      errorMessage: row.error_message,
      durationMs: row.duration_ms,
      turn: row.turn,
      tokensInput: row.tokens_input,
      tokensOutput: row.tokens_output,
    })),
  };
}

/** The session's timeline: each phase it entered, when, and for how long (the current phase up to now). */
function phaseSpans(session: Session, now: Date): SessionView['phases'] {
  const history = session.phaseHistory.filter((change) => !Number.isNaN(Date.parse(change.at)));
  return history.map((change, index) => {
    const at = new Date(change.at);
    const next = history[index + 1];
    const end = next ? new Date(next.at) : change.phase === 'idle' ? at : now;
    return { phase: change.phase, at: at.toISOString(), seconds: secondsBetween(at, end) };
  });
}

export async function loadSessionView(db: Db, id: number, options: SessionViewOptions): Promise<SessionView | null> {
  const session = await findSession(db, id);
  if (!session) return null;
  const [actions, estimatedUsd, experiment, openBatch, search] = await Promise.all([
    loadActions(db, id, options.actionLimit),
    estimatedSpendUsd(db, { sessionId: id }),
    findExperimentOfSession(db, id),
    findOpenBatch(db, id),
    loadSessionSearchView(db, id),
  ]);
  const ended = session.completedAt ?? options.now;
  const trainingParams = session.trainingParams;
  const backtestParams = session.backtestParams;
  return {
    generatedAt: options.now.toISOString(),
    id: session.id,
    phase: session.phase,
    outcome: session.outcome,
    active: session.outcome === null,
    designer: session.designer,
    strategyName: session.strategyName,
    createdAt: session.createdAt.toISOString(),
    completedAt: session.completedAt ? session.completedAt.toISOString() : null,
    phaseStartedAt: session.phaseStartedAt.toISOString(),
    durationSeconds: secondsBetween(session.createdAt, ended),
    failureReason: session.failureReason,
    strategy: strategySummary(session),
    training: {
      operationId: session.trainingOperationId,
      params: trainingParams
        ? {
            symbols: stringList(trainingParams.symbols),
            timeframes: stringList(trainingParams.timeframes),
            startDate: String(trainingParams.startDate ?? ''),
            endDate: String(trainingParams.endDate ?? ''),
          }
        : null,
      figures: trainingFigures(session.trainingResults),
      results: session.trainingResults,
    },
    backtest: {
      operationId: session.backtestOperationId,
      params: backtestParams
        ? {
            symbol: String(backtestParams.symbol ?? ''),
            timeframe: String(backtestParams.timeframe ?? ''),
            startDate: String(backtestParams.startDate ?? ''),
            endDate: String(backtestParams.endDate ?? ''),
          }
        : null,
      figures: backtestFigures(session.backtestResults),
      results: session.backtestResults,
    },
    operation:
      session.outcome === null
        ? currentOperation(
            {
              phase: session.phase,
              training_operation_id: session.trainingOperationId,
              backtest_operation_id: session.backtestOperationId,
              operation_progress: session.operationProgress,
              progress_changed_at: session.progressChangedAt,
            },
            options.now,
            options.stallAfterSeconds,
          )
        : null,
    invocation: session.outcome === null ? currentInvocation(session.leaseOwner, session.leaseExpiresAt, options.now) : null,
    batch: openBatch ? batchWaitOf(openBatch) : null,
    search,
    gates: { training: gateEvaluation(session.trainingGate), backtest: gateEvaluation(session.backtestGate) },
    assessment: assessmentOf(session.assessment),
    usage: {
      tokensInput: session.tokensInput,
      tokensOutput: session.tokensOutput,
      tokensCacheRead: session.tokensCacheRead,
      tokensCacheWrite: session.tokensCacheWrite,
      costUsd: session.costUsd,
      estimatedUsd: shownUsd(estimatedUsd),
    },
    phases: phaseSpans(session, ended),
    actions: { total: actions.total, shown: actions.items.length, items: actions.items },
    experiment: experiment ? (await experimentSummariesNow(db, [experiment]))[0]! : null,
  };
}
