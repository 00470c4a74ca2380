import type { Kysely } from 'kysely';
import { AgentError, ExitCode } from '../errors.ts';
import { parseDecimal } from '../../config/decimal.ts';
import type { Database } from '../../db/database-schema.ts';
import { effectiveDailyLimit, findBudgetDay, setBudgetLimitOverride } from '../../db/repositories/budget.ts';
import { utcDay } from '../../db/values.ts';
import type { BudgetSetResult } from './schemas.ts';
import { roundUsd } from './session-facts.ts';

export const MAX_DAILY_LIMIT_USD = 100_000;

/** `10`, `10.00`, `$2.5`: a positive dollar amount up to $100,000, to the cent. */
export function parseDailyLimit(text: string): number {
  const trimmed = text.trim().replace(/^\$/, '');
  const amount = parseDecimal(trimmed);
  if (amount === null || amount <= 0 || amount > MAX_DAILY_LIMIT_USD) {
    throw new AgentError(
      `Invalid budget '${text}': give a positive dollar amount up to ${MAX_DAILY_LIMIT_USD}, e.g. \`ktrdr-agent budget set 10.00\`.`,
      ExitCode.Error,
      'invalid_budget',
    );
  }
  return roundUsd(amount);
}

/** Persists the override (and today's row, if there is one) and reports the day against the new limit. */
export async function setDailyLimit(
  db: Kysely<Database>,
  input: { limitUsd: number; configuredLimitUsd: number; now: Date },
): Promise<BudgetSetResult> {
  const previousLimitUsd = await effectiveDailyLimit(db, input.configuredLimitUsd);
  await setBudgetLimitOverride(db, input.limitUsd, input.now);
  const date = utcDay(input.now);
  const today = await findBudgetDay(db, date);
  const usedTodayUsd = today?.usedUsd ?? 0;
  const reservedUsd = today?.reservedUsd ?? 0;
  return {
    limitUsd: input.limitUsd,
    previousLimitUsd,
    date,
    usedTodayUsd,
    remainingTodayUsd: roundUsd(Math.max(0, input.limitUsd - usedTodayUsd - reservedUsd)),
  };
}
