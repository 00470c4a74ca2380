import React from 'react';
import { Box, Text } from 'ink';
import { formatDuration, formatUsd, relativeTime } from '../format.ts';
import { describeOperation } from '../views/phrases.ts';
import { secondsBetween } from '../views/session-facts.ts';
import type { ActiveCycle } from '../views/schemas.ts';
import { ProgressBar } from './progress-bar.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface SessionCardProps {
  cycle: ActiveCycle;
  now: Date;
  width: number;
  color: boolean;
}

const phaseColors: Record<ActiveCycle['phase'], string> = {
  designing: 'magenta',
  training: 'cyan',
  backtesting: 'blue',
  assessing: 'yellow',
};

/** One active session: phase, strategy, time in phase, and the KTRDR operation with a progress bar. */
export function SessionCard({ cycle, now, width, color }: SessionCardProps) {
  const inner = Math.max(10, width - 4);
  const operation = cycle.operation;
  const rows: React.ReactNode[] = [
    h(
      Text,
      { key: 'title', wrap: 'truncate-end' },
      h(Text, { bold: true }, `#${cycle.id} `),
      h(Text, { bold: true, color: tone(color, phaseColors[cycle.phase]) }, cycle.phase.toUpperCase()),
      `  ${cycle.strategyName ?? '(being designed)'}`,
    ),
    h(
      Text,
      { key: 'times', wrap: 'truncate-end', dimColor: color },
      `in phase ${formatDuration(secondsBetween(new Date(cycle.phaseStartedAt), now))} · started ${relativeTime(new Date(cycle.createdAt), now)} · ${formatUsd(cycle.costUsd)} so far`,
    ),
  ];
  if (operation) {
    rows.push(
      h(Text, { key: 'operation', wrap: 'truncate-end' }, `${operation.kind === 'training' ? 'Training' : 'Backtest'} ${describeOperation(operation, now)}`),
      h(ProgressBar, { key: 'bar', percentage: operation.percentage, width: inner, color }),
    );
    if (operation.stalled) rows.push(h(Text, { key: 'stalled', color: tone(color, 'yellow') }, 'Stalled: the next tick will resume or fail it.'));
  }
  if (cycle.invocation) {
    rows.push(h(Text, { key: 'agent', wrap: 'truncate-end', color: tone(color, 'magenta') }, `Agent working (${cycle.invocation.owner})`));
  } else if (!operation && cycle.phase !== 'assessing') {
    rows.push(h(Text, { key: 'waiting', wrap: 'truncate-end', dimColor: color }, 'Waiting for the next tick'));
  }
  return h(
    Box,
    { flexDirection: 'column', borderStyle: 'round', borderColor: tone(color, phaseColors[cycle.phase]), paddingX: 1, width },
    ...rows,
  );
}
