import { loadConfig } from '../config/load.ts';
import { redactSecrets } from '../kernel/secrets.ts';
import { ExitCode } from '../kernel/errors.ts';
import { TickLockLostError } from '../db/tick-lock.ts';
import { locationOf, runTick, type TickLogger } from '../engine/runtime.ts';
import { rotateOwnLogs } from './log-rotation.ts';
import { decisionLevel, decisionLogFields, tickFailure, tickHealth } from '../engine/tick-health.ts';
import type { PassSummary } from '../engine/pass.ts';
import { shownUsd } from '../budget/money.ts';

/** One JSON line on stderr: every tick line, errors included, so a log shipper never meets plain text. */
export const writeTickLog: TickLogger = (level, event, fields = {}) => {
  process.stderr.write(`${redactSecrets(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }))}\n`);
};

/**
 * Logs why a tick could not finish (never a stack), with the stage, step and session it interrupted when known, and
 * returns its exit code. A lost tick lock is `tick_aborted`: the pass stopped itself before its next write.
 */
export function reportTickFailure(error: unknown, log: TickLogger = writeTickLog): ExitCode {
  const failure = tickFailure(error);
  const location = locationOf(error);
  log('error', error instanceof TickLockLostError ? 'tick_aborted' : 'tick_failed', {
    status: failure.faultClass ? 'degraded' : 'error',
    code: failure.code,
    ...(failure.faultClass ? { faultClass: failure.faultClass } : {}),
    message: failure.message,
    exitCode: failure.exitCode,
    ...(location ? { interrupted: location } : {}),
  });
  return failure.exitCode;
}

/**
 * `ktrdr-agent tick`, shared by the oclif command and the start-up fast path in bin/run.js (cron runs this every
 * five minutes, so it skips loading oclif). Returns the exit code: 0 ok, 5 degraded, 2 a refused key.
 */
export async function executeTick(options: { envFile?: string | undefined; verbose: boolean; out: (line: string) => void }): Promise<ExitCode> {
  const config = loadConfig(options.envFile ? { envFile: options.envFile } : {});
  const log = writeTickLog;
  // Before anything is written: a tick appending to a log past its size starts the next file (log-rotation.ts).
  const rotation = { maxBytes: config.settings.AGENT_LOG_MAX_MIB * 1024 * 1024, keep: config.settings.AGENT_LOG_KEEP };
  try {
    for (const path of rotateOwnLogs(rotation)) log('info', 'log_rotated', { path, keep: rotation.keep });
  } catch (error) {
    // A log that cannot be rotated (a read-only directory) must not cost the pass: it goes on appending.
    log('warn', 'log_rotation_failed', { message: (error as Error).message });
  }
  for (const warning of config.warnings) log('warn', 'config_warning', { warning });
  const outcome = await runTick({
    config,
    log,
    lockWaitMs: Math.min(config.settings.AGENT_LOCK_WAIT_SECONDS, 5) * 1000,
    onDecision: (decision) => log(decisionLevel(decision), 'decision', decisionLogFields(decision)),
    ...(options.verbose ? { explain: options.out } : {}),
  });
  if (outcome.kind === 'locked') {
    log('info', 'tick_skipped', { reason: outcome.message });
    return ExitCode.Success;
  }
  const { summary } = outcome;
  const health = tickHealth(summary);
  log(health.level, 'tick_finished', {
    tick: outcome.tickId,
    status: health.status,
    exitCode: health.exitCode,
    durationMs: outcome.durationMs,
    decisions: summary.decisions.length,
    invoked: summary.decisions.filter((d) => d.invoked).length,
    sessionsCreated: summary.sessionsCreated,
    ktrdrUnreachable: summary.ktrdrUnreachable,
    ...(summary.faults.length > 0 ? { faults: summary.faults.map((fault) => fault.faultClass) } : {}),
    ...(summary.invocationsHeld ? { invocationsHeld: summary.invocationsHeld } : {}),
    ...(validationWorth(summary.validation) ? { validation: summary.validation } : {}),
    budgetRemainingUsd: shownUsd(summary.budget.remainingUsd),
  });
  return health.exitCode;
}

/** The validation lane's line in the tick log, only when it did or holds something (an idle lane says nothing). */
function validationWorth(lane: PassSummary['validation']): boolean {
  return lane !== undefined && (lane.screened > 0 || lane.started > 0 || lane.completed > 0 || lane.decided.length > 0 || lane.inFlight > 0);
}
