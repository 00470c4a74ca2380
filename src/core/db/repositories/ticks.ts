// agent_ticks: one row for each pass (`tick`), with its summary; only this file writes it.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, TickStatus } from '../database-schema.ts';
import { tickStatuses } from '../database-schema.ts';
import { isRecord } from '../../kernel/records.ts';
import { fromJson, toDate, toDateOrNull, toJson, withoutNul } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** One decision of a pass as its tick keeps it (the engine's decision record is written whole; these parts are read). */
export interface TickDecision {
  sessionId: number | null;
  trigger: string | null;
  /** skip, record_progress, resume_operation, fail, enter_assessing, invoke. */
  action: string | null;
  invoked: boolean;
  skipReason: string | null;
  /** The outcome a `fail` decision gave the session. */
  outcome?: string | null;
  /** E.g. the operation's current step, or what the agent was invoked for. */
  detail?: string | null;
}

/** KTRDR's training workers and what limits new cycles, as the pass left them (engine/capacity.ts). */
export interface TickCapacity {
  mode: 'auto' | 'fixed';
  trainingWorkers: { total: number; busy: number; idle: number } | null;
  workersError: string | null;
  activeSessions: number;
  maxActive: number;
  newCyclesAllowed: number;
  newCyclesStarted: number;
  limitedBy: string;
  costPerCycleUsd: number | null;
  affordableCycles: number | null;
}

/**
 * agent_ticks.summary: the pass's summary, written whole (the engine's `PassSummary` extends this with more parts);
 * `status`, the TUI and the night bench read these back.
 */
export interface TickSummary {
  decisions: readonly TickDecision[];
  sessionsCreated: readonly number[];
  /** Null when the pass stopped before it read KTRDR's workers. */
  capacity?: TickCapacity | null;
}

/** A finished tick's status: every status but `running`, which only `startTick` writes. */
export type FinishedTickStatus = Exclude<TickStatus, 'running'>;

export async function startTick(db: Db, tick: { id: string; startedAt: Date; host: string }): Promise<void> {
  await db.insertInto('agent_ticks').values({ id: tick.id, started_at: tick.startedAt, host: tick.host, status: 'running' }).execute();
}

export async function finishTick(
  db: Db,
  tick: { id: string; finishedAt: Date; status: FinishedTickStatus; summary: TickSummary | null; errorMessage?: string | null },
): Promise<void> {
  await db
    .updateTable('agent_ticks')
    .set({
      finished_at: tick.finishedAt,
      status: tick.status,
      summary: toJson(tick.summary),
      error_message: tick.errorMessage ? withoutNul(tick.errorMessage) : null,
    })
    .where('id', '=', tick.id)
    .execute();
}

function nullableString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The decisions and created sessions of a stored summary. A summary another version of the agent wrote may lack
 * parts or hold other shapes: what is not as written here is left out, never guessed.
 */
export function tickDecisions(summary: unknown): { decisions: Required<TickDecision>[]; sessionsCreated: number[] } {
  const object = isRecord(summary) ? summary : {};
  const decisions = Array.isArray(object.decisions)
    ? object.decisions
        .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object')
        .map((d) => ({
          sessionId: typeof d.sessionId === 'number' && Number.isInteger(d.sessionId) ? d.sessionId : null,
          trigger: nullableString(d.trigger),
          action: nullableString(d.action),
          invoked: d.invoked === true,
          skipReason: nullableString(d.skipReason),
          outcome: nullableString(d.outcome),
          detail: nullableString(d.detail),
        }))
    : [];
  const sessionsCreated = Array.isArray(object.sessionsCreated)
    ? object.sessionsCreated.filter((id): id is number => typeof id === 'number' && Number.isInteger(id))
    : [];
  return { decisions, sessionsCreated };
}

export interface StoredTick {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  host: string;
  /** A status this version does not know reads as `error`. */
  status: TickStatus;
  errorMessage: string | null;
  decisions: Required<TickDecision>[];
  sessionsCreated: number[];
}

/** The latest tick, finished or not. */
export async function readLastTick(db: Db): Promise<StoredTick | null> {
  const row = await db.selectFrom('agent_ticks').selectAll().orderBy('started_at', 'desc').limit(1).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    startedAt: toDate(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    host: row.host,
    status: tickStatuses.find((s) => s === row.status) ?? 'error',
    errorMessage: row.error_message,
    ...tickDecisions(fromJson(row.summary)),
  };
}

/**
 * The capacity part of the last tick that wrote a summary, or null when that tick has none (it stopped before it
 * read KTRDR). The parts are as the summary holds them: the reader checks them.
 */
export async function readLastCapacity(db: Db): Promise<{ tickId: string; startedAt: Date; capacity: Partial<TickCapacity> } | null> {
  const row = await db
    .selectFrom('agent_ticks')
    .select(['id', 'started_at', 'summary'])
    .where('summary', 'is not', null)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const summary = row ? fromJson<unknown>(row.summary) : null;
  if (!row || !isRecord(summary) || !isRecord(summary.capacity)) return null;
  return { tickId: row.id, startedAt: toDate(row.started_at), capacity: summary.capacity as Partial<TickCapacity> };
}

/** Ticks started before `before` (what a prune would delete). */
export async function countTicksBefore(db: Db, before: Date): Promise<number> {
  const row = await db
    .selectFrom('agent_ticks')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('started_at', '<', before)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One batch of the oldest ticks before `before`, walked on idx_ticks_started (why an id array: retention.ts). */
export async function deleteTickBatch(db: Db, before: Date, batchSize: number): Promise<number> {
  const oldest = db.selectFrom('agent_ticks').select('id').where('started_at', '<', before).orderBy('started_at').limit(batchSize);
  const result = await db.deleteFrom('agent_ticks').where(sql<boolean>`id = ANY (ARRAY(${oldest}))`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
