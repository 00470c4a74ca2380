import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { describeConfig } from '../core/config/load.ts';
import { modelWarnings } from '../core/config/model-checks.ts';
import { formatUsd, renderTable } from '../core/cli/format.ts';
import { readEffectiveDailyLimit } from '../core/cli/views/config-view.ts';

export default class Config extends AgentCommand {
  static override summary = 'Show the effective settings and where each came from (secrets masked).';
  static override description =
    `Settings come from the environment first, then --agent-env, KTRDR_AGENT_ENV_FILE, and ~/.config/ktrdr-agent/agent.env, then defaults. The effective daily budget also reads the database: a \`budget set\` override wins over AGENT_BUDGET_DAILY_USD.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json', '<%= config.bin %> config --agent-env /etc/ktrdr-agent/agent.env'];

  async run() {
    const { flags } = await this.parse(Config);
    const config = this.loadAgentConfig();
    const settings = describeConfig(config);
    const warnings = config.settings.AGENT_DESIGNER === 'claude' ? modelWarnings(config.settings) : [];
    for (const warning of warnings) this.warn(warning);
    const effectiveDailyLimitUsd = await readEffectiveDailyLimit(config, new Date());
    const result = { dataDir: config.dataDir, strategiesDir: config.strategiesDir, envFiles: config.envFiles, settings, warnings, effectiveDailyLimitUsd };
    if (!this.jsonEnabled()) {
      this.log(
        renderTable(
          ['Setting', 'Value', 'Source'],
          settings.map((s) => [s.name, s.value ?? '(unset)', s.source]),
        ),
      );
      this.log(config.envFiles.length > 0 ? `Env files read: ${config.envFiles.join(', ')}` : 'Env files read: none');
      const shown = effectiveDailyLimitUsd.usd === null ? 'unknown' : `${formatUsd(effectiveDailyLimitUsd.usd)}/day`;
      this.log(`Effective daily budget: ${shown} (${effectiveDailyLimitUsd.note})`);
    }
    return result;
  }
}
