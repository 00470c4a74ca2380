// The read model behind `budget`: today's figures, and one entry per UTC day of the window (days without a budget
// row show as zero). Budget rows are read by their date key; per-day cycle counts come from index-only range scans
// of idx_sessions_completed and idx_sessions_outcome.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { readControl } from '../../db/repositories/control.ts';
import { budgetHistory } from '../../db/repositories/budget.ts';
import { estimatedSpendUsd } from '../../db/repositories/budget-reservations.ts';
import { sessionsCompletedPerDay } from '../../db/read-models/budget.ts';
import { utcDay } from '../../kernel/utc-day.ts';
import type { BudgetDayEntry, BudgetView } from './schemas.ts';
import { shownUsd } from '../../budget/money.ts';
import { countActiveSessions } from '../../db/repositories/sessions.ts';
import { loadTodayBudget } from './status-view.ts';
import { startOfUtcDay } from '../../kernel/utc-day.ts';

type Db = Kysely<Database>;

export interface BudgetViewOptions {
  now: Date;
  /** Days of history ending today (today included); 0 shows today only. */
  days: number;
  configuredLimitUsd: number;
  bufferUsd: number;
  enforcement: boolean;
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_MS = 86_400_000;

export async function loadBudgetView(db: Db, options: BudgetViewOptions): Promise<BudgetView> {
  const todayStart = startOfUtcDay(options.now);
  const firstDay = new Date(todayStart.getTime() - Math.max(0, options.days - 1) * DAY_MS);
  const [control, activeTotal, rows, completed, successful, estimatedToday] = await Promise.all([
    readControl(db),
    countActiveSessions(db),
    budgetHistory(db, utcDay(firstDay)),
    sessionsCompletedPerDay(db, firstDay, false),
    sessionsCompletedPerDay(db, firstDay, true),
    estimatedSpendUsd(db, { date: utcDay(todayStart) }),
  ]);
  const today = await loadTodayBudget(db, {
    now: options.now,
    configuredLimitUsd: options.configuredLimitUsd,
    overrideLimitUsd: control.budgetLimitUsd,
    activeTotal,
  });
  const byDate = new Map(rows.map((row) => [row.date, row]));
  const days: BudgetDayEntry[] = [];
  for (let i = 0; i < options.days; i++) {
    const start = new Date(firstDay.getTime() + i * DAY_MS);
    const date = utcDay(start);
    const row = byDate.get(date);
    const isToday = date === today.date;
    days.push({
      date,
      weekday: weekdays[start.getUTCDay()]!,
      today: isToday,
      limitUsd: isToday ? today.limitUsd : (row?.limitUsd ?? null),
      usedUsd: row?.usedUsd ?? 0,
      invocations: row?.invocations ?? 0,
      cyclesCompleted: completed.get(date) ?? 0,
      successful: successful.get(date) ?? 0,
    });
  }
  // The window always starts at or before today, so the per-day counts include today.
  const todaySuccessful = successful.get(today.date) ?? 0;
  return {
    generatedAt: options.now.toISOString(),
    today: {
      ...today,
      successful: todaySuccessful,
      avgCostPerInvocationUsd: today.invocations > 0 ? shownUsd(today.usedUsd / today.invocations) : null,
      estimatedUsd: shownUsd(estimatedToday),
    },
    configuredLimitUsd: options.configuredLimitUsd,
    bufferUsd: options.bufferUsd,
    enforcement: options.enforcement,
    days,
    totals: {
      usedUsd: shownUsd(days.reduce((sum, d) => sum + d.usedUsd, 0)),
      invocations: days.reduce((sum, d) => sum + d.invocations, 0),
      cyclesCompleted: days.reduce((sum, d) => sum + d.cyclesCompleted, 0),
      successful: days.reduce((sum, d) => sum + d.successful, 0),
    },
  };
}
