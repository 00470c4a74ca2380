import React from 'react';
import { Box, Text } from 'ink';
import type { StatusView } from '../views/schemas.ts';
import { BudgetGauge } from './budget-gauge.ts';
import { LastTick } from './last-tick.ts';
import { PauseBanner } from './pause-banner.ts';
import { FaultBanners } from './fault-banners.ts';
import { RecentOutcomes } from './recent-outcomes.ts';
import { SessionCard } from './session-card.ts';
import { tone } from './tone.ts';
import { utilizationSummary } from '../views/utilization.ts';

const h = React.createElement;

export interface DashboardProps {
  view: StatusView;
  now: Date;
  /** Terminal columns; every line is cut to fit. */
  width: number;
  /** Terminal rows, when known: cards that do not fit become one line each, and lines that do not fit are counted. */
  height?: number;
  color: boolean;
}

// Lines the fixed parts take (header, recent cycles, budget, last tick, footer and the gaps between them), and the
// height of one session card: when the cards do not fit, each session gets one line instead.
const FIXED_ROWS = 19;
const CARD_ROWS = 6;

/** One frame of `status --watch`, drawn from a status view. */
export function Dashboard({ view, now, width, height, color }: DashboardProps) {
  const faultBanners = view.banners.filter((banner) => banner.kind !== 'paused').length;
  const pauseRows = (view.paused ? 4 : 0) + (faultBanners > 0 ? 2 + 2 * faultBanners : 0);
  const spare = height === undefined ? Number.POSITIVE_INFINITY : height - FIXED_ROWS - pauseRows;
  // A short terminal keeps at least one active line and one recent cycle; recent cycles give way first.
  const recent = view.recent.slice(0, Math.max(1, Math.min(view.recent.length, spare - 1)));
  const room = Math.max(1, spare - recent.length);
  const compact = view.active.length * CARD_ROWS > room;
  // In compact mode one line is kept for the "+ N more" note when some do not fit.
  const shown = compact ? (view.activeTotal > room ? Math.max(1, room - 1) : room) : view.active.length;
  const cards = view.active.slice(0, shown);
  const nameWidth = Math.min(Math.max(8, Math.floor(width * 0.3)), Math.max(8, ...cards.map((c) => (c.strategyName ?? '(being designed)').length)));
  const hidden = view.activeTotal - cards.length;
  const title = view.activeTotal === 0 ? 'No active cycle' : view.activeTotal === 1 ? 'Current cycle' : `Current cycles (${view.activeTotal})`;
  return h(
    Box,
    { flexDirection: 'column', width: '100%' },
    h(PauseBanner, { paused: view.paused, pausedAt: view.pausedAt, now, color }),
    h(FaultBanners, { banners: view.banners, color }),
    h(Text, { bold: true, color: tone(color, 'cyan') }, title),
    h(Text, { wrap: 'truncate-end', dimColor: color }, utilizationSummary(view.utilization ?? null, view.activeTotal)),
    ...cards.map((cycle) => h(SessionCard, { key: cycle.id, cycle, now, width, color, compact, nameWidth })),
    ...(view.activeTotal === 0
      ? [h(Text, { key: 'idle', dimColor: color }, view.paused ? 'Paused: no new cycle will start.' : 'The next tick starts a cycle if the budget allows.')]
      : []),
    ...(hidden > 0 ? [h(Text, { key: 'hidden', dimColor: color }, `+ ${hidden} more active (ktrdr-agent history)`)] : []),
    h(Box, { marginTop: 1 }, h(RecentOutcomes, { cycles: recent, now, width, color })),
    h(Box, { marginTop: 1 }, h(BudgetGauge, { budget: view.budget, width, color })),
    h(Box, { marginTop: 1 }, h(LastTick, { tick: view.lastTick, now, color })),
  );
}
