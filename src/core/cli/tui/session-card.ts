import React from 'react';
import { Box, Text } from 'ink';
import { formatDuration, formatUsd, relativeTime } from '../format.ts';
import { describeOperation, truncate } from '../views/phrases.ts';
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
  /** One line instead of a box, for when many sessions share the screen. */
  compact?: boolean;
  /** Strategy column width in compact mode, so the progress bars line up. */
  nameWidth?: number;
}

const phaseColors: Record<ActiveCycle['phase'], string> = {
  designing: 'magenta',
  training: 'cyan',
  backtesting: 'blue',
  assessing: 'yellow',
};

/** One active session: phase, strategy, time in phase, and the KTRDR operation with a progress bar. */
export function SessionCard({ cycle, now, width, color, compact = false, nameWidth = 28 }: SessionCardProps) {
  const operation = cycle.operation;
  const inPhase = formatDuration(secondsBetween(new Date(cycle.phaseStartedAt), now));
  if (compact) return compactLine(cycle, inPhase, width, nameWidth, color);
  const inner = Math.max(10, Math.min(60, width - 4));
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
      `in phase ${inPhase} · started ${relativeTime(new Date(cycle.createdAt), now)} · ${formatUsd(cycle.costUsd)} so far`,
    ),
  ];
  if (operation) {
    rows.push(
      h(
        Text,
        { key: 'operation', wrap: 'truncate-end' },
        `${operation.kind === 'training' ? 'Training' : 'Backtest'} ${describeOperation(operation, now)}${asOf(operation.seenAt, now)}`,
      ),
      h(ProgressBar, { key: 'bar', percentage: operation.percentage, width: inner, color }),
    );
    if (operation.stalled)
      rows.push(h(Text, { key: 'stalled', color: tone(color, 'yellow'), wrap: 'truncate-end' }, 'Stalled: the next tick will resume or fail it.'));
  }
  if (cycle.invocation) {
    rows.push(h(Text, { key: 'agent', wrap: 'truncate-end', color: tone(color, 'magenta') }, `Agent working (${cycle.invocation.owner})`));
  } else if (!operation && cycle.phase !== 'assessing') {
    rows.push(h(Text, { key: 'waiting', wrap: 'truncate-end', dimColor: color }, 'Waiting for the next tick'));
  }
  return h(Box, { flexDirection: 'column', borderStyle: 'round', borderColor: tone(color, phaseColors[cycle.phase]), paddingX: 1, width: '100%' }, ...rows);
}

/** A percentage is only as fresh as the last poll: `· as of 2 minutes ago`. */
export function asOf(seenAt: string | null, now: Date): string {
  return seenAt ? ` · as of ${relativeTime(new Date(seenAt), now)}` : '';
}

function compactLine(cycle: ActiveCycle, inPhase: string, width: number, nameWidth: number, color: boolean) {
  const head = `#${cycle.id} `;
  const phase = cycle.phase.toUpperCase().padEnd(12);
  const name = ` ${inPhase.padStart(7)}  ${truncate(cycle.strategyName ?? '(being designed)', nameWidth).padEnd(nameWidth)}`;
  const operation = cycle.operation;
  const barWidth = operation ? Math.min(24, Math.max(0, width - head.length - phase.length - name.length - 2)) : 0;
  return h(
    Box,
    { width: '100%' },
    h(
      Text,
      { wrap: 'truncate-end' },
      h(Text, { bold: true }, head),
      h(Text, { color: tone(color, phaseColors[cycle.phase]) }, phase),
      name,
      cycle.invocation ? h(Text, { color: tone(color, 'magenta') }, '  agent working') : '',
    ),
    operation && barWidth >= 10 ? h(Box, { marginLeft: 2, flexShrink: 0 }, h(ProgressBar, { percentage: operation.percentage, width: barWidth, color })) : null,
  );
}
