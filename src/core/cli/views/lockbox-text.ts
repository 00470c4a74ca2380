import { formatTimestamp, renderTable } from '../format.ts';
import type { LockboxView } from './promotion-schemas.ts';
import { heading, type TextOptions } from './status-text.ts';

export function renderLockboxText(view: LockboxView, options: TextOptions): string {
  if (view.lockboxes.length === 0) {
    return `No lockbox yet: each symbol and timeframe gets one (its most recent ${view.lockboxMonths} months) the first time a designer uses it.`;
  }
  const experiments = (ids: number[]) =>
    ids.length === 0
      ? '—'
      : ids.length > 8
        ? `${ids
            .slice(0, 8)
            .map((id) => `#${id}`)
            .join(' ')} …`
        : ids.map((id) => `#${id}`).join(' ');
  return [
    heading(`Lockboxes (${view.lockboxes.filter((l) => l.burnedAt === null).length} in force)`, options.color),
    renderTable(
      ['market', 'lockbox from', 'search period ends', 'fixed', 'consulted', 'by experiments', 'state'],
      view.lockboxes.map((l) => [
        `${l.symbol} ${l.timeframe}`,
        l.startDate,
        l.searchPeriodEnd,
        formatTimestamp(new Date(l.fixedAt)),
        l.consultations,
        experiments(l.experimentIds),
        l.burnedAt ? `burned ${formatTimestamp(new Date(l.burnedAt))}` : 'in force',
      ]),
    ),
  ].join('\n');
}
