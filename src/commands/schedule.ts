import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { defaultConfigDir } from '../core/config/schema.ts';
import { SYSTEMD_SERVICE, SYSTEMD_TIMER, cronLine, findNodeOnPath, systemdUnits, tickStateDir, withoutTickLines } from '../core/cli/schedule-plan.ts';

function readCrontab(): string {
  try {
    return execFileSync('crontab', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    return ''; // `crontab -l` exits 1 when the user has no crontab yet.
  }
}

function crontabMissing(line: string | null): AgentError {
  return new AgentError(
    `There is no \`crontab\` command on this machine, so nothing was ${line ? 'installed' : 'removed from a crontab'}. ${line ? `Install cron (Debian/Ubuntu: \`sudo apt-get install cron\`), or use a systemd timer: \`ktrdr-agent schedule --systemd --install\`. The line to add is:\n${line}` : ''}`.trim(),
    ExitCode.Error,
    'crontab',
  );
}

function writeCrontab(content: string, line: string | null): void {
  try {
    execFileSync('crontab', ['-'], { input: content, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw crontabMissing(line);
    const why = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    throw new AgentError(
      `crontab refused the new crontab (${why}); nothing changed. Edit it with \`crontab -e\`${line ? `, adding:\n${line}` : '.'}`,
      ExitCode.Error,
      'crontab',
    );
  }
}

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
      // The redirection fails (and the tick never runs) when the directory is missing.
      mkdirSync(tickStateDir(), { recursive: true });
      const line = cronLine(inputs);
      if (!flags.install) {
        this.log(line);
        return;
      }
      let current: string;
      try {
        current = readCrontab();
      } catch {
        throw crontabMissing(line);
      }
      if (withoutTickLines(current, bin).removed.length > 0) {
        this.log('A ktrdr-agent tick line is already in the crontab; nothing changed (`ktrdr-agent schedule --uninstall` removes it).');
        return;
      }
      writeCrontab(`${current}${current.endsWith('\n') || current === '' ? '' : '\n'}${line}\n`, line);
      this.log(`Installed in the crontab:\n${line}`);
      return;
    }
    const { service, timer } = systemdUnits(inputs);
    if (!flags.install) {
      this.log(`# ~/.config/systemd/user/${SYSTEMD_SERVICE}\n${service}\n# ~/.config/systemd/user/${SYSTEMD_TIMER}\n${timer}`);
      this.log('# Install with: ktrdr-agent schedule --systemd --install (remove with: ktrdr-agent schedule --uninstall)');
      this.log('# User timers stop at logout unless lingering is on: loginctl enable-linger $USER');
      return;
    }
    const dir = join(homedir(), '.config/systemd/user');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, SYSTEMD_SERVICE), service);
    writeFileSync(join(dir, SYSTEMD_TIMER), timer);
    try {
      execFileSync('systemctl', ['--user', 'daemon-reload'], { stdio: 'ignore' });
      execFileSync('systemctl', ['--user', 'enable', '--now', SYSTEMD_TIMER], { stdio: 'ignore' });
    } catch (error) {
      throw new AgentError(
        `Units written to ${dir}, but enabling the timer failed (${(error as Error).message}). Run: systemctl --user enable --now ${SYSTEMD_TIMER}`,
        ExitCode.Error,
        'systemd',
      );
    }
    this.log(`Installed and enabled ${SYSTEMD_TIMER} (units in ${dir}).`);
    this.log('User timers stop at logout unless lingering is on: loginctl enable-linger $USER');
  }

  /** Removes the crontab line and the user units, saying what it found; finding nothing is not an error. */
  private uninstall(bin: string): void {
    const done: string[] = [];
    let crontab: string | null = null;
    try {
      crontab = readCrontab();
    } catch {
      crontab = null; // No cron on this machine: nothing of ours can be in it.
    }
    if (crontab !== null) {
      const { crontab: rest, removed } = withoutTickLines(crontab, bin);
      if (removed.length > 0) {
        writeCrontab(rest.length > 0 && !rest.endsWith('\n') ? `${rest}\n` : rest, null);
        done.push(`Removed from the crontab:\n${removed.join('\n')}`);
      }
    }
    const dir = join(homedir(), '.config/systemd/user');
    const units = [SYSTEMD_TIMER, SYSTEMD_SERVICE].map((name) => join(dir, name)).filter((path) => existsSync(path));
    if (units.length > 0) {
      try {
        execFileSync('systemctl', ['--user', 'disable', '--now', SYSTEMD_TIMER], { stdio: 'ignore' });
      } catch {
        // No user manager (a container, a remote shell): removing the files is what is left to do.
      }
      for (const path of units) rmSync(path, { force: true });
      try {
        execFileSync('systemctl', ['--user', 'daemon-reload'], { stdio: 'ignore' });
      } catch {
        // As above.
      }
      done.push(`Stopped ${SYSTEMD_TIMER} and removed ${units.join(', ')}.`);
    }
    this.log(done.length > 0 ? done.join('\n') : 'No ktrdr-agent schedule found (no crontab line, no user units); nothing changed.');
    if (done.length > 0) this.log(`The data and the log stay (${tickStateDir()}); \`ktrdr-agent schedule --cron --install\` schedules it again.`);
  }
}
