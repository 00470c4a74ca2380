import { accessSync, constants, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** Marks the crontab line `schedule` writes, so `schedule --uninstall` finds it whatever paths it names. */
export const CRON_MARKER = '# ktrdr-agent tick';

/** The directory the tick's log and its failing-state file live in (`$XDG_STATE_HOME/ktrdr-agent`). */
export function tickStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'ktrdr-agent');
}

/**
 * Where cron's line sends every tick line. The one place the log path is chosen: a bounded log (rotation) hooks
 * in here.
 */
export function tickLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(tickStateDir(env), 'tick.log');
}

/** Holds the exit code of the failing state cron has mailed about; absent while ticks succeed. */
export function tickFailingStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(tickStateDir(env), 'tick.failing');
}

/** A POSIX shell word: single quotes, and `%` escaped because cron turns a bare `%` into a newline. */
export function shellQuote(text: string, forCron = false): string {
  const quoted = `'${text.replaceAll("'", `'\\''`)}'`;
  return forCron ? quoted.replaceAll('%', '\\%') : quoted;
}

/** A systemd ExecStart word: double quotes (systemd's own quoting), `%` doubled (systemd's specifier prefix). */
export function systemdQuote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%')}"`;
}

export interface NodeOnPath {
  /** The directory to put first on the tick's PATH. */
  dir: string;
  /** Why this directory may not survive a Node upgrade, when it may not. */
  warning: string | null;
}

/**
 * The `node` the tick will run: the first one on PATH, named by its directory rather than by the resolved binary
 * (`/usr/local/bin`, not `/usr/local/lib/nodejs/node-v24.1.0/bin/node`), so an upgrade that replaces it in place
 * keeps the line working. A version manager's directory (nvm, fnm, volta's per-version dirs) changes with each
 * version: that is said, with the fix.
 */
export function findNodeOnPath(env: NodeJS.ProcessEnv, execPath: string): NodeOnPath {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return { dir, warning: versionedDir(dir) };
  }
  const dir = dirname(execPath);
  return {
    dir,
    warning: `there is no \`node\` on PATH, so the line names ${dir}${versionedDir(dir) ? ', a per-version directory' : ''}; put a stable node on PATH (e.g. /usr/local/bin/node) and run \`ktrdr-agent schedule\` again`,
  };
}

function versionedDir(dir: string): string | null {
  let resolved = dir;
  try {
    resolved = realpathSync(dir);
  } catch {
    // A directory that does not resolve is judged by its name.
  }
  if (!/\/(\.nvm|\.fnm|fnm|\.volta\/tools\/image|\.asdf\/installs|n\/versions)\/|\/versions\/node\/v?\d/.test(resolved)) return null;
  return `${dir} belongs to one Node version (a version manager's directory): after an upgrade that removes it, the tick stops. Put a stable node on PATH first (a system package, or a symlink such as /usr/local/bin/node) and run \`ktrdr-agent schedule\` again`;
}

export interface ScheduleInputs {
  /** The CLI's bin/run.js: its shebang runs `node --liftoff-only --` from PATH. */
  bin: string;
  envFile: string | null;
  nodeDir: string;
  env?: NodeJS.ProcessEnv;
}

function tickPath(nodeDir: string): string {
  return [nodeDir, '/usr/local/bin', '/usr/bin', '/bin'].filter((dir, i, all) => all.indexOf(dir) === i).join(':');
}

/**
 * The crontab line. Cron mails what a job prints, so the line prints only when the tick's state changes: the first
 * failing tick (its exit code, the command that explains the codes, the log's last lines), a change of failing
 * code, and the first tick that works again. Every tick line goes to the log; nothing else is mailed.
 */
export function cronLine(inputs: ScheduleInputs): string {
  const q = (text: string) => shellQuote(text, true);
  const log = q(tickLogPath(inputs.env));
  const state = q(tickFailingStatePath(inputs.env));
  const tick = `PATH=${q(tickPath(inputs.nodeDir))} ${q(inputs.bin)} tick${inputs.envFile ? ` --agent-env ${q(inputs.envFile)}` : ''}`;
  const onFailure = `if [ "$(cat ${state} 2>/dev/null)" != "$code" ]; then echo "$code" > ${state}; echo "ktrdr-agent tick is failing: exit $code since $(date -u) (ktrdr-agent --help lists the exit codes). No more mail until this changes; ${log} keeps every line. Its last lines:"; tail -n 5 ${log}; fi`;
  const onSuccess = `if [ -e ${state} ]; then echo "ktrdr-agent tick works again since $(date -u), after failing with exit $(cat ${state})."; rm -f ${state}; fi`;
  return `*/5 * * * * ${tick} >> ${log} 2>&1; code=$?; if [ "$code" -ne 0 ]; then ${onFailure}; else ${onSuccess}; fi ${CRON_MARKER}`;
}

/** A crontab without the line(s) `schedule` wrote: ours carry the marker; older ones named `<bin> tick`. */
export function withoutTickLines(crontab: string, bin: string): { crontab: string; removed: string[] } {
  const lines = crontab.split('\n');
  const ours = (line: string) => !line.trimStart().startsWith('#') && (line.includes(CRON_MARKER) || line.includes(`${bin} tick`));
  const removed = lines.filter(ours);
  return { crontab: lines.filter((line) => !ours(line)).join('\n'), removed };
}

export const SYSTEMD_SERVICE = 'ktrdr-agent-tick.service';
export const SYSTEMD_TIMER = 'ktrdr-agent-tick.timer';

/**
 * The user units. Settings are read one way only: by ktrdr-agent from the env file (`--agent-env`), never by
 * systemd's EnvironmentFile=, whose parser handles quotes differently (no backticks, no multi-line values). A user
 * unit cannot pull in network-online.target (a system unit), so it names no network dependency.
 */
export function systemdUnits(inputs: ScheduleInputs): { service: string; timer: string } {
  const exec = [systemdQuote(inputs.bin), 'tick', ...(inputs.envFile ? ['--agent-env', systemdQuote(inputs.envFile)] : [])].join(' ');
  const service = `[Unit]
Description=ktrdr-agent trigger pass

[Service]
Type=oneshot
# Settings come from the env file, read by ktrdr-agent itself (its quoting: single, double or backtick quotes).
Environment=${systemdQuote(`PATH=${tickPath(inputs.nodeDir)}`)}
ExecStart=${exec}
TimeoutStartSec=15min
`;
  const timer = `[Unit]
Description=Run the ktrdr-agent trigger pass every 5 minutes

[Timer]
OnCalendar=*:0/5
Persistent=true
RandomizedDelaySec=10s

[Install]
WantedBy=timers.target
`;
  return { service, timer };
}
