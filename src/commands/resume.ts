import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { withStore } from '../core/cli/with-store.ts';
import { clearFault, readControl, setPaused } from '../core/db/repositories/control.ts';
import { terminalLine } from '../core/cli/terminal-text.ts';

export default class Resume extends AgentCommand {
  static override summary = 'Resume automatic triggering, and lift a stop on invocations after a refused API key.';
  static override description =
    `Clears a pause, and a held infrastructure fault (an Anthropic key that was refused, a backoff after a fault): the next tick invokes the designer again.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> resume'];

  async run() {
    const { flags } = await this.parse(Resume);
    const config = this.loadAgentConfig();
    const cleared = await withStore(config, async (db) => {
      const now = new Date();
      const { fault } = await readControl(db);
      await setPaused(db, false, now);
      await clearFault(db, now);
      return fault;
    });
    if (!this.jsonEnabled()) {
      this.log('Agent triggering resumed.');
      if (cleared) this.log(`Cleared the held fault (${cleared.faultClass}: ${terminalLine(cleared.cause)}); the next tick invokes the designer again.`);
    }
    return { paused: false, clearedFault: cleared ? { faultClass: cleared.faultClass, cause: cleared.cause, since: cleared.since.toISOString() } : null };
  }
}
