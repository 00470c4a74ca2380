import type { Kysely } from 'kysely';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import { parseDecimal } from '../../config/decimal.ts';
import type { Database } from '../../db/database-schema.ts';
import { findBudgetDay, setBudgetLimitOverride } from '../../db/repositories/budget.ts';
import { readLimitInForce } from '../../db/budget-ledger.ts';
import { limitInForce, remainingUsd } from '../../budget/daily-limit.ts';
import type { BudgetSetResult } from '../views/schemas.ts';
import { shownUsd } from '../../budget/money.ts';

export const MAX_DAILY_LIMIT_USD = 100_000;

/**
 * `10`, `10.00`, `$2.5`: a positive dollar amount up to $100,000. Money is kept to the cent: `10.005` is rounded
 * (half up, on the decimal digits, not on a binary float) and the result says so.
 */
export function parseDailyLimit(text: string): { limitUsd: number; roundedFrom: string | null } {
  const trimmed = text.trim().replace(/^\$/, '');
  const match = /^(\d*)(?:\.(\d+))?$/.exec(trimmed);
  const invalid = (detail?: string) =>
    new AgentError(
      `Invalid budget '${text}': give a positive dollar amount up to ${MAX_DAILY_LIMIT_USD}${detail ? ` (${detail})` : ''}, e.g. \`ktrdr-agent budget set 10.00\`.`,
      ExitCode.Error,
      'invalid_budget',
    );
  // The one decimal syntax of every setting and argument (no `0x10`, `1e1`, `Infinity`).
  if (parseDecimal(trimmed) === null || !match || (match[1] === '' && match[2] === undefined)) throw invalid();
  const decimals = match[2] ?? '';
  const cents = BigInt(match[1] || '0') * 100n + BigInt(decimals.slice(0, 2).padEnd(2, '0')) + (Number(decimals[2] ?? '0') >= 5 ? 1n : 0n);
  if (cents <= 0n) throw invalid(/[1-9]/.test(trimmed) ? 'it rounds to $0.00' : undefined);
  if (cents > BigInt(MAX_DAILY_LIMIT_USD) * 100n) throw invalid();
  const limitUsd = Number(cents) / 100;
  return { limitUsd, roundedFrom: decimals.replace(/0+$/, '').length > 2 ? trimmed : null };
}

/** Persists the override (and today's row, if there is one) and reports the day against the new limit. */
export async function setDailyLimit(
  db: Kysely<Database>,
  input: { limitUsd: number | null; roundedFrom?: string | null; configuredLimitUsd: number; now: Date },
): Promise<BudgetSetResult> {
  const previousLimitUsd = (await readLimitInForce(db, input.configuredLimitUsd, input.now)).limitUsd;
  // null clears the override: the configured AGENT_BUDGET_DAILY_USD applies again, from today.
  await setBudgetLimitOverride(db, input.limitUsd, input.configuredLimitUsd, input.now);
  const { limitUsd, date } = limitInForce({ settingUsd: input.configuredLimitUsd, overrideUsd: input.limitUsd, now: input.now });
  const today = await findBudgetDay(db, date);
  const usedTodayUsd = today?.usedUsd ?? 0;
  const reservedUsd = today?.reservedUsd ?? 0;
  return {
    limitUsd,
    previousLimitUsd,
    source: input.limitUsd === null ? 'config' : 'override',
    configuredLimitUsd: input.configuredLimitUsd,
    roundedFrom: input.roundedFrom ?? null,
    date,
    usedTodayUsd: shownUsd(usedTodayUsd),
    remainingTodayUsd: shownUsd(remainingUsd({ limitUsd, usedUsd: usedTodayUsd, reservedUsd })),
  };
}
