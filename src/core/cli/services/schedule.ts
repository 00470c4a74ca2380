// `schedule --install` and `--uninstall`: the crontab line and the systemd user units written, enabled or removed.
// What they contain is schedule-plan.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import { SYSTEMD_SERVICE, SYSTEMD_TIMER, cronLine, systemdUnits, tickStateDir, withoutTickLines, type ScheduleInputs } from '../schedule-plan.ts';

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

function systemdUserDir(): string {
  return join(homedir(), '.config/systemd/user');
}

/** The crontab line, with the directory its redirection writes to made first (without it the tick never runs). */
export function prepareCronLine(inputs: ScheduleInputs): string {
  mkdirSync(tickStateDir(), { recursive: true });
  return cronLine(inputs);
}

/** Appends the line to the user's crontab; `already` when a tick line of this installation is there. */
export function installCron(line: string, bin: string): 'installed' | 'already' {
  let current: string;
  try {
    current = readCrontab();
  } catch {
    throw crontabMissing(line);
  }
  if (withoutTickLines(current, bin).removed.length > 0) return 'already';
  writeCrontab(`${current}${current.endsWith('\n') || current === '' ? '' : '\n'}${line}\n`, line);
  return 'installed';
}

/** Writes the user units and enables the timer; returns the directory they are in. */
export function installSystemd(inputs: ScheduleInputs): string {
  const { service, timer } = systemdUnits(inputs);
  const dir = systemdUserDir();
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
  return dir;
}

export interface UninstallResult {
  /** Tick lines taken out of the crontab. */
  cronLines: string[];
  /** Unit files removed (the timer stopped first). */
  units: string[];
}

/** Removes the crontab line and the user units; finding nothing is not an error. */
export function uninstallSchedule(bin: string): UninstallResult {
  let crontab: string | null = null;
  try {
    crontab = readCrontab();
  } catch {
    crontab = null; // No cron on this machine: nothing of ours can be in it.
  }
  let cronLines: string[] = [];
  if (crontab !== null) {
    const { crontab: rest, removed } = withoutTickLines(crontab, bin);
    if (removed.length > 0) {
      writeCrontab(rest.length > 0 && !rest.endsWith('\n') ? `${rest}\n` : rest, null);
      cronLines = removed;
    }
  }
  const units = [SYSTEMD_TIMER, SYSTEMD_SERVICE].map((name) => join(systemdUserDir(), name)).filter((path) => existsSync(path));
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
  }
  return { cronLines, units };
}
