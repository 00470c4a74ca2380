import React from 'react';
import { Box, Text } from 'ink';
import { relativeTime } from '../format.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface PauseBannerProps {
  paused: boolean;
  pausedAt: string | null;
  now: Date;
  color: boolean;
}

/** Impossible to miss while paused; nothing at all otherwise. */
export function PauseBanner({ paused, pausedAt, now, color }: PauseBannerProps) {
  if (!paused) return null;
  const since = pausedAt ? ` since ${relativeTime(new Date(pausedAt), now)}` : '';
  return h(
    Box,
    { borderStyle: 'double', borderColor: tone(color, 'yellow'), paddingX: 1, width: '100%', flexDirection: 'column' },
    h(Text, { bold: true, color: tone(color, 'yellow'), wrap: 'truncate-end' }, `⚠  Automatic triggering is PAUSED${since}`),
    h(Text, { wrap: 'truncate-end' }, 'Run `ktrdr-agent resume` to restart.'),
  );
}
