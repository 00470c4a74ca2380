import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AgentHypothesesTable, Database } from '../database-schema.ts';
import { type HypothesisStatus, hypothesisStatuses } from '../../session/model.ts';
import { toDate, toDateOrNull, withoutNul } from '../values.ts';
import { recordHypothesisEvent } from './hypothesis-events.ts';
import { anotherLiveSessionTests, findHypothesisTest } from './sessions.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Bounds on what a model (or an operator) can write: long enough for a thought, short enough for a prompt. */
export const HYPOTHESIS_TEXT_MAX = 1000;
export const HYPOTHESIS_RATIONALE_MAX = 2000;
export const HYPOTHESIS_EVIDENCE_MAX = 4000;
export const HYPOTHESES_PER_CALL_MAX = 5;

/**
 * Who may move a hypothesis to which status: the design tool marks it under test, the assessment tool proposes
 * and judges an in-sample result (supported or refuted, never validated), only the promotion stage validates, the
 * operator (the CLI) may do anything, including retire. Nothing else moves a status. Events that record without
 * moving (`moved` false: a verdict that lost a race with the operator, a rejected promotion) are not moves.
 */
export const HYPOTHESIS_MOVES = {
  save_strategy_config: ['testing'],
  save_assessment: ['untested', 'supported', 'refuted', 'inconclusive'],
  promotion: ['validated'],
  operator: [...hypothesisStatuses, 'retired'],
  // A session that ends before any verdict (a failed gate, a failed run) gives its hypothesis back: no longer under test.
  session_end: ['untested'],
  // 20261207T105000000Z: `validated` rows set on the model's word became `supported` (a retired one retired again).
  migration: ['supported', 'retired'],
} as const satisfies Record<string, readonly (HypothesisStatus | 'retired')[]>;

/** Who moves a hypothesis (an event's `via`). */
export type HypothesisMover = keyof typeof HYPOTHESIS_MOVES;
/** The statuses `V` may move a hypothesis to. */
export type MoveBy<V extends HypothesisMover> = (typeof HYPOTHESIS_MOVES)[V][number];
/** Who may propose a hypothesis: its first event is `untested`. */
export type HypothesisProposer = { [V in HypothesisMover]: 'untested' extends MoveBy<V> ? V : never }[HypothesisMover];

/**
 * Refuses a move HYPOTHESIS_MOVES does not allow. The types refuse it where `via` is a literal; this refuses it
 * whatever the caller holds, before anything is written, so the caller's transaction rolls back.
 */
function assertMove(via: string, status: HypothesisStatus | 'retired'): void {
  const allowed: readonly string[] = Object.hasOwn(HYPOTHESIS_MOVES, via) ? HYPOTHESIS_MOVES[via as HypothesisMover] : [];
  if (!allowed.includes(status)) {
    throw new Error(`${JSON.stringify(via)} may not move a hypothesis to ${status} (HYPOTHESIS_MOVES allows: ${allowed.join(', ') || 'nothing'})`);
  }
}

/** The statuses a model's verdict on an in-sample result may give (save_assessment's `hypothesis_verdict`). */
export const MODEL_VERDICT_STATUSES = ['supported', 'refuted', 'inconclusive'] as const satisfies readonly HypothesisStatus[];
export type ModelVerdictStatus = (typeof MODEL_VERDICT_STATUSES)[number];

export interface Hypothesis {
  id: number;
  text: string;
  rationale: string | null;
  status: HypothesisStatus;
  source: 'model' | 'operator' | 'designer';
  proposedByExperimentId: number | null;
  retiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface HypothesisEvent {
  status: HypothesisStatus | 'retired';
  evidence: string | null;
  experimentId: number | null;
  via: string;
  at: Date;
  /** False when the event records without moving the status (see HYPOTHESIS_MOVES). */
  moved: boolean;
}

function toHypothesis(row: Selectable<AgentHypothesesTable>): Hypothesis {
  return {
    id: row.id,
    text: row.text,
    rationale: row.rationale,
    status: row.status,
    source: row.source,
    proposedByExperimentId: row.proposed_by_experiment_id,
    retiredAt: toDateOrNull(row.retired_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

function bounded(text: string, max: number): string {
  const clean = withoutNul(text).trim();
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** Adds a hypothesis and its first event; every status it ever has is an event, so the history is complete. */
export async function addHypothesis(
  db: Db,
  input: { text: string; rationale: string | null; source: Hypothesis['source']; proposedByExperimentId: number | null; via: HypothesisProposer; now: Date },
): Promise<Hypothesis> {
  assertMove(input.via, 'untested');
  const row = await db
    .insertInto('agent_hypotheses')
    .values({
      text: bounded(input.text, HYPOTHESIS_TEXT_MAX),
      rationale: input.rationale === null ? null : bounded(input.rationale, HYPOTHESIS_RATIONALE_MAX),
      status: 'untested',
      source: input.source,
      proposed_by_experiment_id: input.proposedByExperimentId,
      created_at: input.now,
      updated_at: input.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordHypothesisEvent(db, {
    hypothesisId: row.id,
    status: 'untested',
    evidence: null,
    experimentId: input.proposedByExperimentId,
    via: input.via,
    at: input.now,
  });
  return toHypothesis(row);
}

/** Moves a hypothesis to a status (or retires it) and records why, in the caller's transaction. */
export async function setHypothesisStatus<V extends HypothesisMover>(
  db: Db,
  id: number,
  input: { status: MoveBy<V>; evidence: string | null; experimentId: number | null; via: V; now: Date },
): Promise<boolean> {
  const status: HypothesisStatus | 'retired' = input.status;
  assertMove(input.via, status);
  const changes = status === 'retired' ? { retired_at: input.now, updated_at: input.now } : { status, retired_at: null, updated_at: input.now };
  const result = await db.updateTable('agent_hypotheses').set(changes).where('id', '=', id).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  await recordHypothesisEvent(db, {
    hypothesisId: id,
    status: input.status,
    evidence: input.evidence === null ? null : bounded(input.evidence, HYPOTHESIS_EVIDENCE_MAX),
    experimentId: input.experimentId,
    via: input.via,
    at: input.now,
  });
  return true;
}

/** An event that records without moving the status: the hypothesis keeps the status it has (stored with the event). */
export async function noteHypothesisEvent(
  db: Db,
  id: number,
  input: { status: HypothesisStatus | 'retired'; evidence: string; experimentId: number | null; via: HypothesisMover; now: Date },
): Promise<void> {
  await recordHypothesisEvent(db, {
    hypothesisId: id,
    status: input.status,
    evidence: bounded(input.evidence, HYPOTHESIS_EVIDENCE_MAX),
    experimentId: input.experimentId,
    via: input.via,
    at: input.now,
    moved: false,
  });
}

/**
 * A model's verdict, applied only if the hypothesis still has the status the model was shown (compare-and-set): an
 * operator's `hypotheses set` made while the model was thinking wins, and the verdict is kept as an event only
 * (`moved` false, its status the one the model proposed). Returns whether the status moved.
 */
export async function applyModelVerdict(
  db: Db,
  id: number,
  input: { status: ModelVerdictStatus; shownStatus: HypothesisStatus; evidence: string; experimentId: number | null; via: HypothesisMover; now: Date },
): Promise<boolean> {
  assertMove(input.via, input.status);
  const changes = { status: input.status, updated_at: input.now };
  const result = await db
    .updateTable('agent_hypotheses')
    .set(changes)
    .where('id', '=', id)
    .where('status', '=', input.shownStatus)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) {
    await recordHypothesisEvent(db, {
      hypothesisId: id,
      status: input.status,
      evidence: bounded(input.evidence, HYPOTHESIS_EVIDENCE_MAX),
      experimentId: input.experimentId,
      via: input.via,
      at: input.now,
    });
    return true;
  }
  const current = await findHypothesis(db, id);
  if (!current) return false;
  const why = `verdict not applied: it was made on status ${input.shownStatus}, and the hypothesis is now ${current.retiredAt ? 'retired' : current.status}`;
  await noteHypothesisEvent(db, id, {
    status: input.status,
    evidence: `${why}. ${input.evidence}`,
    experimentId: input.experimentId,
    via: input.via,
    now: input.now,
  });
  return false;
}

/**
 * The status a verdict on hypothesis `id` was made on: what the session's assessing model was shown, when the
 * verdict is on the hypothesis it tests and its message said; otherwise the status now (no race to lose).
 */
export async function statusVerdictWasMadeOn(db: Db, sessionId: number, id: number): Promise<HypothesisStatus | null> {
  const test = await findHypothesisTest(db, sessionId);
  if (test?.hypothesisId === id && test.statusShown) return test.statusShown;
  return (await findHypothesis(db, id))?.status ?? null;
}

/**
 * Called by the promotion stage, in the transaction that records its decision on an experiment:
 *
 *   recordPromotionForHypotheses(db, { experimentId, promoted, reason, now }): Promise<number[]>
 *
 * - `promoted` true: every hypothesis the experiment tested (its `hypothesis_id`) becomes `validated` (via
 *   `promotion`, `reason` as the evidence). A retired hypothesis stays retired; the promotion is recorded as an event.
 * - `promoted` false: the status does not move; an event (`moved` false, via `promotion`) records why the promotion
 *   was rejected (`reason`, e.g. "lockbox PSR 0.62 < 0.90").
 * Returns the ids of the hypotheses it wrote an event for (none when the experiment tested no hypothesis).
 */
export async function recordPromotionForHypotheses(db: Db, input: { experimentId: number; promoted: boolean; reason: string; now: Date }): Promise<number[]> {
  const rows = await db
    .selectFrom('agent_experiments')
    .innerJoin('agent_hypotheses', 'agent_hypotheses.id', 'agent_experiments.hypothesis_id')
    .select(['agent_hypotheses.id as id', 'agent_hypotheses.status as status', 'agent_hypotheses.retired_at as retiredAt'])
    .where('agent_experiments.id', '=', input.experimentId)
    .execute();
  for (const row of rows) {
    const evidence = `experiment #${input.experimentId} ${input.promoted ? 'promoted' : 'not promoted'}: ${input.reason}`;
    if (input.promoted && row.retiredAt === null) {
      await setHypothesisStatus(db, row.id, { status: 'validated', evidence, experimentId: input.experimentId, via: 'promotion', now: input.now });
    } else {
      await noteHypothesisEvent(db, row.id, {
        status: row.retiredAt === null ? row.status : 'retired',
        evidence,
        experimentId: input.experimentId,
        via: 'promotion',
        now: input.now,
      });
    }
  }
  return rows.map((r) => r.id);
}

export async function findHypothesis(db: Db, id: number): Promise<Hypothesis | null> {
  const row = await db.selectFrom('agent_hypotheses').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toHypothesis(row) : null;
}

export async function hypothesisEvents(db: Db, id: number): Promise<HypothesisEvent[]> {
  const rows = await db.selectFrom('agent_hypothesis_events').selectAll().where('hypothesis_id', '=', id).orderBy('id').limit(500).execute();
  return rows.map((r) => ({ status: r.status, evidence: r.evidence, experimentId: r.experiment_id, via: r.via, at: toDate(r.at), moved: r.moved }));
}

export async function listHypotheses(
  db: Db,
  options: { statuses?: HypothesisStatus[] | null; includeRetired?: boolean; limit: number },
): Promise<Hypothesis[]> {
  let query = db.selectFrom('agent_hypotheses').selectAll();
  if (options.statuses && options.statuses.length > 0) query = query.where('status', 'in', options.statuses);
  if (!options.includeRetired) query = query.where('retired_at', 'is', null);
  const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
  return rows.map(toHypothesis);
}

/**
 * Open hypotheses (untested or being tested, not retired): what the designer is offered to test. The operator's
 * come first, newest first, then the others: however many the model proposes, it cannot push the operator's out.
 */
export async function openHypotheses(db: Db, limit: number): Promise<Hypothesis[]> {
  const rows = await db
    .selectFrom('agent_hypotheses')
    .selectAll()
    .where('status', 'in', ['untested', 'testing'])
    .where('retired_at', 'is', null)
    .orderBy(sql`(source = 'operator')`, 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toHypothesis);
}

/**
 * When a session that tested a hypothesis ends without a verdict on it, the hypothesis is no longer under test: it
 * goes back to `untested`, with why as the evidence, unless another live session is still testing it.
 */
export async function releaseUnjudgedTest(
  db: Db,
  input: { sessionId: number; outcome: string; reason: string | null; judgedId: number | null; experimentId: number | null; now: Date },
): Promise<void> {
  const id = (await findHypothesisTest(db, input.sessionId))?.hypothesisId ?? null;
  if (id === null || id === input.judgedId) return;
  const stillTested = await anotherLiveSessionTests(db, id, input.sessionId);
  if (stillTested || (await findHypothesis(db, id))?.status !== 'testing') return;
  const why = `session #${input.sessionId} ended ${input.outcome} before a verdict${input.reason ? `: ${input.reason}` : ''}`;
  await setHypothesisStatus(db, id, { status: 'untested', evidence: why, experimentId: input.experimentId, via: 'session_end', now: input.now });
}
