import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AgentLockboxesTable, Database } from '../database-schema.ts';
import { toDate, toDateOrNull, toNumber } from '../values.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface Lockbox {
  id: number;
  symbol: string;
  timeframe: string;
  /** First day held back (UTC, YYYY-MM-DD); the search period ends the day before. */
  startDate: string;
  months: number;
  dataStart: string | null;
  /** KTRDR's last day of data when the boundary was fixed. */
  dataEnd: string;
  fixedAt: Date;
  burnedAt: Date | null;
  burnedReason: string | null;
}

function toLockbox(row: Selectable<AgentLockboxesTable>): Lockbox {
  return {
    id: row.id,
    symbol: row.symbol,
    timeframe: row.timeframe,
    startDate: row.start_date,
    months: row.months,
    dataStart: row.data_start,
    dataEnd: row.data_end,
    fixedAt: toDate(row.fixed_at),
    burnedAt: toDateOrNull(row.burned_at),
    burnedReason: row.burned_reason,
  };
}

/** The boundary in force for a symbol and timeframe, or null when none was needed yet (or the last was burned). */
export async function findLockbox(db: Db, symbol: string, timeframe: string): Promise<Lockbox | null> {
  const row = await db
    .selectFrom('agent_lockboxes')
    .selectAll()
    .where('symbol', '=', symbol)
    .where('timeframe', '=', timeframe)
    .where('burned_at', 'is', null)
    .executeTakeFirst();
  return row ? toLockbox(row) : null;
}

/**
 * Fixes a boundary unless one is already in force; either way returns the one in force. Two passes fixing the same
 * boundary at once agree on the first writer's (the partial unique index decides), so a boundary never moves by itself.
 */
export async function fixLockbox(
  db: Db,
  input: { symbol: string; timeframe: string; startDate: string; months: number; dataStart: string | null; dataEnd: string; now: Date },
): Promise<Lockbox> {
  await sql`
    INSERT INTO agent_lockboxes (symbol, timeframe, start_date, months, data_start, data_end, fixed_at)
    VALUES (${input.symbol}, ${input.timeframe}, ${input.startDate}, ${input.months}, ${input.dataStart}, ${input.dataEnd}, ${input.now})
    ON CONFLICT (symbol, timeframe) WHERE burned_at IS NULL DO NOTHING`.execute(db);
  const fixed = await findLockbox(db, input.symbol, input.timeframe);
  if (!fixed) throw new Error(`the lockbox of ${input.symbol} ${input.timeframe} could not be fixed`);
  return fixed;
}

/** An operator's deliberate move: the boundary in force is burned (kept, with its consultations); the next need fixes a new one. */
export async function burnLockbox(db: Db, input: { symbol: string; timeframe: string; reason: string; now: Date }): Promise<Lockbox | null> {
  const row = await db
    .updateTable('agent_lockboxes')
    .set({ burned_at: input.now, burned_reason: input.reason })
    .where('symbol', '=', input.symbol)
    .where('timeframe', '=', input.timeframe)
    .where('burned_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  return row ? toLockbox(row) : null;
}

export interface LockboxUse extends Lockbox {
  /** Lockbox backtests whose results the system read (each is a trial on this data). */
  consultations: number;
  /** Experiments whose promotion consulted it, oldest first. */
  experimentIds: number[];
}

/** Every boundary, in force and burned, with how often it was consulted and by which experiments. */
export async function listLockboxUses(db: Db): Promise<LockboxUse[]> {
  const rows = await db.selectFrom('agent_lockboxes').selectAll().orderBy('symbol').orderBy('timeframe').orderBy('id').execute();
  const uses = await db
    .selectFrom('agent_validation_backtests as v')
    .innerJoin('agent_promotions as p', 'p.id', 'v.promotion_id')
    .select(['v.lockbox_id', 'p.experiment_id'])
    .where('v.kind', '=', 'lockbox')
    .where('v.status', '=', 'completed')
    .orderBy('p.experiment_id')
    .execute();
  const byLockbox = new Map<number, number[]>();
  for (const use of uses) {
    if (use.lockbox_id === null) continue;
    const list = byLockbox.get(use.lockbox_id) ?? [];
    list.push(toNumber(use.experiment_id));
    byLockbox.set(use.lockbox_id, list);
  }
  return rows.map((row) => {
    const experiments = byLockbox.get(row.id) ?? [];
    return { ...toLockbox(row), consultations: experiments.length, experimentIds: experiments };
  });
}
