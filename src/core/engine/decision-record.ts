import type { SessionOutcome, SessionPhase, TriggerReason } from '../session/model.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';
import type { Decision, SkipReason } from './decide.ts';
import { formatUsd } from '../budget/money.ts';

/** What the pass did: decide()'s actions, and what it notes after an invocation. */
export type DecisionAction =
  | Decision['action']
  /** What an invocation came to (its trigger row was written when it started). */
  | 'invocation_result'
  /** The invocation failed through a fault of the world: the attempt does not count. */
  | 'refund'
  /** The invocation went out as a Message Batch: the session waits for it. */
  | 'wait';

/**
 * Why nothing (more) was invoked: decide()'s skip reasons, and what the pass records around an invocation (a fault
 * met, a held fault, a batch waited for), a recovery or a failure.
 */
export type RecordedSkipReason =
  | SkipReason
  | 'infrastructure_fault'
  | 'anthropic_auth'
  | 'fault_backoff'
  | 'waiting_for_batch'
  | 'operation_resumed'
  | 'operation_restarted'
  | 'gate_failed'
  | 'session_failed';

export interface DecisionRecord {
  sessionId: number | null;
  trigger: TriggerReason;
  action: DecisionAction;
  invoked: boolean;
  skipReason: RecordedSkipReason | null;
  outcome?: SessionOutcome | 'achieved';
  detail?: string;
  /** The fault of the world behind this decision, if one was. */
  fault?: InfrastructureFault;
}

/** What a person reading `trigger` is told beyond the record: facts the pass knew when it decided. */
export interface ExplainFacts {
  /** The session's phase when the pass decided about it. */
  phase?: SessionPhase;
  /** The operation's status as polled. */
  progress?: { status: string; percentage: number | null };
  /** Why a new cycle could not start for the budget. */
  budget?: { activeSessions: number; usedUsd: number; limitUsd: number; bufferUsd: number };
  /** The operation a resume or a fresh start was for, and why. */
  recovery?: { operationId: string; failure: string; resumedAtEpoch: number | null; reason: string; restartedAs: string };
  /** A retry of an invocation that died with its process. */
  retry?: boolean;
  /** The invocation designs a cycle just created, when this many sessions were active before it. */
  newCycle?: { activeBefore: number };
}

function activeText(active: number, unit: string): string {
  return active === 0 ? 'no active session' : `${active} active${unit}`;
}

/**
 * A decision as a tick summary stores it and a view reads it back: plain strings, since a summary written by another
 * version may hold a trigger or an action this one does not know.
 */
export interface StoredDecision {
  sessionId: number | null;
  trigger: string | null;
  action: string | null;
  skipReason: string | null;
  outcome: string | null;
  detail: string | null;
}

/** Every action the pass records has its phrase: a new action does not compile without one. */
const actionWords: Record<DecisionAction, string> = {
  skip: 'skipped',
  record_progress: 'progress recorded',
  resume_operation: 'operation resumed',
  restart_operation: 'operation restarted',
  fail: 'failed',
  enter_assessing: 'assessing',
  invoke: 'agent invoked',
  invocation_result: 'agent finished',
  refund: 'attempt refunded',
  wait: 'waiting',
};

function isDecisionAction(action: string): action is DecisionAction {
  return Object.hasOwn(actionWords, action);
}

/** The line `status` and the dashboard show for a decision of the last tick: `#42 operation_still_running → progress recorded · Epoch 34/50`, `start_new_cycle → skipped (budget_exceeded)`. */
export function decisionText(decision: StoredDecision): string {
  const subject = decision.sessionId === null ? '' : `#${decision.sessionId} `;
  // Stored summaries are read back as text: an action from another version shows as it was written.
  const action = decision.action ? (isDecisionAction(decision.action) ? actionWords[decision.action] : decision.action) : 'nothing to do';
  // A skip reason that only repeats the trigger (operation_still_running twice) says nothing new.
  const why = decision.outcome ?? (decision.skipReason && decision.skipReason !== decision.trigger ? decision.skipReason : null);
  const detail = decision.detail ? ` · ${decision.detail}` : '';
  return `${subject}${decision.trigger ?? 'check'} → ${action}${why ? ` (${why})` : ''}${detail}`;
}

/** The demo's note of a decision on its tick line: `#12 success (the assess invocation ended the session)`. */
export function decisionNote(decision: DecisionRecord, createdThisPass: number | undefined): string {
  if (decision.outcome === 'achieved') return `#${decision.sessionId} ${decision.detail ?? 'moved on'}`;
  if (decision.outcome) return `#${decision.sessionId} ${decision.outcome}${decision.detail ? ` (${decision.detail.slice(0, 70)})` : ''}`;
  if (decision.invoked) return `#${decision.sessionId ?? createdThisPass} ${decision.trigger}`;
  return `#${decision.sessionId} ${decision.skipReason ?? decision.action}`;
}

/** The lines `trigger` prints for a decision: the one place its explanation is worded. */
export function explainDecision(record: DecisionRecord, facts: ExplainFacts = {}): string[] {
  const line = explanation(record, facts);
  if (record.action === 'invoke' && facts.newCycle) {
    return [
      `Found: ${activeText(facts.newCycle.activeBefore, ' session(s)')}, budget available`,
      `Action: Invoking agent with reason '${record.trigger}'`,
      `Session #${record.sessionId} created`,
    ];
  }
  return line === null ? [] : [line];
}

function explanation(record: DecisionRecord, facts: ExplainFacts): string | null {
  const session = `Session #${record.sessionId}`;
  const fault = record.fault;
  switch (record.action) {
    case 'skip':
      switch (record.skipReason) {
        case 'anthropic_auth':
        case 'fault_backoff':
          return `Invocations held back (${fault?.faultClass}: ${fault?.cause}); ${record.detail}.`;
        case 'infrastructure_fault':
          return `Not invoking: ${fault?.cause}.`;
      }
      if (record.sessionId !== null) return `${session} (${facts.phase}): waiting (${record.skipReason}).`;
      switch (record.skipReason) {
        case 'paused':
          return 'Automatic triggering is PAUSED: running operations polled, nothing started or invoked. Resume with `ktrdr-agent resume`.';
        case 'ktrdr_unreachable':
          return 'Found: a free slot, but KTRDR is unreachable: no new cycle this pass.';
        case 'budget_exceeded': {
          const budget = facts.budget;
          if (!budget) return 'Found: a free slot, but the budget is spent.';
          return `Found: ${activeText(budget.activeSessions, '')}, but the budget is spent (${formatUsd(budget.usedUsd)} of ${formatUsd(budget.limitUsd)}, buffer ${formatUsd(budget.bufferUsd)}).`;
        }
        default:
          return `Not starting a new cycle (${record.skipReason}).`;
      }
    case 'record_progress': {
      const pct = facts.progress?.percentage ?? null;
      return `${session} (${facts.phase}): operation ${facts.progress?.status}${pct !== null ? `, ${Math.round(pct)}% complete` : ''}.`;
    }
    case 'resume_operation':
    case 'restart_operation': {
      if (fault)
        return `${session}: KTRDR did not take the ${record.action === 'resume_operation' ? 'resume' : 'fresh start'} (${fault.faultClass}: ${fault.cause}); it is tried again on a later pass.`;
      const recovery = facts.recovery;
      if (record.skipReason === 'operation_resumed') {
        const at = recovery?.resumedAtEpoch != null ? ` at epoch ${recovery.resumedAtEpoch}` : '';
        return `${session}: operation ${recovery?.operationId} failed (${recovery?.failure}); resumed from its checkpoint${at}.`;
      }
      return `${session}: ${recovery?.reason}; started afresh as ${recovery?.restartedAs}.`;
    }
    case 'fail':
      return `${session}: ${record.outcome} — ${record.detail}`;
    case 'enter_assessing':
      return `${session}: backtest passed its gate; assessing.`;
    case 'invoke':
      return `${session}: invoking the agent (${record.trigger}${facts.retry ? ', retry after a lost invocation' : ''}).`;
    case 'wait':
      return `${session}: waiting for batch (${record.detail}).`;
    case 'refund':
      if (!fault) return `${session}: the budget ran out during the invocation; it resumes on a later pass.`;
      return `${session}: ${fault.faultClass} during the invocation (${fault.cause}); the session keeps its phase and is retried on a later pass.`;
    case 'invocation_result':
      return null;
  }
}
