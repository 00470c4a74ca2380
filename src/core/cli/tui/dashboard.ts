import React from 'react';
import { Box, Text } from 'ink';
import type { StatusView } from '../views/schemas.ts';
import { BudgetGauge } from './budget-gauge.ts';
import { LastTick } from './last-tick.ts';
import { PauseBanner } from './pause-banner.ts';
import { FaultBanners } from './fault-banners.ts';
import { RecentOutcomes } from './recent-outcomes.ts';
import { SessionCard } from './session-card.ts';
import { dashboardLayout } from './dashboard-layout.ts';
import { tone } from './tone.ts';
import { PromotionsLine } from './promotions-line.ts';
import { utilizationSummary } from '../views/utilization.ts';

const h = React.createElement;

export interface DashboardProps {
  view: StatusView;
  now: Date;
  /** Terminal columns; every line is cut to fit. */
  width: number;
  /** Terminal rows, when known: cards that do not fit become one line each, and sections that do not fit give way. */
  height?: number;
  color: boolean;
}

/** One frame of `status --watch`, drawn from a status view; with `height`, only what fits those rows. */
export function Dashboard({ view, now, width, height, color }: DashboardProps) {
  const layout = dashboardLayout(view, width, height);
  const { compact } = layout;
  const cards = view.active.slice(0, layout.cycles);
  const nameWidth = Math.min(Math.max(8, Math.floor(width * 0.3)), Math.max(8, ...cards.map((c) => (c.strategyName ?? '(being designed)').length)));
  const hidden = view.activeTotal - cards.length;
  const title = view.activeTotal === 0 ? 'No active cycle' : view.activeTotal === 1 ? 'Current cycle' : `Current cycles (${view.activeTotal})`;
  return h(
    Box,
    { flexDirection: 'column', width: '100%' },
    h(PauseBanner, { paused: view.paused, pausedAt: view.pausedAt, now, color }),
    h(FaultBanners, { banners: view.banners, color, compact: layout.compactBanners }),
    h(Text, { bold: true, color: tone(color, 'cyan'), wrap: 'truncate-end' }, title),
    h(Text, { wrap: 'truncate-end', dimColor: color }, utilizationSummary(view.utilization ?? null, view.activeTotal)),
    ...cards.map((cycle) => h(SessionCard, { key: cycle.id, cycle, now, width, color, compact, nameWidth })),
    ...(view.activeTotal === 0
      ? [
          h(
            Text,
            { key: 'idle', dimColor: color, wrap: 'truncate-end' },
            view.paused ? 'Paused: no new cycle will start.' : 'The next tick starts a cycle if the budget allows.',
          ),
        ]
      : []),
    ...(hidden > 0 ? [h(Text, { key: 'hidden', dimColor: color, wrap: 'truncate-end' }, `+ ${hidden} more active (ktrdr-agent history)`)] : []),
    layout.recent !== null ? h(Box, { marginTop: 1 }, h(RecentOutcomes, { cycles: view.recent.slice(0, layout.recent), now, width, color })) : null,
    layout.budget ? h(Box, { marginTop: 1 }, h(BudgetGauge, { budget: view.budget, width, color })) : null,
    // Strategies promoted and pending validation: one line under the budget, laid out with it (dashboard-layout.ts).
    layout.budget ? h(PromotionsLine, { promotions: view.promotions, color }) : null,
    layout.tickDetails !== null ? h(Box, { marginTop: 1 }, h(LastTick, { tick: view.lastTick, now, color, maxDetails: layout.tickDetails })) : null,
  );
}
