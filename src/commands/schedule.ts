import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { defaultConfigDir } from '../core/config/schema.ts';
import { SYSTEMD_SERVICE, SYSTEMD_TIMER, findNodeOnPath, systemdUnits, tickStateDir } from '../core/cli/schedule-plan.ts';
import { installCron, installSystemd, prepareCronLine, uninstallSchedule } from '../core/cli/services/schedule.ts';

export default class Schedule extends AgentCommand {
  static override summary = 'Print, install or remove the crontab line or systemd units that run `tick` every 5 minutes.';
  static override description =
    `Cron and systemd give an almost empty environment, so the tick reads its settings from the env file (--agent-env, else KTRDR_AGENT_ENV_FILE, else ~/.config/ktrdr-agent/agent.env), and finds node through a PATH the line sets: the directory of the \`node\` on your PATH, so a Node upgrade in place keeps it working. Paths are quoted. Cron mails only when the tick starts failing, when its exit code changes, and when it works again; ~/.local/state/ktrdr-agent/tick.log keeps every line.\n\n${exitCodesHelp}`;
  static override flags = {
    cron: Flags.boolean({ description: 'A crontab line.', exactlyOne: ['cron', 'systemd', 'uninstall'] }),
    systemd: Flags.boolean({ description: 'A systemd service and timer (user units).', exactlyOne: ['cron', 'systemd', 'uninstall'] }),
    install: Flags.boolean({ description: 'Install it: append to the crontab, or write the user units and enable the timer.' }),
    uninstall: Flags.boolean({
      description: 'Remove what --install installed: the crontab line and the user units (stopping the timer).',
      exactlyOne: ['cron', 'systemd', 'uninstall'],
    }),
  };
  static override examples = ['<%= config.bin %> schedule --cron', '<%= config.bin %> schedule --systemd --install', '<%= config.bin %> schedule --uninstall'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Schedule);
    const bin = resolve(this.config.root, 'bin', 'run.js');
    if (flags.uninstall) {
      this.uninstall(bin);
      return;
    }
    const given = this.envFileFlag();
    const envFile = given ? resolve(given) : (process.env.KTRDR_AGENT_ENV_FILE ?? join(defaultConfigDir(process.env), 'agent.env'));
    // Cron and systemd start with an almost empty environment: the settings must come from the env file.
    const hasEnvFile = existsSync(envFile);
    if (!hasEnvFile) {
      process.stderr.write(
        `Warning: ${envFile} does not exist. Cron and systemd give the tick an almost empty environment: put DATABASE_URL, KTRDR_API_URL, ANTHROPIC_API_KEY and the rest there (deploy/agent.env.example is a start; \`ktrdr-agent config\` shows what is in effect).\n`,
      );
    }
    const node = findNodeOnPath(process.env, process.execPath);
    if (node.warning) process.stderr.write(`Warning: ${node.warning}.\n`);
    const inputs = { bin, envFile: hasEnvFile ? envFile : null, nodeDir: node.dir };
    if (flags.cron) {
      const line = prepareCronLine(inputs);
      if (!flags.install) this.log(line);
      else if (installCron(line, bin) === 'already')
        this.log('A ktrdr-agent tick line is already in the crontab; nothing changed (`ktrdr-agent schedule --uninstall` removes it).');
      else this.log(`Installed in the crontab:\n${line}`);
      return;
    }
    if (!flags.install) {
      const { service, timer } = systemdUnits(inputs);
      this.log(`# ~/.config/systemd/user/${SYSTEMD_SERVICE}\n${service}\n# ~/.config/systemd/user/${SYSTEMD_TIMER}\n${timer}`);
      this.log('# Install with: ktrdr-agent schedule --systemd --install (remove with: ktrdr-agent schedule --uninstall)');
      this.log('# User timers stop at logout unless lingering is on: loginctl enable-linger $USER');
      return;
    }
    const dir = installSystemd(inputs);
    this.log(`Installed and enabled ${SYSTEMD_TIMER} (units in ${dir}).`);
    this.log('User timers stop at logout unless lingering is on: loginctl enable-linger $USER');
  }

  /** Says what `uninstallSchedule` found and removed; finding nothing is not an error. */
  private uninstall(bin: string): void {
    const { cronLines, units } = uninstallSchedule(bin);
    const done: string[] = [];
    if (cronLines.length > 0) done.push(`Removed from the crontab:\n${cronLines.join('\n')}`);
    if (units.length > 0) done.push(`Stopped ${SYSTEMD_TIMER} and removed ${units.join(', ')}.`);
    this.log(done.length > 0 ? done.join('\n') : 'No ktrdr-agent schedule found (no crontab line, no user units); nothing changed.');
    if (done.length > 0) this.log(`The data and the log stay (${tickStateDir()}); \`ktrdr-agent schedule --cron --install\` schedules it again.`);
  }
}
