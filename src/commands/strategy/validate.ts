import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../../core/cli/base-command.ts';
import { ExitCode } from '../../core/kernel/errors.ts';
import { noopTracer } from '../../core/kernel/tracer.ts';
import { createKtrdrClient } from '../../core/ktrdr/create-client.ts';
import {
  builtinIndicatorRegistry,
  formatFindings,
  mergeKtrdrIndicators,
  parseStrategyYaml,
  validateStrategy,
  type IndicatorRegistry,
} from '../../core/strategy/index.ts';
import { withKtrdrVerdict, type StrategyFileReport } from '../../core/cli/strategy-verdict.ts';

type FileReport = StrategyFileReport;

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

  async run() {
    const { argv, flags } = await this.parse(StrategyValidate);
    const files = argv as string[];
    let registry: IndicatorRegistry = builtinIndicatorRegistry;
    let online: { ktrdr: ReturnType<typeof createKtrdrClient>; strategiesDir: string } | null = null;
    if (flags.online) {
      const config = this.loadAgentConfig();
      const ktrdr = createKtrdrClient(config, noopTracer);
      registry = mergeKtrdrIndicators(builtinIndicatorRegistry, { data: await ktrdr.listIndicators() });
      online = { ktrdr, strategiesDir: realpathSync(config.strategiesDir) };
    }
    const reports: FileReport[] = files.map((file) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        return { file, valid: false, findings: [{ severity: 'error', path: '(file)', message: (error as Error).message }] };
      }
      const parsed = parseStrategyYaml(text);
      if (!parsed.ok) return { file, valid: false, findings: [{ severity: 'error', path: '(yaml)', message: parsed.error }] };
      const result = validateStrategy(parsed.value, { registry, expectedName: basename(file, extname(file)), nameMismatch: 'warning' });
      return { file, valid: result.valid, findings: result.findings };
    });
    if (online) {
      // KTRDR validates by name a file in its own strategies directory: its verdict comes first and decides; other
      // files get our checks only.
      for (const [index, report] of reports.entries()) {
        const name = basename(report.file, extname(report.file));
        if (dirname(realpathSync(report.file)) !== online.strategiesDir) {
          report.findings.push({
            severity: 'warning',
            path: '(ktrdr)',
            message: `not in KTRDR's strategies directory (${online.strategiesDir}), so KTRDR cannot validate it`,
          });
          continue;
        }
        reports[index] = withKtrdrVerdict(report, await online.ktrdr.validateStrategy(name));
      }
    }
    if (!this.jsonEnabled()) {
      for (const report of reports) {
        this.log(`${report.valid ? 'valid  ' : 'INVALID'} ${report.file}`);
        if (report.findings.length > 0) this.log(formatFindings(report.findings).replace(/^/gm, '  '));
      }
    }
    if (reports.some((r) => !r.valid)) process.exitCode = 1;
    return { valid: reports.every((r) => r.valid), files: reports };
  }
}
