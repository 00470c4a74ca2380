// The read model behind `history`: active sessions first (newest first), then finished sessions by completion time,
// newest first. Pages are keyset-paginated on (completed_at, id) so page 500 costs what page 1 costs; an outcome
// filter walks idx_sessions_outcome once per outcome and merges, so a rare outcome never scans the table.
import type { Kysely } from 'kysely';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import type { Database } from '../../db/database-schema.ts';
import { type SessionOutcome, sessionOutcomes } from '../../session/model.ts';
import { fromJson, toDate, toDateOrNull, toNumber } from '../../db/values.ts';
import type { HistoryEntry, HistoryView } from './schemas.ts';
import { findExperimentsOfSessions } from '../../db/repositories/experiments.ts';
import { activeHistoryPage, finishedHistoryPage, type HistoryRow } from '../../db/read-models/history.ts';
import { deflatedSharpesNow } from '../../db/read-models/trials.ts';
import { assessmentOf, backtestFigures, currentOperation, failedGate, firstSentence, secondsBetween, trainingFigures } from './session-facts.ts';
import { startOfUtcDay } from '../../kernel/utc-day.ts';

type Db = Kysely<Database>;

/** `failed` stands for every failed_* outcome. */
export const outcomeFilterChoices = [...sessionOutcomes, 'failed'] as const;
export type OutcomeFilterChoice = (typeof outcomeFilterChoices)[number];

export function expandOutcomeFilter(choices: readonly OutcomeFilterChoice[]): SessionOutcome[] {
  const outcomes = new Set<SessionOutcome>();
  for (const choice of choices) {
    if (choice === 'failed') {
      for (const outcome of sessionOutcomes) if (outcome.startsWith('failed_')) outcomes.add(outcome);
    } else {
      outcomes.add(choice);
    }
  }
  return sessionOutcomes.filter((o) => outcomes.has(o));
}

const MAX_INT4 = 2_147_483_647;
/** The earliest `--since` taken: nothing the agent records is older, and year 0 does not exist in PostgreSQL. */
const EARLIEST_SINCE = Date.UTC(1970, 0, 1);
const LATEST_SINCE = Date.UTC(10000, 0, 1);

/** Where a page ends: inside the active sessions (by id) or inside the finished ones (by completion, then id). */
type Cursor = { kind: 'active'; id: number } | { kind: 'finished'; completedMicros: string; id: number };

export function encodeCursor(cursor: Cursor): string {
  const parts = cursor.kind === 'active' ? ['a', cursor.id] : ['f', cursor.completedMicros, cursor.id];
  return Buffer.from(parts.join(':'), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  const invalid = new AgentError(
    `Invalid --cursor '${text}': pass the nextCursor value printed by a previous \`history --json\` unchanged.`,
    ExitCode.Error,
    'invalid_cursor',
  );
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(':');
  const id = Number(parts.at(-1));
  // A session id is an INTEGER column; a completion time a timestamp a Date can hold: anything else was not printed
  // by `history`, and would reach the database as an out-of-range value.
  if (!/^\d{1,10}$/.test(parts.at(-1) ?? '') || id <= 0 || id > MAX_INT4) throw invalid;
  if (parts[0] === 'a' && parts.length === 2) return { kind: 'active', id };
  if (parts[0] === 'f' && parts.length === 3 && /^\d{1,18}$/.test(parts[1]!) && Number(parts[1]) < LATEST_SINCE * 1000) {
    return { kind: 'finished', completedMicros: parts[1]!, id };
  }
  throw invalid;
}

export interface HistoryOptions {
  now: Date;
  limit: number;
  /** Only finished sessions with one of these outcomes; null = every session, active ones first. */
  outcomes: SessionOutcome[] | null;
  /** Finished sessions that completed at or after this moment (active sessions always show). */
  since: Date | null;
  cursor: string | null;
  stallAfterSeconds: number;
}

function compareFinishedDesc(a: HistoryRow, b: HistoryRow): number {
  const am = BigInt(a.completed_micros ?? 0);
  const bm = BigInt(b.completed_micros ?? 0);
  if (am !== bm) return am > bm ? -1 : 1;
  return b.id - a.id;
}

function cursorAfter(row: HistoryRow): Cursor {
  return row.completed_at === null || row.completed_micros === null || row.completed_micros === undefined
    ? { kind: 'active', id: row.id }
    : { kind: 'finished', completedMicros: String(row.completed_micros), id: row.id };
}

export function toHistoryEntry(row: HistoryRow, now: Date, stallAfterSeconds: number): HistoryEntry {
  const createdAt = toDate(row.created_at);
  const completedAt = toDateOrNull(row.completed_at);
  const assessment = assessmentOf(fromJson(row.assessment));
  const active = row.outcome === null;
  return {
    id: row.id,
    strategyName: row.strategy_name,
    phase: row.phase,
    outcome: row.outcome,
    active,
    createdAt: createdAt.toISOString(),
    completedAt: completedAt ? completedAt.toISOString() : null,
    durationSeconds: secondsBetween(createdAt, completedAt ?? now),
    operation: active
      ? currentOperation(
          { ...row, operation_progress: fromJson(row.operation_progress), progress_changed_at: toDateOrNull(row.progress_changed_at) },
          now,
          stallAfterSeconds,
        )
      : null,
    training: trainingFigures(fromJson(row.training_results)),
    backtest: backtestFigures(fromJson(row.backtest_results)),
    failedGate: failedGate(fromJson(row.training_gate), fromJson(row.backtest_gate)),
    failureReason: row.failure_reason,
    assessment: assessment ? { verdict: assessment.verdict, summary: firstSentence(assessment.explanation) } : null,
    costUsd: toNumber(row.cost_usd),
    tokensInput: toNumber(row.tokens_input),
    tokensOutput: toNumber(row.tokens_output),
    deflatedSharpe: null,
    dsrNow: null,
  };
}

/**
 * The page's deflated Sharpe ratios, from their experiments: one indexed lookup for the whole page, then one grouped
 * query for their families now (the stored value stays as history beside it).
 */
async function withDeflatedSharpe(db: Db, entries: HistoryEntry[]): Promise<HistoryEntry[]> {
  const finished = entries.filter((e) => !e.active).map((e) => e.id);
  if (finished.length === 0) return entries;
  const experiments = await findExperimentsOfSessions(db, finished);
  const now = await deflatedSharpesNow(db, experiments);
  const bySession = new Map(experiments.map((e) => [e.sessionId, { stored: e.deflatedSharpe, now: now.get(e.id) ?? null }]));
  return entries.map((e) => ({ ...e, deflatedSharpe: bySession.get(e.id)?.stored ?? null, dsrNow: bySession.get(e.id)?.now ?? null }));
}

export async function loadHistoryView(db: Db, options: HistoryOptions): Promise<HistoryView> {
  const cursor = options.cursor === null ? null : decodeCursor(options.cursor);
  // One row more than the page tells whether another page follows.
  const want = options.limit + 1;
  const rows: HistoryRow[] = [];
  if (options.outcomes === null && (cursor === null || cursor.kind === 'active')) {
    rows.push(...(await activeHistoryPage(db, cursor?.kind === 'active' ? cursor.id : null, want)));
  }
  if (rows.length < want) {
    const after = cursor?.kind === 'finished' ? cursor : null;
    const remaining = want - rows.length;
    const outcomes = options.outcomes ?? [null];
    const pages = await Promise.all(outcomes.map((outcome) => finishedHistoryPage(db, { outcome, since: options.since, after, limit: remaining })));
    rows.push(...pages.flat().sort(compareFinishedDesc).slice(0, remaining));
  }
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    generatedAt: options.now.toISOString(),
    filters: {
      limit: options.limit,
      outcomes: options.outcomes,
      since: options.since ? options.since.toISOString() : null,
    },
    sessions: await withDeflatedSharpe(
      db,
      page.map((row) => toHistoryEntry(row, options.now, options.stallAfterSeconds)),
    ),
    nextCursor: rows.length > options.limit && last ? encodeCursor(cursorAfter(last)) : null,
  };
}

const relativeSince = /^(\d+)\s*(m|min|h|d|w)$/i;
const unitSeconds: Record<string, number> = { m: 60, min: 60, h: 3600, d: 86400, w: 604800 };

/** `--since`: a day (2026-01-15, UTC midnight), an ISO time, a span back from now (30m, 12h, 7d, 2w), today, yesterday. */
export function parseSince(text: string, now: Date): Date {
  const since = parseSinceForm(text, now);
  // Well formed but beyond what a timestamp can say (99999999999d, 0000-01-01): named, never sent to the database.
  if (!Number.isFinite(since.getTime()) || since.getTime() < EARLIEST_SINCE || since.getTime() >= LATEST_SINCE) {
    throw new AgentError(
      `Invalid --since '${text}': it names a time outside 1970-01-01 to 9999-12-31. Use a day (2026-01-15), an ISO time (2026-01-15T14:00:00Z), a span back from now (30m, 12h, 7d, 2w, at most back to 1970), today or yesterday.`,
      ExitCode.Error,
      'invalid_since',
    );
  }
  return since;
}

function parseSinceForm(text: string, now: Date): Date {
  const trimmed = text.trim();
  const midnight = startOfUtcDay(now).getTime();
  if (trimmed.toLowerCase() === 'today') return new Date(midnight);
  if (trimmed.toLowerCase() === 'yesterday') return new Date(midnight - 86_400_000);
  const relative = relativeSince.exec(trimmed);
  if (relative) {
    const seconds = Number(relative[1]) * unitSeconds[relative[2]!.toLowerCase()]!;
    return new Date(now.getTime() - seconds * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    const day = new Date(`${trimmed}T00:00:00.000Z`);
    if (!Number.isNaN(day.getTime()) && day.toISOString().startsWith(trimmed)) return day;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) {
    const time = new Date(trimmed);
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new AgentError(
    `Invalid --since '${text}': use a day (2026-01-15), an ISO time (2026-01-15T14:00:00Z), a span back from now (30m, 12h, 7d, 2w), today or yesterday.`,
    ExitCode.Error,
    'invalid_since',
  );
}
