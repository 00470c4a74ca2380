import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { withStore } from '../core/cli/with-store.ts';
import { resumeTriggering, type ResumeResult } from '../core/cli/services/pause.ts';
import { terminalLine } from '../core/cli/terminal-text.ts';

export default class Resume extends AgentCommand {
  static override summary = 'Resume automatic triggering, and lift a stop on invocations after a refused API key.';
  static override description =
    `Clears a pause, and a held infrastructure fault (an Anthropic key that was refused, a backoff after a fault): the next tick invokes the designer again.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> resume'];

  async run(): Promise<ResumeResult> {
    const { flags } = await this.parse(Resume);
    const config = this.loadAgentConfig();
    const result = await withStore(config, (db) => resumeTriggering(db, new Date()));
    const cleared = result.clearedFault;
    if (!this.jsonEnabled()) {
      this.log('Agent triggering resumed.');
      if (cleared) this.log(`Cleared the held fault (${cleared.faultClass}: ${terminalLine(cleared.cause)}); the next tick invokes the designer again.`);
    }
    return result;
  }
}
