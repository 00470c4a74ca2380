import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../../core/cli/base-command.ts';
import { ExitCode } from '../../core/kernel/errors.ts';
import { formatFindings } from '../../core/strategy/index.ts';
import { validateStrategyFiles, type StrategyValidateResult } from '../../core/cli/services/strategy-validate.ts';

export default class StrategyValidate extends AgentCommand {
  static override summary = 'Validate KTRDR v3 strategy files with the checks KTRDR makes at training start, and the ones it only makes hours later.';
  static override description =
    `One line per problem (error or warning, by path). Exit 0 when every file is valid, 1 otherwise. --online also asks a running KTRDR (KTRDR_API_URL) for its indicator registry and, for a file in KTRDR's strategies directory, for its own verdict: KTRDR's verdict comes first and decides; where KTRDR says valid, our findings are warnings.\n\n${exitCodesHelpWith({ [ExitCode.Error]: 'a file is invalid, or bad usage' })}`;
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = { files: Args.string({ description: 'Strategy YAML files', required: true }) };
  static override flags = {
    online: Flags.boolean({
      description: 'Also ask the running KTRDR: its indicator registry, and its verdict, which decides, for files in its strategies directory.',
    }),
  };
  static override examples = ['<%= config.bin %> strategy validate strategies/*.yaml', '<%= config.bin %> strategy validate my.yaml --online --json'];

  async run(): Promise<StrategyValidateResult> {
    const { argv, flags } = await this.parse(StrategyValidate);
    const result = await validateStrategyFiles(argv as string[], flags.online ? this.loadAgentConfig() : null);
    if (!this.jsonEnabled()) {
      for (const report of result.files) {
        this.log(`${report.valid ? 'valid  ' : 'INVALID'} ${report.file}`);
        if (report.findings.length > 0) this.log(formatFindings(report.findings).replace(/^/gm, '  '));
      }
    }
    if (!result.valid) process.exitCode = 1;
    return result;
  }
}
