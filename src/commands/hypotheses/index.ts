import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { useColor } from '../../core/cli/format.ts';
import { loadHypothesesView } from '../../core/cli/views/research-view.ts';
import { renderHypothesesText } from '../../core/cli/views/research-text.ts';
import type { HypothesesView } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';
import { hypothesisStatuses, type HypothesisStatus } from '../../core/session/model.ts';
import { terminalView } from '../../core/cli/terminal-text.ts';

export default class Hypotheses extends AgentCommand {
  static override summary = 'List the hypotheses the research tests, newest first.';
  static override description =
    `Statuses: untested, testing (a design tests it), supported (an in-sample result agreed), validated (an experiment that tested it was promoted), refuted, inconclusive. They change through the designer's tools (save_strategy_config, save_assessment), the promotion stage (only it validates) or \`hypotheses set\`, and every change is kept (\`hypotheses show\`). A model's verdict made on a status the operator has since changed is kept as an event and does not move the status.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override flags = {
    status: Flags.string({ description: 'Only hypotheses with this status.', options: [...hypothesisStatuses], multiple: true }),
    all: Flags.boolean({ description: 'Include retired hypotheses.', default: false }),
  };
  static override examples = [
    '<%= config.bin %> hypotheses',
    '<%= config.bin %> hypotheses --status untested --status testing',
    '<%= config.bin %> hypotheses --all --json',
  ];

  async run(): Promise<HypothesesView> {
    const { flags } = await this.parse(Hypotheses);
    const config = this.loadAgentConfig();
    const statuses = flags.status && flags.status.length > 0 ? (flags.status as HypothesisStatus[]) : null;
    const view = await withStore(config, (db) => loadHypothesesView(db, { now: new Date(), statuses, includeRetired: flags.all }));
    if (!this.jsonEnabled()) this.log(renderHypothesesText(terminalView(view), { color: useColor() }));
    return view;
  }
}
