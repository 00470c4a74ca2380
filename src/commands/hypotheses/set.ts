import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { hypothesisSetChoices, setHypothesisByOperator } from '../../core/cli/services/hypotheses-set.ts';
import { parseResearchId } from '../../core/cli/views/research-view.ts';
import type { HypothesisEntry } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class HypothesesSet extends AgentCommand {
  static override summary = 'Set the status of a hypothesis, or retire it (the designer stops seeing it).';
  static override description =
    `The change is kept in the hypothesis's history as made by the operator. Exits with 4 when no hypothesis has that id.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = {
    id: Args.string({ description: 'Hypothesis id (3, #3 or H3).', required: true }),
    status: Args.string({ description: `One of: ${hypothesisSetChoices.join(', ')}.`, options: [...hypothesisSetChoices], required: true }),
  };
  static override flags = { evidence: Flags.string({ description: 'Why: what you saw.' }) };
  static override examples = ['<%= config.bin %> hypotheses set 3 refuted --evidence "fails on every major"', '<%= config.bin %> hypotheses set H3 retired'];

  async run(): Promise<HypothesisEntry> {
    const { args, flags } = await this.parse(HypothesesSet);
    const id = parseResearchId(args.id, 'hypothesis');
    const config = this.loadAgentConfig();
    const entry = await withStore(config, (db) =>
      setHypothesisByOperator(db, { id, status: args.status as (typeof hypothesisSetChoices)[number], evidence: flags.evidence ?? null, now: new Date() }),
    );
    if (!this.jsonEnabled()) this.log(`Hypothesis H${entry.id} is now ${entry.retired ? 'retired' : entry.status}.`);
    return entry;
  }
}
