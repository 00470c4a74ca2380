// The tick log capped without logrotate. `schedule --cron` appends each tick's output to one file (`>> tick.log`);
// the tick rotates that file itself, before it writes anything, when it has grown past AGENT_LOG_MAX_MIB: its content
// is copied to tick.log.1 (.1 moves to .2, up to AGENT_LOG_KEEP files; the oldest is deleted) and tick.log is
// truncated in place. The shell's descriptor appends (O_APPEND), so the tick's own lines start the emptied file and
// tick.log always exists for the cron line's `tail`. The file is found from that descriptor: whatever line or unit
// writes it needs no change, and a terminal, a pipe or journald is left alone.
import { constants, copyFileSync, fstatSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';

export interface LogRotation {
  /** Rotate once the file has this many bytes; 0 never rotates. */
  maxBytes: number;
  /** Rotated files kept: path.1 (newest) to path.keep. */
  keep: number;
}

/**
 * Rotates `path` if it has reached `maxBytes`; returns whether it did. A file that vanished meanwhile is no error.
 * A line another process appends between the copy and the truncation is lost: only a second tick starting in that
 * instant could write one, and it writes a single `tick_skipped` line.
 */
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
  // Copied then truncated, not renamed: a rename would take the shell's descriptor (and this tick's lines) with it.
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  return true;
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
