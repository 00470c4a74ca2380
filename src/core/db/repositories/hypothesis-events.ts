// agent_hypothesis_events: a hypothesis's history, one row for each status it took (or a note that moved nothing),
// written in the transaction that changes the hypothesis (hypotheses.ts). Only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { HypothesisStatus } from '../../session/model.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function recordHypothesisEvent(
  db: Db,
  event: {
    hypothesisId: number;
    status: HypothesisStatus | 'retired';
    evidence: string | null;
    experimentId: number | null;
    via: string;
    at: Date;
    /** False for an event that records without moving the status; the column's default (true) otherwise. */
    moved?: false;
  },
): Promise<void> {
  await db
    .insertInto('agent_hypothesis_events')
    .values({
      hypothesis_id: event.hypothesisId,
      status: event.status,
      evidence: event.evidence,
      experiment_id: event.experimentId,
      via: event.via,
      at: event.at,
      ...(event.moved === false ? { moved: false } : {}),
    })
    .execute();
}
