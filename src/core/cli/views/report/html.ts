// Small HTML helpers every report section shares: escaping, table cells, number formats and the empty state.
import { formatUsd } from '../../../budget/money.ts';

/** Text for HTML: every character that could open markup is escaped, whatever a model or an operator wrote. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A table cell; null shows as an em dash. `html` cells are trusted markup built by the caller from escaped parts. */
export function cell(value: string | number | null, options: { numeric?: boolean; html?: boolean } = {}): string {
  const text = value === null ? '—' : options.html ? String(value) : escapeHtml(String(value));
  return options.numeric ? `<td class="num">${text}</td>` : `<td>${text}</td>`;
}

export function fixed(value: number | null, digits = 2): string | null {
  return value === null || !Number.isFinite(value) ? null : value.toFixed(digits);
}

/**
 * A fraction as a percentage (0.153 → 15.3%). KTRDR's `total_return_pct` and `max_drawdown_pct` are fractions too,
 * as the simulator that mirrors its metrics writes them (src/core/sim/quality.ts).
 */
export function percent(value: number | null, digits = 1): string | null {
  return value === null || !Number.isFinite(value) ? null : `${(value * 100).toFixed(digits)}%`;
}

/** An amount to `digits` decimals, by the budget's one display rule. */
export function usd(value: number, digits = 2): string {
  return formatUsd(value, digits);
}

/** Escaped text in which `backticked` words (commands, settings) show as code. */
export function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** What a section shows before there is anything to show: says so, and what will fill it. */
export function emptyState(message: string): string {
  return `<p class="empty-state">${prose(message)}</p>`;
}

export function note(text: string): string {
  return `<p class="note">${prose(text)}</p>`;
}

/**
 * A table that scrolls sideways inside its own box on a narrow screen instead of widening the page; `nowrap` keeps
 * each row on one line (tables of figures), otherwise long text wraps (hypotheses).
 */
export function scrollTable(id: string, head: string[], rows: string[], options: { numericColumns?: number[]; nowrap?: boolean } = {}): string {
  const numeric = new Set(options.numericColumns ?? []);
  const header = head.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  return `<div class="table-scroll"><table id="${id}"${options.nowrap ? ' class="nowrap"' : ''}><thead><tr>${header}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

export function isoMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
