import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../core/cli/base-command.ts';
import { ExitCode } from '../core/kernel/errors.ts';
import { useColor } from '../core/cli/format.ts';
import { runDoctor } from '../core/cli/services/doctor.ts';
import { renderDoctorText } from '../core/cli/views/doctor-text.ts';
import { terminalView } from '../core/cli/terminal-text.ts';

export default class Doctor extends AgentCommand {
  static override summary = 'Check the installation: configuration, database, KTRDR, strategies directory, API key, telemetry endpoints.';
  static override description =
    `A checklist with the fix for each failure. Exits 1 when something is broken (2 when the configuration is invalid).\n\n${exitCodesHelpWith({ [ExitCode.Error]: 'something required is broken (each failed check says how to fix it)', [ExitCode.NotConfigured]: 'the configuration is invalid' })}`;
  static override enableJsonFlag = true;
  static override flags = {
    online: Flags.boolean({ description: 'Also make a real authenticated call to the Anthropic API (costs nothing: lists models).' }),
  };
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --online --json'];

  async run() {
    const { flags } = await this.parse(Doctor);
    const report = await runDoctor({ envFile: this.envFileFlag(), online: flags.online });
    if (!this.jsonEnabled()) this.log(renderDoctorText(terminalView(report), { color: useColor() }));
    process.exitCode = report.exitCode;
    return { ok: report.ok, checks: report.checks };
  }
}
