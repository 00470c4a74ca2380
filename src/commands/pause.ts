import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { withStore } from '../core/cli/with-store.ts';
import { pauseTriggering, type PauseResult } from '../core/cli/services/pause.ts';

export default class Pause extends AgentCommand {
  static override summary = 'Pause automatic triggering (every tick honours it until `resume`).';
  static override description = exitCodesHelp;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> pause'];

  async run(): Promise<PauseResult> {
    const { flags } = await this.parse(Pause);
    const config = this.loadAgentConfig();
    const result = await withStore(config, (db) => pauseTriggering(db, new Date()));
    if (!this.jsonEnabled()) this.log("Agent triggering paused. Use 'ktrdr-agent resume' to restart.");
    return result;
  }
}
