import type { AgentConfig } from '../../config/load.ts';

/** The view options every read command takes from the configuration. */
export function viewSettings(config: AgentConfig): {
  configuredLimitUsd: number;
  stallAfterSeconds: number;
  bufferUsd: number;
  budgetBinds: boolean;
  faultBackoffMinutes: number;
} {
  return {
    configuredLimitUsd: config.settings.AGENT_BUDGET_DAILY_USD,
    stallAfterSeconds: config.settings.AGENT_STALL_TIMEOUT_MINUTES * 60,
    bufferUsd: config.settings.AGENT_BUDGET_BUFFER_USD,
    budgetBinds: config.settings.AGENT_DESIGNER === 'claude' && config.settings.AGENT_BUDGET_ENFORCEMENT,
    faultBackoffMinutes: config.settings.AGENT_FAULT_BACKOFF_MINUTES,
  };
}
