import { Command, Flags, Errors } from '@oclif/core';
import { loadConfig, type AgentConfig } from '../config/load.ts';
import { AgentError, ExitCode } from './errors.ts';
import { redactSecrets, registerSecret } from './redact.ts';

export const exitCodesHelp = `EXIT CODES
  0  success (a tick that found nothing to do, or lost the tick lock, is a success)
  1  error (database unreachable, unexpected failure, bad usage)
  2  not configured (invalid or missing settings)
  3  budget exceeded
  4  no active session / not found`;

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
    this.loadedConfig = loadConfig({ envFile });
    const key = this.loadedConfig.settings.ANTHROPIC_API_KEY;
    if (key) registerSecret(key);
    return this.loadedConfig;
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    let exitCode: number;
    let code: string;
    if (error instanceof AgentError) {
      exitCode = error.exitCode;
      code = error.code;
    } else if (error instanceof Errors.ExitError) {
      process.exitCode = error.oclif.exit;
      return;
    } else if (error instanceof Errors.CLIError) {
      exitCode = ExitCode.Error;
      code = 'usage';
    } else {
      exitCode = ExitCode.Error;
      code = 'unexpected';
    }
    const message = redactSecrets(error.message || String(error));
    process.exitCode = exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: { code, message, exitCode } });
    } else {
      process.stderr.write(`Error: ${message}\n`);
      if (code === 'unexpected' && process.env.DEBUG && error.stack) process.stderr.write(`${redactSecrets(error.stack)}\n`);
    }
  }
}
