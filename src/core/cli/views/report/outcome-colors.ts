import { sessionOutcomes, type SessionOutcome } from '../../../session/model.ts';
import { escapeHtml } from './html.ts';

/** One colour per outcome, the same in every chart and badge: green passed, red and orange the gates, grey the rest. */
export const outcomeColors: Record<SessionOutcome, string> = {
  success: '#2da44e',
  failed_training_gate: '#cf222e',
  failed_backtest_gate: '#e16f24',
  failed_design: '#8250df',
  failed_training: '#6e7781',
  failed_backtest: '#57606a',
  failed_assessment: '#8c959f',
  cancelled: '#afb8c1',
};

export const outcomeOrder: readonly SessionOutcome[] = sessionOutcomes;

export function outcomeBadge(outcome: string): string {
  const color = (outcomeColors as Record<string, string>)[outcome] ?? '#6e7781';
  return `<span class="badge" style="--c:${color}">${escapeHtml(outcome)}</span>`;
}
