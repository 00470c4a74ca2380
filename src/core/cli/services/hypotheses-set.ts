// `hypotheses set`: the operator moves a hypothesis, in the same transaction and event history as the model's tool.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { findHypothesis, HYPOTHESIS_EVIDENCE_MAX, setHypothesisStatus } from '../../db/repositories/hypotheses.ts';
import { hypothesisStatuses } from '../../session/model.ts';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import { hypothesisEntry } from '../views/research-view.ts';
import type { HypothesisEntry } from '../views/schemas.ts';

type Db = Kysely<Database>;

export const hypothesisSetChoices = [...hypothesisStatuses, 'retired'] as const;

/** An operator's change: recorded as an event like a tool's, so the history says who moved it and why. */
export async function setHypothesisByOperator(
  db: Db,
  input: { id: number; status: (typeof hypothesisSetChoices)[number]; evidence: string | null; now: Date },
): Promise<HypothesisEntry> {
  if (input.evidence !== null && input.evidence.length > HYPOTHESIS_EVIDENCE_MAX) {
    throw new AgentError(
      `--evidence is ${input.evidence.length} characters; it may have at most ${HYPOTHESIS_EVIDENCE_MAX}. Say what you saw in a paragraph and point to the rest (an experiment id, a file).`,
      ExitCode.Error,
      'invalid_evidence',
    );
  }
  const changed = await db
    .transaction()
    .execute(async (trx) =>
      setHypothesisStatus(trx, input.id, { status: input.status, evidence: input.evidence, experimentId: null, via: 'operator', now: input.now }),
    );
  const hypothesis = changed ? await findHypothesis(db, input.id) : null;
  if (!hypothesis) throw new AgentError(`No hypothesis H${input.id}. \`ktrdr-agent hypotheses\` lists them.`, ExitCode.NotFound, 'hypothesis_not_found');
  return hypothesisEntry(hypothesis);
}
