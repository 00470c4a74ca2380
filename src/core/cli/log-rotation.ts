// The tick log capped without logrotate. `schedule --cron` appends each tick's output to one file (`>> tick.log`);
// the tick rotates that file itself when it has grown past AGENT_LOG_MAX_MIB: tick.log becomes tick.log.1 (and
// .1 becomes .2, up to AGENT_LOG_KEEP files; the oldest is deleted). The file is found from the descriptor the
// shell opened, so whatever line or unit writes it needs no change, and a terminal, a pipe or journald is left alone.
import { constants, fstatSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';

export interface LogRotation {
  /** Rotate once the file has this many bytes; 0 never rotates. */
  maxBytes: number;
  /** Rotated files kept: path.1 (newest) to path.keep. */
  keep: number;
}

/** Rotates `path` if it has reached `maxBytes`; returns whether it did. A file that vanished meanwhile is no error. */
export function rotateLog(path: string, rotation: LogRotation): boolean {
  if (rotation.maxBytes <= 0) return false;
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size < rotation.maxBytes) return false;
  rmSync(`${path}.${rotation.keep}`, { force: true });
  for (let index = rotation.keep - 1; index >= 1; index -= 1) renameIfPresent(`${path}.${index}`, `${path}.${index + 1}`);
  // The shell's descriptor follows the rename: this tick's own lines end in path.1, the next tick's start path anew.
  return renameIfPresent(path, `${path}.1`);
}

function renameIfPresent(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * The regular file a descriptor appends to (a shell's `>>`), read from /proc on Linux; null for anything else (a
 * terminal, a pipe, a socket, a file opened without O_APPEND) and where /proc does not say.
 */
export function appendedFileOf(fd: number): string | null {
  try {
    if (!fstatSync(fd).isFile()) return null;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (!flags || (Number.parseInt(flags[1]!, 8) & constants.O_APPEND) === 0) return null;
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    return path.startsWith('/') && !path.endsWith(' (deleted)') ? path : null;
  } catch {
    return null;
  }
}

/** Rotates the files this process's stdout and stderr append to; returns the ones rotated. */
export function rotateOwnLogs(rotation: LogRotation): string[] {
  const paths = new Set([appendedFileOf(1), appendedFileOf(2)].filter((path): path is string => path !== null));
  return [...paths].filter((path) => rotateLog(path, rotation));
}
