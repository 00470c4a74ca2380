import { loadConfig } from '../config/load.ts';
import { redactSecrets } from '../cli/redact.ts';
import { AgentError, ExitCode } from '../cli/errors.ts';
import { TickLockLostError } from '../db/tick-lock.ts';
import { locationOf, runTick, type TickLogger } from './runtime.ts';

/** A lost or refused database connection (the server went away, was restarted, or terminated the session). */
function isDatabaseConnectionFailure(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code.startsWith('57P') || code.startsWith('08'))) ||
    (typeof message === 'string' && /Connection terminated|not queryable|ECONNREFUSED|not currently accepting connections|database system is (starting up|shutting down)/.test(message))
  );
}

/**
 * `ktrdr-agent tick`, shared by the oclif command and the start-up fast path in bin/run.js (cron runs this every
 * five minutes, so it skips loading oclif).
 */
export async function executeTick(options: { envFile?: string; verbose: boolean; out: (line: string) => void }): Promise<void> {
  const config = loadConfig(options.envFile ? { envFile: options.envFile } : {});
  const log: TickLogger = (level, event, fields = {}) => {
    process.stderr.write(`${redactSecrets(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }))}\n`);
  };
  for (const warning of config.warnings) log('warn', 'config_warning', { warning });
  let outcome: Awaited<ReturnType<typeof runTick>>;
  try {
    outcome = await runTick({
      config,
      log,
      lockWaitMs: Math.min(config.settings.AGENT_LOCK_WAIT_SECONDS, 5) * 1000,
      ...(options.verbose ? { explain: options.out } : {}),
    });
  } catch (error) {
    // Cron keeps stderr as the tick's log: a failed pass leaves a JSON line saying why, with its exit code.
    const agentError = error instanceof AgentError ? error : null;
    const location = locationOf(error);
    log('error', error instanceof TickLockLostError ? 'tick_aborted' : 'tick_failed', {
      code: agentError?.code ?? (isDatabaseConnectionFailure(error) ? 'database_unreachable' : 'unexpected'),
      exitCode: agentError?.exitCode ?? ExitCode.Error,
      error: error instanceof Error ? error.message : String(error),
      ...(location ? { interrupted: location } : {}),
    });
    throw error;
  }
  if (outcome.kind === 'locked') {
    log('info', 'tick_skipped', { reason: outcome.message });
    return;
  }
  const { summary } = outcome;
  log('info', 'tick_finished', {
    tick: outcome.tickId,
    status: summary.status,
    durationMs: outcome.durationMs,
    decisions: summary.decisions.length,
    invoked: summary.decisions.filter((d) => d.invoked).length,
    sessionsCreated: summary.sessionsCreated,
    ktrdrUnreachable: summary.ktrdrUnreachable,
    budgetRemainingUsd: Number(summary.budget.remainingUsd.toFixed(4)),
  });
}
