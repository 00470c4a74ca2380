import type { InvocationPurpose, TriggerReason } from '../engine/decide.ts';

export interface InvocationRequest {
  sessionId: number;
  purpose: InvocationPurpose;
  trigger: TriggerReason;
}

export interface InvocationReport {
  /** `completed` means the model (or the baseline) stopped on its own; whether it did its job is read from the session. */
  status: 'completed' | 'budget_exhausted' | 'ktrdr_unreachable' | 'max_turns' | 'max_tokens' | 'refusal' | 'timeout' | 'api_error' | 'tool_error_limit' | 'error';
  reason: string;
  lastText: string;
  costUsd: number;
}

/** Designs strategies, starts operations and writes assessments, through the phase's tools. */
export interface Designer {
  readonly kind: 'claude' | 'baseline';
  invoke(request: InvocationRequest): Promise<InvocationReport>;
}
