import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds a data-dir lock. Staleness is decided by the owner being dead, never by the file's age: a holder that
 * is stopped (Ctrl-Z, SIGSTOP, a VM pause) or starved of CPU keeps its lock for as long as it lives.
 */
export interface LockOwner {
  pid: number;
  host: string;
  /** The process's start time (Linux /proc/<pid>/stat field 22), so a reused pid is not taken for the owner. */
  startTime: string | null;
  token: string;
}

/** A process's start time in clock ticks since boot, or null where /proc does not tell it. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) is in parentheses and may hold spaces: count the fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it is alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.startTime === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startTime;
}

export type LockState = { kind: 'acquired'; release: () => void } | { kind: 'held'; owner: LockOwner | null };

function readOwner(path: string): LockOwner | null | 'missing' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.token === 'string' ? owner : null;
  } catch {
    // Written by a process that died between creating and filling the file (or by someone else): unknown owner.
    return null;
  }
}

function createExclusive(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes a lock whose owner is dead. Breaking is itself guarded by an exclusive file so that two processes finding
 * the same dead owner cannot both break it (the second would otherwise delete the first one's fresh lock).
 */
function breakDeadLock(path: string, dead: LockOwner | null, self: LockOwner): void {
  const breaker = `${path}.break`;
  if (!createExclusive(breaker, self)) {
    const other = readOwner(breaker);
    // A breaker that died mid-break (a window of microseconds) is removed; a live one finishes on its own.
    if (other !== 'missing' && other !== null && !isAlive(other)) unlinkSync(breaker);
    return;
  }
  try {
    const current = readOwner(path);
    const sameOwner = current !== 'missing' && (current === null ? dead === null : current.token === dead?.token);
    if (sameOwner) unlinkSync(path);
  } finally {
    unlinkSync(breaker);
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * One attempt to take the lock at `path`. A lock left by a dead process on this host is broken and taken; a lock
 * held by a live process, or by a process on another host (whose liveness cannot be checked), is reported as held.
 * A file that names no owner is taken for dead only when it is older than `unknownOwnerGraceMs` (a holder writes
 * its name right after creating the file).
 */
export function tryLock(path: string, unknownOwnerGraceMs = 5_000): LockState {
  const self: LockOwner = { pid: process.pid, host: hostname(), startTime: processStartTime(process.pid), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (createExclusive(path, self)) {
      return {
        kind: 'acquired',
        release: () => {
          // Only our own lock is removed: never one that someone else took after a (wrong) break.
          const current = readOwner(path);
          if (current !== 'missing' && current?.token === self.token) unlinkSync(path);
        },
      };
    }
    const owner = readOwner(path);
    if (owner === 'missing') continue;
    if (owner === null) {
      if (ageMs(path) < unknownOwnerGraceMs) return { kind: 'held', owner: null };
      breakDeadLock(path, null, self);
      continue;
    }
    if (owner.host !== self.host || isAlive(owner)) return { kind: 'held', owner };
    breakDeadLock(path, owner, self);
  }
  return { kind: 'held', owner: null };
}
