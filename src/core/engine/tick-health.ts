import { AgentError, ExitCode } from '../kernel/errors.ts';
import type { FaultClass, InfrastructureFault } from '../kernel/faults.ts';
import type { DecisionRecord } from './decision-record.ts';
import type { PassSummary } from './pass.ts';

export type LogLevel = 'info' | 'warn' | 'error';

/** Faults that mean the installation is misconfigured (a refused key): exit 2, like a configuration error. */
function isAuthFault(faultClass: FaultClass): boolean {
  return faultClass === 'anthropic_auth' || faultClass === 'ktrdr_auth';
}

export interface TickHealth {
  /** `ok` did its work or had nothing to do; `degraded` ran but a dependency failed it; `auth_failing` a key was refused. */
  status: 'ok' | 'paused' | 'degraded' | 'auth_failing';
  level: LogLevel;
  exitCode: ExitCode;
}

/** The worst thing a pass met decides the tick's exit code and the level of its final log line. */
export function tickHealth(summary: Pick<PassSummary, 'status' | 'faults' | 'invocationsHeld' | 'ktrdrUnreachable'>): TickHealth {
  const faults: InfrastructureFault[] = [...summary.faults, ...(summary.invocationsHeld ? [summary.invocationsHeld.fault] : [])];
  if (faults.some((fault) => isAuthFault(fault.faultClass))) return { status: 'auth_failing', level: 'error', exitCode: ExitCode.NotConfigured };
  if (faults.length > 0 || summary.ktrdrUnreachable) return { status: 'degraded', level: 'warn', exitCode: ExitCode.Degraded };
  return { status: summary.status, level: 'info', exitCode: ExitCode.Success };
}

/** A decision's log level: faults at warn, refused keys at error, everything else at info. */
export function decisionLevel(decision: DecisionRecord): LogLevel {
  if (!decision.fault) return 'info';
  return isAuthFault(decision.fault.faultClass) ? 'error' : 'warn';
}

export function decisionLogFields(decision: DecisionRecord): Record<string, unknown> {
  return {
    session: decision.sessionId,
    trigger: decision.trigger,
    action: decision.action,
    invoked: decision.invoked,
    ...(decision.skipReason ? { skipReason: decision.skipReason } : {}),
    ...(decision.outcome ? { outcome: decision.outcome } : {}),
    ...(decision.detail ? { detail: decision.detail } : {}),
    ...(decision.fault ? { faultClass: decision.fault.faultClass, cause: decision.fault.cause } : {}),
  };
}

/** PostgreSQL connection failures (SQLSTATE class 08, shutdowns 57P0x) and sockets that closed under the pass. */
function isDatabaseFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === 'ECONNREFUSED' || code === 'ECONNRESET')) return true;
  return (
    error instanceof Error &&
    /Connection terminated|connection to the database|Client has encountered a connection error|not queryable|not currently accepting connections|database system is (starting up|shutting down)/i.test(
      error.message,
    )
  );
}

export interface TickFailure {
  code: string;
  message: string;
  exitCode: ExitCode;
  faultClass?: FaultClass;
}

/** What a tick that could not finish reports: a database that went away is a fault of the world (exit 5). */
export function tickFailure(error: unknown): TickFailure {
  const message = error instanceof Error ? error.message : String(error);
  if ((error instanceof AgentError && error.code === 'database_unreachable') || (!(error instanceof AgentError) && isDatabaseFailure(error))) {
    return { code: 'database_unreachable', message, exitCode: ExitCode.Degraded, faultClass: 'database' };
  }
  if (error instanceof AgentError) return { code: error.code, message, exitCode: error.exitCode };
  return { code: 'unexpected', message, exitCode: ExitCode.Error };
}
