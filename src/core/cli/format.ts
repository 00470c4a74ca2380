import Table from 'cli-table3';
import { displayWidth, fitColumns, outputWidth } from './terminal-width.ts';

/** Colour only on a TTY, and never when NO_COLOR is set. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Color = keyof typeof codes;

export function paint(text: string, color: Color, enabled = useColor()): string {
  return enabled ? `\u001b[${codes[color]}m${text}\u001b[${color === 'bold' ? 22 : 39}m` : text;
}

export interface TableOptions {
  /** Columns to fit (default: the terminal's, see terminal-width.ts); null for no limit. */
  width?: number | null;
  /** Column indexes, most important first: which columns stay when even cut ones do not fit. */
  importance?: number[];
}

/** A table sized to the terminal: the widest columns are cut with an ellipsis (as `gh` does), never wrapped. */
export function renderTable(head: string[], rows: (string | number)[][], options: TableOptions = {}): string {
  const color = useColor();
  const cells = rows.map((row) => row.map(String));
  const natural = head.map((h, i) => Math.max(displayWidth(h), ...cells.map((row) => displayWidth(row[i] ?? ''))));
  const { keep, widths } = fitColumns(natural, head.map(displayWidth), options.width === undefined ? outputWidth() : options.width, options.importance);
  const table = new Table({
    head: keep.map((i) => paint(head[i]!, 'bold', color)),
    style: { head: [], border: color ? ['gray'] : [], compact: true },
    colWidths: widths,
    wordWrap: false,
    truncate: '…',
  });
  for (const row of cells) table.push(keep.map((i) => row[i] ?? ''));
  return table.toString();
}

// Shown amounts follow the budget's one display rule.
export { formatUsd } from '../budget/money.ts';

export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return value.toFixed(digits);
}

export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return Math.round(value).toLocaleString('en-US');
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function relativeTime(date: Date | null | undefined, now: Date = new Date()): string {
  if (!date) return '—';
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const future = seconds < 0;
  const abs = Math.abs(seconds);
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  let text = 'just now';
  if (abs >= 45) {
    for (const [size, name] of units) {
      if (abs >= size) {
        const n = Math.round(abs / size);
        text = `${n} ${name}${n === 1 ? '' : 's'}`;
        break;
      }
    }
    if (abs < 60) text = `${abs} seconds`;
    return future ? `in ${text}` : `${text} ago`;
  }
  return text;
}

export function formatTimestamp(date: Date | null | undefined): string {
  if (!date) return '—';
  return date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
