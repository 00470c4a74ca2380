import { existsSync } from 'node:fs';
import type { AgentConfig } from '../../config/load.ts';
import { readLimitInForce } from '../../db/budget-ledger.ts';
import { storeTarget } from '../../db/connect.ts';
import { formatUsd } from '../format.ts';
import { withStore } from '../with-store.ts';

export interface EffectiveDailyLimit {
  usd: number | null;
  /** `override`: set with `budget set`, it wins over the setting; `setting`: AGENT_BUDGET_DAILY_USD; `unknown`: no database. */
  source: 'override' | 'setting' | 'unknown';
  settingUsd: number;
  note: string;
}

/** The limit a tick would use today: a `budget set` override in the database wins over AGENT_BUDGET_DAILY_USD. */
export async function readEffectiveDailyLimit(config: AgentConfig, now: Date): Promise<EffectiveDailyLimit> {
  const settingUsd = config.settings.AGENT_BUDGET_DAILY_USD;
  const settingSource = config.sources.AGENT_BUDGET_DAILY_USD;
  const from = settingSource.kind === 'file' ? `file ${settingSource.path}` : settingSource.kind;
  const setting: EffectiveDailyLimit = { usd: settingUsd, source: 'setting', settingUsd, note: `AGENT_BUDGET_DAILY_USD (${from})` };
  const target = storeTarget(config);
  // A fresh install has no embedded database yet, so no override: `config` must not create one to find out.
  if (target.kind === 'pglite' && target.dataDir && !existsSync(target.dataDir)) return setting;
  try {
    const limit = await withStore(config, (db) => readLimitInForce(db, settingUsd, now), 1000);
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
