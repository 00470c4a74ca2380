import React from 'react';
import { Box, Text } from 'ink';
import { formatPercent, formatUsd } from '../format.ts';
import type { TodayBudget } from '../views/schemas.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface BudgetGaugeProps {
  budget: TodayBudget;
  width: number;
  color: boolean;
}

/** Today's spend against the daily limit as a gauge that turns yellow at 70% and red at 90%. */
export function BudgetGauge({ budget, width, color }: BudgetGaugeProps) {
  const fraction = budget.usedFraction;
  const label = `${formatUsd(budget.usedUsd)} / ${formatUsd(budget.limitUsd)}${fraction === null ? '' : ` (${formatPercent(fraction)})`}`;
  const barWidth = Math.max(4, Math.min(40, width - label.length - 3));
  const filled = fraction === null ? barWidth : Math.round(Math.min(1, Math.max(0, fraction)) * barWidth);
  const level = fraction === null || fraction >= 0.9 ? 'red' : fraction >= 0.7 ? 'yellow' : 'green';
  const reserved = budget.reservedUsd > 0 ? ` · ${formatUsd(budget.reservedUsd)} in flight` : '';
  return h(
    Box,
    { flexDirection: 'column', width: '100%' },
    h(Text, { bold: true }, `Budget today (${budget.date} UTC)`),
    h(
      Text,
      { wrap: 'truncate-end' },
      '[',
      h(Text, { color: tone(color, level) }, '█'.repeat(filled)),
      h(Text, { color: tone(color, 'gray') }, '░'.repeat(barWidth - filled)),
      `] ${label}`,
    ),
    h(
      Text,
      { wrap: 'truncate-end', dimColor: color },
      `${formatUsd(budget.remainingUsd)} left${reserved} · ${budget.invocations} invocations · ${budget.cyclesCompleted} completed, ${budget.cyclesActive} active`,
    ),
  );
}
