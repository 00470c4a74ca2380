import { realpathSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';

function real(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/**
 * How to call this CLI so that a printed command works as printed: `ktrdr-agent` when that name on PATH is this
 * installation (after `npm link`), else the path it was started by, relative to the working directory when inside it.
 */
export function cliName(env: NodeJS.ProcessEnv = process.env, script = process.argv[1] ?? 'bin/run.js', cwd = process.cwd()): string {
  const self = real(script);
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const onPath = real(join(dir, 'ktrdr-agent'));
    if (onPath !== null) return onPath === self ? 'ktrdr-agent' : pathWord(script, cwd);
  }
  return pathWord(script, cwd);
}

function pathWord(script: string, cwd: string): string {
  const fromCwd = relative(cwd, script);
  const path = fromCwd !== '' && !fromCwd.startsWith('..') ? `./${fromCwd}` : script;
  return shellWord(path);
}

/** A word a POSIX shell reads back unchanged: bare when it is plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
