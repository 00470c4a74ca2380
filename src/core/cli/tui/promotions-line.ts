import React from 'react';
import { Text } from 'ink';
import type { StatusView } from '../views/schemas.ts';
import { tone } from './tone.ts';

const h = React.createElement;

/** One line: strategies promoted, promotions waiting for validation, and the validation lane's load. */
export function PromotionsLine({ promotions, color }: { promotions: StatusView['promotions']; color: boolean }) {
  if (!promotions) return h(Text, { dimColor: color, wrap: 'truncate-end' }, 'Promotions: unknown');
  const { promoted, pending, validationsInFlight } = promotions;
  return h(
    Text,
    { wrap: 'truncate-end' },
    h(Text, { color: tone(color, promoted > 0 ? 'green' : 'gray') }, `Promoted: ${promoted}`),
    `, pending validation: ${pending}${validationsInFlight > 0 ? ` (${validationsInFlight} backtest${validationsInFlight === 1 ? '' : 's'} in flight)` : ''}`,
  );
}
