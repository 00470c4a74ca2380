// The start-up fast path for `ktrdr-agent tick` (see bin/run.js): same behaviour as the oclif command, without
// loading oclif. `tick --help` still goes through oclif.
import { parseArgs } from 'node:util';
import { executeTick, reportTickFailure } from '../engine/tick-command.ts';
import { AgentError, ExitCode } from './errors.ts';

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
    return reportTickFailure(new AgentError(`${(error as Error).message}. See \`ktrdr-agent tick --help\`.`, ExitCode.Error, 'usage'));
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
