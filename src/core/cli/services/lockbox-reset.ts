// `lockbox reset`: the operator burns a boundary on purpose.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { burnLockbox, findLockbox, listLockboxUses } from '../../db/repositories/lockboxes.ts';
import { AgentError, ExitCode } from '../../kernel/errors.ts';
import type { LockboxResetResult } from '../views/promotion-schemas.ts';
import { lockboxEntry } from '../views/promotion-view.ts';

type Db = Kysely<Database>;

/**
 * An operator's deliberate move of a boundary. Without `confirm` nothing changes and the error says why (exit 1);
 * a pair with no boundary in force exits 4. The burned boundary stays listed with its consultations.
 */
export async function resetLockbox(db: Db, input: { symbol: string; timeframe: string; confirm: boolean; now: Date }): Promise<LockboxResetResult> {
  const current = await findLockbox(db, input.symbol, input.timeframe);
  if (!current) {
    throw new AgentError(
      `No lockbox is in force for ${input.symbol} ${input.timeframe}: nothing to reset. \`ktrdr-agent lockbox\` lists the boundaries (symbol and timeframe as shown there).`,
      ExitCode.NotFound,
      'not_found',
    );
  }
  if (!input.confirm) {
    const uses = (await listLockboxUses(db)).find((u) => u.id === current.id);
    throw new AgentError(
      `Nothing changed: resetting the lockbox of ${input.symbol} ${input.timeframe} (from ${current.startDate}, consulted ${uses?.consultations ?? 0} time(s)) burns it: ` +
        'its data becomes part of the search period, and the next need fixes a new boundary from the most recent data. Run it again with --confirm to do so.',
      ExitCode.Error,
      'confirmation_required',
    );
  }
  const burned = await burnLockbox(db, {
    symbol: input.symbol,
    timeframe: input.timeframe,
    reason: 'reset by the operator (lockbox reset --confirm)',
    now: input.now,
  });
  const uses = (await listLockboxUses(db)).find((u) => u.id === burned!.id)!;
  return { symbol: input.symbol, timeframe: input.timeframe, burned: lockboxEntry(uses) };
}
