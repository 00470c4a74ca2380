import type { InfrastructureFault } from '../kernel/faults.ts';
import type { InvocationPurpose, TriggerReason } from '../session/model.ts';
import type { InvocationStatus } from './invoke.ts';

/** claude costs money; baseline and evolve are the no-LLM control arms. */
export type DesignerKind = 'claude' | 'baseline' | 'evolve';

export interface InvocationRequest {
  sessionId: number;
  purpose: InvocationPurpose;
  trigger: TriggerReason;
}

export interface InvocationReport {
  /**
   * An invocation's own statuses (invoke.ts), and those only a designer reports: `ktrdr_unreachable` (KTRDR down
   * before a call), `batch_pending` (the call went out as a Message Batch, or one is still processing; the session
   * waits for it) and `error`. `completed` means the model (or the baseline) stopped on its own; whether it did its
   * job is read from the session.
   */
  status: InvocationStatus | 'ktrdr_unreachable' | 'batch_pending' | 'error';
  reason: string;
  lastText: string;
  costUsd: number;
  /** Set when the invocation stopped on a fault of the world (never a research outcome). */
  fault?: InfrastructureFault;
}

/** Designs strategies, starts operations and writes assessments, through the phase's tools. */
export interface Designer {
  readonly kind: DesignerKind;
  invoke(request: InvocationRequest): Promise<InvocationReport>;
  /** Settles the open Message Batches of sessions that ended meanwhile (a `cancel`); returns how many settled. */
  settleEndedSessionBatches?(): Promise<number>;
}
