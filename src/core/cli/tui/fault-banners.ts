import React from 'react';
import { Box, Text } from 'ink';
import type { Banner } from '../views/schemas.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface FaultBannersProps {
  /** The status view's banners; the pause has its own banner. */
  banners: Banner[];
  color: boolean;
  /** One cut line per banner, without the advice: for a terminal too short for them in full. */
  compact?: boolean;
}

/** What keeps the loop from its work (a refused key, KTRDR down, a spent budget, a stopped schedule); nothing otherwise. */
export function FaultBanners({ banners, color, compact = false }: FaultBannersProps) {
  const shown = banners.filter((banner) => banner.kind !== 'paused');
  if (shown.length === 0) return null;
  if (compact) {
    return h(
      Box,
      { borderStyle: 'double', borderColor: tone(color, 'red'), paddingX: 1, width: '100%', flexDirection: 'column' },
      ...shown.map((banner) =>
        h(
          Text,
          { key: banner.kind, bold: true, color: tone(color, banner.kind === 'budget_exhausted' ? 'yellow' : 'red'), wrap: 'truncate-end' },
          `⚠  ${banner.message}`,
        ),
      ),
    );
  }
  return h(
    Box,
    { borderStyle: 'double', borderColor: tone(color, 'red'), paddingX: 1, width: '100%', flexDirection: 'column' },
    ...shown.flatMap((banner) => [
      h(
        Text,
        { key: `${banner.kind}-message`, bold: true, color: tone(color, banner.kind === 'budget_exhausted' ? 'yellow' : 'red'), wrap: 'wrap' },
        `⚠  ${banner.message}`,
      ),
      h(Text, { key: `${banner.kind}-advice`, wrap: 'wrap' }, `   ${banner.advice}`),
    ]),
  );
}
