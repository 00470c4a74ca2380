import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { withStore } from '../core/cli/with-store.ts';
import { setPaused } from '../core/db/repositories/activity.ts';

export default class Resume extends AgentCommand {
  static override summary = 'Resume automatic triggering.';
  static override description = exitCodesHelp;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> resume'];

  async run() {
    const { flags } = await this.parse(Resume);
    const config = this.loadAgentConfig(flags['env-file']);
    await withStore(config, (db) => setPaused(db, false, new Date()));
    if (!this.jsonEnabled()) this.log('Agent triggering resumed.');
    return { paused: false };
  }
}
