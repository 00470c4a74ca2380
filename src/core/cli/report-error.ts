import { AgentError, ExitCode } from '../kernel/errors.ts';
import { redactSecrets } from '../kernel/secrets.ts';
import { terminalOutput } from './terminal-text.ts';

/** Prints an error the way every command does (one line on stderr, or JSON) and returns its exit code. */
export function reportError(error: unknown, options: { json: boolean; write?: (text: string) => void }): number {
  const agentError = error instanceof AgentError ? error : null;
  const exitCode = agentError?.exitCode ?? ExitCode.Error;
  const code = agentError?.code ?? 'unexpected';
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  if (options.json) {
    (options.write ?? ((text) => process.stdout.write(text)))(`${JSON.stringify({ error: { code, message, exitCode } }, null, 2)}\n`);
  } else {
    process.stderr.write(`Error: ${terminalOutput(message)}\n`);
    if (!agentError && process.env.DEBUG && error instanceof Error && error.stack) process.stderr.write(`${redactSecrets(error.stack)}\n`);
  }
  return exitCode;
}
