import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { describeConfig } from '../core/config/load.ts';
import { renderTable } from '../core/cli/format.ts';
import { modelWarnings } from '../core/config/model-checks.ts';

export default class Config extends AgentCommand {
  static override summary = 'Show the effective settings and where each came from (secrets masked).';
  static override description = `Settings come from the environment first, then --env-file, KTRDR_AGENT_ENV_FILE, and ~/.config/ktrdr-agent/agent.env, then defaults.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json', '<%= config.bin %> config --env-file /etc/ktrdr-agent/agent.env'];

  async run() {
    const { flags } = await this.parse(Config);
    const config = this.loadAgentConfig(flags['env-file']);
    const settings = describeConfig(config);
    const warnings = config.settings.AGENT_DESIGNER === 'claude' ? modelWarnings(config.settings) : [];
    for (const warning of warnings) this.warn(warning);
    const result = { dataDir: config.dataDir, strategiesDir: config.strategiesDir, envFiles: config.envFiles, settings, warnings };
    if (!this.jsonEnabled()) {
      this.log(renderTable(['Setting', 'Value', 'Source'], settings.map((s) => [s.name, s.value ?? '(unset)', s.source])));
      this.log(config.envFiles.length > 0 ? `Env files read: ${config.envFiles.join(', ')}` : 'Env files read: none');
    }
    return result;
  }
}
