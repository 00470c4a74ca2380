import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { describeConfig, type AgentConfig } from '../core/config/load.ts';
import { modelWarnings } from '../core/config/model-checks.ts';
import { formatUsd, renderTable } from '../core/cli/format.ts';
import { withStore } from '../core/cli/with-store.ts';
import { existsSync } from 'node:fs';
import { storeTarget } from '../core/db/connect.ts';
import { readLimitInForce } from '../core/db/budget-ledger.ts';

interface EffectiveDailyLimit {
  usd: number | null;
  /** `override`: set with `budget set`, it wins over the setting; `setting`: AGENT_BUDGET_DAILY_USD; `unknown`: no database. */
  source: 'override' | 'setting' | 'unknown';
  settingUsd: number;
  note: string;
}

/** The limit a tick would use today: a `budget set` override in the database wins over AGENT_BUDGET_DAILY_USD. */
async function effectiveLimit(config: AgentConfig): Promise<EffectiveDailyLimit> {
  const settingUsd = config.settings.AGENT_BUDGET_DAILY_USD;
  const settingSource = config.sources.AGENT_BUDGET_DAILY_USD;
  const from = settingSource.kind === 'file' ? `file ${settingSource.path}` : settingSource.kind;
  const setting: EffectiveDailyLimit = { usd: settingUsd, source: 'setting', settingUsd, note: `AGENT_BUDGET_DAILY_USD (${from})` };
  const target = storeTarget(config);
  // A fresh install has no embedded database yet, so no override: `config` must not create one to find out.
  if (target.kind === 'pglite' && target.dataDir && !existsSync(target.dataDir)) return setting;
  try {
    const limit = await withStore(config, (db) => readLimitInForce(db, settingUsd, new Date()), 1000);
    if (limit.source === 'setting') return setting;
    return {
      usd: limit.limitUsd,
      source: 'override',
      settingUsd,
      note: `database override from \`budget set\`, wins over AGENT_BUDGET_DAILY_USD=${formatUsd(settingUsd)} (${from}); \`budget set --clear\` removes it`,
    };
  } catch (error) {
    return {
      usd: null,
      source: 'unknown',
      settingUsd,
      note: `AGENT_BUDGET_DAILY_USD is ${formatUsd(settingUsd)} (${from}), but the database could not be read to see a \`budget set\` override: ${(error as Error).message}`,
    };
  }
}

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
    const effectiveDailyLimitUsd = await effectiveLimit(config);
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
