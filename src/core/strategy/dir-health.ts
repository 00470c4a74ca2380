import { constants as fsConstants, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { InfrastructureFault } from '../kernel/faults.ts';

/** Room a design needs: a strategy file is bounded far below this, the rest is margin for KTRDR and the system. */
export const MIN_FREE_BYTES = 1024 * 1024;

/** errno codes that say the directory itself cannot take a file: the world's fault, not the strategy's. */
const DIRECTORY_FAULT_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);

const ADVICE: Readonly<Record<string, string>> = {
  EACCES: 'give the agent write permission on it',
  EPERM: 'give the agent write permission on it',
  EROFS: 'it is on a read-only filesystem; remount it read-write or point KTRDR_STRATEGIES_DIR elsewhere',
  ENOSPC: 'its filesystem is full; free some space',
  EDQUOT: "the user's disk quota is used up; free some space or raise the quota",
};

function errnoOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** The fault behind a failed write into the strategies directory, or null when the failure is the strategy's own. */
export function strategiesDirFaultOf(directory: string, error: unknown): InfrastructureFault | null {
  const code = errnoOf(error);
  if (!code || !DIRECTORY_FAULT_CODES.has(code)) return null;
  return { faultClass: 'strategies_dir', cause: `cannot write into the strategies directory ${directory} (${code}): ${ADVICE[code]}` };
}

/**
 * Checked before money is spent on a design: the directory exists, takes a file (a probe is created and removed, so
 * permissions, read-only mounts and ACLs all count) and has room for one.
 */
export async function checkStrategiesDir(directory: string): Promise<InfrastructureFault | null> {
  const probe = path.join(directory, `.ktrdr-agent-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(probe, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    await handle.close();
    await fs.unlink(probe);
  } catch (error) {
    const fault = strategiesDirFaultOf(directory, error);
    if (fault) return fault;
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return {
        faultClass: 'strategies_dir',
        cause: `the strategies directory ${directory} does not exist or is not a directory; create it or set KTRDR_STRATEGIES_DIR`,
      };
    }
    return { faultClass: 'strategies_dir', cause: `cannot write into the strategies directory ${directory}: ${(error as Error).message}` };
  }
  const stats = await fs.statfs(directory).catch(() => null);
  if (stats) {
    const free = stats.bavail * stats.bsize;
    if (free < MIN_FREE_BYTES) {
      return {
        faultClass: 'strategies_dir',
        cause: `the strategies directory ${directory} has ${free} bytes free, under the ${MIN_FREE_BYTES} a design needs: free some space`,
      };
    }
  }
  return null;
}
