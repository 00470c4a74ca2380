import { Args } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../../core/kernel/errors.ts';
import { useColor } from '../../core/cli/format.ts';
import { loadHypothesisDetail, parseResearchId } from '../../core/cli/views/research-view.ts';
import { renderHypothesisDetailText } from '../../core/cli/views/research-text.ts';
import type { HypothesisDetailView } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';
import { terminalView } from '../../core/cli/terminal-text.ts';

export default class HypothesesShow extends AgentCommand {
  static override summary = 'Show one hypothesis: every status it had and why, and the experiments that tested it.';
  static override description = `Exits with 4 when no hypothesis has that id.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = { id: Args.string({ description: 'Hypothesis id (3, #3 or H3).', required: true }) };
  static override examples = ['<%= config.bin %> hypotheses show 3', '<%= config.bin %> hypotheses show H3 --json'];

  async run(): Promise<HypothesisDetailView> {
    const { args, flags } = await this.parse(HypothesesShow);
    const id = parseResearchId(args.id, 'hypothesis');
    const config = this.loadAgentConfig();
    const view = await withStore(config, (db) => loadHypothesisDetail(db, id, new Date()));
    if (!view) throw new AgentError(`No hypothesis H${id}. \`ktrdr-agent hypotheses --all\` lists them.`, ExitCode.NotFound, 'hypothesis_not_found');
    if (!this.jsonEnabled()) this.log(renderHypothesisDetailText(terminalView(view), { color: useColor() }));
    return view;
  }
}
