// How `cancel` says what it did.
import type { CancelResult } from '../services/cancel.ts';

export function renderCancelText(result: CancelResult): string {
  return result.cancelled
    ? `Session #${result.sessionId} cancelled (operation: ${result.operation}).`
    : `Session #${result.sessionId} had just ended (${result.outcome ?? 'unknown'}) before the cancel; nothing to cancel.`;
}
