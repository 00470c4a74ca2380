import React from 'react';
import { Box, Text } from 'ink';
import { describeTick } from '../views/phrases.ts';
import type { LastTick as LastTickView } from '../views/schemas.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface LastTickProps {
  tick: LastTickView | null;
  now: Date;
  color: boolean;
  /** Decision lines shown at most; the rest are counted. */
  maxDetails?: number;
}

/** When cron last ran a tick and what it decided. */
export function LastTick({ tick, now, color, maxDetails = 3 }: LastTickProps) {
  if (!tick) {
    return h(
      Box,
      { flexDirection: 'column', width: '100%' },
      h(Text, { bold: true }, 'Last tick'),
      h(Text, { color: tone(color, 'yellow'), wrap: 'truncate-end' }, 'No tick has run yet: schedule `ktrdr-agent tick` from cron.'),
    );
  }
  const { headline, details, stale } = describeTick(tick, now);
  const shown = details.slice(0, maxDetails);
  if (details.length > shown.length) shown.push(`… ${details.length - shown.length} more`);
  const statusColor = tick.status === 'error' ? 'red' : tick.status === 'ok' ? 'green' : 'yellow';
  return h(
    Box,
    { flexDirection: 'column', width: '100%' },
    h(Text, { wrap: 'truncate-end' }, h(Text, { bold: true }, 'Last tick '), h(Text, { color: tone(color, statusColor) }, headline)),
    ...shown.map((detail, index) => h(Text, { key: index, wrap: 'truncate-end', dimColor: color }, `  ${detail}`)),
    ...(stale ? [h(Text, { key: 'stale', color: tone(color, 'yellow'), wrap: 'truncate-end' }, 'No tick for a while: is the cron job running?')] : []),
  );
}
