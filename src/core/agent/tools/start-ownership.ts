import type { KtrdrClient } from '../../ktrdr/client.ts';
import { KtrdrError } from '../../ktrdr/errors.ts';
import { ownershipCheck, type OperationClaim } from '../../ktrdr/ownership.ts';
import { isTerminalStatus } from '../../ktrdr/schemas.ts';
import { InfrastructureFaultError } from '../../kernel/faults.ts';

/**
 * Reads the operation a start answered with; one that is not this session's is refused, never adopted, and
 * cancelled when it still runs: the session holds its id and nobody else would watch it, so leaving it would
 * orphan the compute. Returns null when it is this session's, else the refusal for the model.
 *
 * When the creation time is the only fact that differs and KTRDR's clock could not be measured (no Date header), a
 * clock explains it as well as a foreign operation does: that is a fault of the world (`ktrdr_clock`), which ends the
 * invocation without failing the design. With the offset measured, an operation older than the session is one
 * (a repeated task id answered with an old operation, as KTRDR at 2c5c7173 does): refused.
 */
export async function confirmStartOwnership(ktrdr: KtrdrClient, operationId: string, claim: OperationClaim): Promise<string | null> {
  let operation;
  try {
    operation = await ktrdr.getOperation(operationId);
  } catch (error) {
    // Not yet visible: the poll checks the same facts before reading any result.
    if (error instanceof KtrdrError && error.isNotFound) return null;
    throw error;
  }
  // The offset measured on this very answer (its Date header), not an assumption that the clocks agree.
  const offsetMs = ktrdr.clockOffsetMs();
  const { mismatch, creationTimeOnly } = ownershipCheck(operation, claim, offsetMs);
  if (mismatch === null) return null;
  let cancelled = 'it had already ended, so nothing was cancelled';
  if (!isTerminalStatus(operation.status)) {
    const reason = `ktrdr-agent: not the operation this session started (${mismatch})`;
    cancelled = await ktrdr
      .cancelOperation(operationId, { reason: reason.slice(0, 500) })
      .then(() => 'it was cancelled so that its compute is not orphaned')
      .catch((error: unknown) => `cancelling it failed (${(error as Error).message}); it may still run`);
  }
  if (creationTimeOnly && offsetMs === null) {
    throw new InfrastructureFaultError(
      'ktrdr_clock',
      `operation ${operationId} matches this session's request except its creation time: ${mismatch}; ${cancelled}. KTRDR sent no Date header, so its clock could not be measured; check both hosts' clocks (NTP) and that KTRDR writes UTC times`,
    );
  }
  return `KTRDR answered with operation ${operationId}, which is not the one this session started: ${mismatch}. It was not adopted and ${cancelled}; nothing of it is read as this session's result.`;
}
