// The start-up fast path for `ktrdr-agent tick` (see bin/run.js): same behaviour as the oclif command, without
// loading oclif. `tick --help` still goes through oclif.
import { parseArgs } from 'node:util';
import { executeTick, reportTickFailure, writeTickLog } from './tick-command.ts';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { closest } from './suggest.ts';

/** parseArgs' messages, said the way the oclif commands say them. */
function tickUsageAdvice(message: string): string {
  const unknown = /Unknown option '(-{1,2}[\w-]+)'/.exec(message);
  if (unknown) {
    const suggestion = closest(unknown[1]!.replace(/^-+/, ''), ['agent-env', 'verbose', 'help']);
    return `Unknown flag ${unknown[1]}.${suggestion ? ` Did you mean --${suggestion}?` : ''} See \`ktrdr-agent tick --help\`.`;
  }
  const positional = /Unexpected argument '([^']*)'/.exec(message);
  if (positional) return `\`tick\` takes no arguments (got '${positional[1]}'). See \`ktrdr-agent tick --help\`.`;
  return `${message}. See \`ktrdr-agent tick --help\`.`;
}

export async function main(argv: string[]): Promise<number> {
  let values: { 'agent-env'?: string; 'env-file'?: string; verbose?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'agent-env': { type: 'string' }, 'env-file': { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return reportTickFailure(new AgentError(tickUsageAdvice((error as Error).message), ExitCode.Error, 'usage'));
  }
  if (values['agent-env'] !== undefined && values['env-file'] !== undefined) {
    return reportTickFailure(new AgentError('Give the env file once: --agent-env (--env-file is its old name).', ExitCode.Error, 'usage'));
  }
  // Cron lines written before the rename still say --env-file: they keep working, and the log says what to change.
  if (values['env-file'] !== undefined)
    writeTickLog('warn', 'config_warning', {
      warning: `--env-file is deprecated (Node.js owns that name); use --agent-env ${values['env-file']} (\`ktrdr-agent schedule\` writes the new line)`,
    });
  const envFile = values['agent-env'] ?? values['env-file'];
  try {
    return await executeTick({
      ...(envFile ? { envFile } : {}),
      verbose: values.verbose ?? false,
      out: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    return reportTickFailure(error);
  }
}
