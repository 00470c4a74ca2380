import React from 'react';
import { Box, Text } from 'ink';
import { relativeTime } from '../format.ts';
import { cycleDetail, outcomeWord, truncate } from '../views/phrases.ts';
import type { RecentCycle } from '../views/schemas.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface RecentOutcomesProps {
  cycles: RecentCycle[];
  now: Date;
  width: number;
  color: boolean;
}

const wordColors = { SUCCESS: 'green', FAILED: 'red', CANCELLED: 'yellow' } as const;

/** The last finished cycles, one line each: outcome, strategy, Sharpe or the reason it stopped, when. */
export function RecentOutcomes({ cycles, now, width, color }: RecentOutcomesProps) {
  const idWidth = Math.max(3, ...cycles.map((c) => String(c.id).length + 1));
  const nameWidth = Math.min(28, Math.max(8, Math.floor(width * 0.25)), Math.max(8, ...cycles.map((c) => (c.strategyName ?? '(unnamed)').length)));
  const lines = cycles.map((cycle) => {
    const word = outcomeWord(cycle.outcome);
    const when = relativeTime(new Date(cycle.completedAt), now);
    const fixed = idWidth + 1 + 10 + nameWidth + 2 + when.length + 2;
    const detail = truncate(cycleDetail(cycle), Math.max(8, width - fixed));
    return h(
      Text,
      { key: cycle.id, wrap: 'truncate-end' },
      `${`#${cycle.id}`.padEnd(idWidth)} `,
      h(Text, { color: tone(color, wordColors[word]), bold: true }, word.padEnd(10)),
      truncate(cycle.strategyName ?? '(unnamed)', nameWidth).padEnd(nameWidth),
      `  ${detail}  `,
      h(Text, { dimColor: color }, when),
    );
  });
  return h(
    Box,
    { flexDirection: 'column', width: '100%' },
    h(Text, { bold: true }, 'Recent cycles'),
    ...(lines.length > 0 ? lines : [h(Text, { key: 'none', dimColor: color }, 'No finished cycles yet')]),
  );
}
