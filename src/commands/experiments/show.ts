import { Args } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../../core/kernel/errors.ts';
import { useColor } from '../../core/cli/format.ts';
import { loadExperimentDetail, parseResearchId } from '../../core/cli/views/research-view.ts';
import { renderExperimentDetailText } from '../../core/cli/views/research-text.ts';
import type { ExperimentDetailView } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';
import { terminalView } from '../../core/cli/terminal-text.ts';

export default class ExperimentsShow extends AgentCommand {
  static override summary = 'Show one experiment: its design, windows, gates, results, hypothesis, parent and children.';
  static override description = `Exits with 4 when no experiment has that id.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = { id: Args.string({ description: 'Experiment id (as `experiments` shows it).', required: true }) };
  static override examples = ['<%= config.bin %> experiments show 12', '<%= config.bin %> experiments show 12 --json'];

  async run(): Promise<ExperimentDetailView> {
    const { args, flags } = await this.parse(ExperimentsShow);
    const id = parseResearchId(args.id, 'experiment');
    const config = this.loadAgentConfig();
    const view = await withStore(config, (db) => loadExperimentDetail(db, id, new Date()));
    if (!view) throw new AgentError(`No experiment #${id}. \`ktrdr-agent experiments\` lists them.`, ExitCode.NotFound, 'experiment_not_found');
    if (!this.jsonEnabled()) this.log(renderExperimentDetailText(terminalView(view), { color: useColor() }));
    return view;
  }
}
