/**
 * Faults of the world: failures that are not research results. A pass that meets one never creates, fails or
 * charges a research session for it; it records the fault (class and cause), keeps the session in its phase, and
 * retries on a later pass.
 */
export const faultClasses = [
  'anthropic_auth',
  'anthropic_unreachable',
  'anthropic_unbilled',
  'anthropic_rate_limited',
  'strategies_dir',
  'database',
  'ktrdr_unreachable',
  'ktrdr_auth',
  'ktrdr_busy',
  /** KTRDR's times cannot be reconciled with ours (a skewed clock, or local times written without a zone). */
  'ktrdr_clock',
] as const;
export type FaultClass = (typeof faultClasses)[number];

export interface InfrastructureFault {
  faultClass: FaultClass;
  /** What happened, for the operator; never holds a secret. */
  cause: string;
}

/** Thrown by a lower layer (a tool, a client) to say the world failed, not the research. */
export class InfrastructureFaultError extends Error {
  readonly fault: InfrastructureFault;
  constructor(faultClass: FaultClass, cause: string) {
    super(cause);
    this.name = 'InfrastructureFaultError';
    this.fault = { faultClass, cause };
  }
}

export function isInfrastructureFault(error: unknown): error is InfrastructureFaultError {
  return error instanceof InfrastructureFaultError;
}
