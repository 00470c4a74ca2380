import { formatUsd, paint } from '../format.ts';
import type { BudgetSetResult, BudgetView } from './schemas.ts';
import { budgetUsedLine, heading, type TextOptions } from './status-text.ts';

export function renderBudgetText(view: BudgetView, options: TextOptions): string {
  const { color } = options;
  const t = view.today;
  const limitNote = t.limitSource === 'override' ? ' (set with `budget set`)' : ' (AGENT_BUDGET_DAILY_USD)';
  const today = [heading(`Today (${t.date})`, color), `Limit: ${formatUsd(t.limitUsd)}${limitNote}`, budgetUsedLine(t, color)];
  if (t.estimatedUsd > 0) today.push(`  of which estimated, unconfirmed: ${formatUsd(t.estimatedUsd)} (calls cut off after they were sent)`);
  if (t.reservedUsd > 0) today.push(`Reserved: ${formatUsd(t.reservedUsd)} (model calls in flight)`);
  today.push(`Remaining: ${formatUsd(t.remainingUsd)}`);
  if (!view.enforcement) today.push(paint('Enforcement is OFF (AGENT_BUDGET_ENFORCEMENT=false): the limit is not applied.', 'yellow', color));
  today.push(
    '',
    `Invocations: ${t.invocations}`,
    `Avg cost/invocation: ${formatUsd(t.avgCostPerInvocationUsd)}`,
    `Cycles: ${t.cyclesStarted} started, ${t.cyclesCompleted} completed (${t.successful} successful), ${t.cyclesActive} active`,
  );
  const sections = [today.join('\n')];
  if (view.days.length > 0) {
    const title = view.days.length === 7 ? 'This Week' : `Last ${view.days.length} Days`;
    const lines = [heading(title, color)];
    for (const d of view.days) {
      const limit = d.limitUsd === null ? '' : ` / ${formatUsd(d.limitUsd)}`;
      const line = `${d.weekday} ${d.date}: ${formatUsd(d.usedUsd)}${limit} (${d.cyclesCompleted} cycles, ${d.successful} successful)`;
      lines.push(d.today ? `${line} ${paint('<- today', 'bold', color)}` : line);
    }
    const total = view.totals;
    lines.push(
      paint(
        `Total: ${formatUsd(total.usedUsd)}, ${total.invocations} invocations, ${total.cyclesCompleted} cycles (${total.successful} successful)`,
        'gray',
        color,
      ),
    );
    sections.push(lines.join('\n'));
  }
  return sections.join('\n\n');
}

export function renderBudgetSetText(result: BudgetSetResult, options: TextOptions): string {
  const lines =
    result.source === 'override'
      ? [
          `Budget limit updated to ${formatUsd(result.limitUsd)}/day${result.roundedFrom ? ` (${result.roundedFrom} rounded to the cent)` : ''}`,
          paint(
            `Source: database override (wins over AGENT_BUDGET_DAILY_USD=${formatUsd(result.configuredLimitUsd)}); \`ktrdr-agent budget set --clear\` returns to the setting.`,
            'gray',
            options.color,
          ),
        ]
      : [`Budget override cleared: the limit is AGENT_BUDGET_DAILY_USD, ${formatUsd(result.limitUsd)}/day.`];
  if (result.previousLimitUsd !== result.limitUsd) lines.push(paint(`(was ${formatUsd(result.previousLimitUsd)}/day)`, 'gray', options.color));
  if (result.usedTodayUsd >= result.limitUsd) {
    lines.push(paint(`Today's spend ${formatUsd(result.usedTodayUsd)} already reaches it: no more model calls until tomorrow (UTC).`, 'yellow', options.color));
  }
  return lines.join('\n');
}
