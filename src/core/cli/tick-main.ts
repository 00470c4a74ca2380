// The start-up fast path for `ktrdr-agent tick` (see bin/run.js): same behaviour as the oclif command, without
// loading oclif. `tick --help` still goes through oclif.
import { parseArgs } from 'node:util';
import { executeTick, reportTickFailure } from './tick-command.ts';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { closest } from './suggest.ts';

/** parseArgs' messages, said the way the oclif commands say them. */
function tickUsageAdvice(message: string): string {
  const unknown = /Unknown option '(-{1,2}[\w-]+)'/.exec(message);
  if (unknown) {
    const suggestion = closest(unknown[1]!.replace(/^-+/, ''), ['env-file', 'verbose', 'help']);
    return `Unknown flag ${unknown[1]}.${suggestion ? ` Did you mean --${suggestion}?` : ''} See \`ktrdr-agent tick --help\`.`;
  }
  const positional = /Unexpected argument '([^']*)'/.exec(message);
  if (positional) return `\`tick\` takes no arguments (got '${positional[1]}'). See \`ktrdr-agent tick --help\`.`;
  return `${message}. See \`ktrdr-agent tick --help\`.`;
}

export async function main(argv: string[]): Promise<number> {
  let values: { 'env-file'?: string; verbose?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'env-file': { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return reportTickFailure(new AgentError(tickUsageAdvice((error as Error).message), ExitCode.Error, 'usage'));
  }
  try {
    return await executeTick({
      ...(values['env-file'] ? { envFile: values['env-file'] } : {}),
      verbose: values.verbose ?? false,
      out: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    return reportTickFailure(error);
  }
}
