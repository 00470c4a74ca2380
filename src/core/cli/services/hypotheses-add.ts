// `hypotheses add`: the operator's own hypothesis, for the designer to test.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { addHypothesis, HYPOTHESIS_RATIONALE_MAX, HYPOTHESIS_TEXT_MAX } from '../../db/repositories/hypotheses.ts';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import { hypothesisEntry } from '../views/research-view.ts';
import type { HypothesisEntry } from '../views/schemas.ts';

type Db = Kysely<Database>;

export async function addHypothesisByOperator(db: Db, input: { text: string; rationale: string | null; now: Date }): Promise<HypothesisEntry> {
  const text = input.text.trim();
  if (text.length < 10 || text.length > HYPOTHESIS_TEXT_MAX) {
    throw new AgentError(
      `A hypothesis needs 10 to ${HYPOTHESIS_TEXT_MAX} characters (got ${text.length}): say what you expect and where.`,
      ExitCode.Error,
      'invalid_hypothesis',
    );
  }
  if (input.rationale !== null && input.rationale.length > HYPOTHESIS_RATIONALE_MAX) {
    throw new AgentError(
      `--rationale is ${input.rationale.length} characters; keep it under ${HYPOTHESIS_RATIONALE_MAX}.`,
      ExitCode.Error,
      'invalid_hypothesis',
    );
  }
  const hypothesis = await db
    .transaction()
    .execute((trx) =>
      addHypothesis(trx, { text, rationale: input.rationale, source: 'operator', proposedByExperimentId: null, via: 'operator', now: input.now }),
    );
  return hypothesisEntry(hypothesis);
}
