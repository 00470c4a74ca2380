import { Command, Flags, Errors } from '@oclif/core';
import { loadConfig, type AgentConfig } from '../config/load.ts';
import { AgentError, ExitCode } from './errors.ts';
import { reportError } from './report-error.ts';

export const exitCodesHelp = `EXIT CODES
  0  success (a tick that found nothing to do, or found the tick lock taken, is a success)
  1  error (database unreachable, unexpected failure, bad usage)
  2  not configured (invalid or missing settings)
  3  budget exceeded
  4  no active session / not found
  5  tick lock lost mid-pass (the pass stopped before its next write; the next tick carries on)`;

/**
 * The base of every command: loads the configuration (environment, then env files), turns AgentErrors into their
 * exit codes with one clear message (one JSON document under --json), and keeps secrets out of every error.
 */
export abstract class AgentCommand extends Command {
  static override baseFlags = {
    'env-file': Flags.string({
      description: 'Read settings from this env file (the environment still wins). Also: KTRDR_AGENT_ENV_FILE, ~/.config/ktrdr-agent/agent.env',
      helpGroup: 'GLOBAL',
    }),
  };

  private loadedConfig: AgentConfig | undefined;

  protected loadAgentConfig(envFile: string | undefined): AgentConfig {
    // Loading the configuration registers its secrets for redaction.
    this.loadedConfig = loadConfig({ envFile });
    for (const warning of this.loadedConfig.warnings) process.stderr.write(`Warning: ${warning}\n`);
    return this.loadedConfig;
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    if (error instanceof Errors.ExitError) {
      process.exitCode = error.oclif.exit;
      return;
    }
    // oclif's own usage errors (bad flags) are errors of the documented kind 1, not its default 2 ("not configured").
    const reported = error instanceof Errors.CLIError && !(error instanceof AgentError) ? new AgentError(error.message, ExitCode.Error, 'usage') : error;
    process.exitCode = reportError(reported, { json: this.jsonEnabled() });
  }
}
