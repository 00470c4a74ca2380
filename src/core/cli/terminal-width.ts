// The one width rule of the text views: how wide the output may be, how wide a string is on screen, and how a line
// or a table is cut to fit (at the end, with an ellipsis, as `gh` does). `status --watch` sizes to the same
// columns through Ink.

const MIN_WIDTH = 20;

/**
 * The columns output must fit: the terminal's width; without a terminal (a pipe, cron, a test) `COLUMNS` when it is
 * set; otherwise none, so a script that reads the output gets every character.
 */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | null {
  if (stream.isTTY && stream.columns && stream.columns > 0) return Math.max(MIN_WIDTH, stream.columns);
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? Math.max(MIN_WIDTH, columns) : null;
}

const ANSI = /\u001b\[[0-9;]*m/g;
let graphemes: Intl.Segmenter | undefined;
/** Built on first use: format.ts (and so this module) loads on every command, tick included. */
function segmenter(): Intl.Segmenter {
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return graphemes;
}

function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

/** Cells one grapheme takes: two for wide characters and emoji (⚠️ with its variation selector), none for marks. */
function graphemeWidth(grapheme: string): number {
  const first = grapheme.codePointAt(0)!;
  if (first < 0x20 || (first >= 0x7f && first < 0xa0)) return 0;
  if (grapheme.includes('\ufe0f') || isWide(first)) return 2;
  if (/^[\p{Mn}\p{Me}\u200b-\u200f]+$/u.test(grapheme)) return 0;
  return 1;
}

/** How many terminal cells a string takes, colour codes excluded. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of segmenter().segment(text.replace(ANSI, ''))) width += graphemeWidth(segment);
  return width;
}

/** One line cut to `width` cells with an ellipsis; colour codes are kept (they take no room) so colours still close. */
export function fitLine(line: string, width: number | null): string {
  if (width === null || displayWidth(line) <= width) return line;
  const room = width - 1;
  let used = 0;
  let cut = false;
  let out = '';
  for (const part of line.split(/(\u001b\[[0-9;]*m)/)) {
    if (part.startsWith('\u001b[')) {
      out += part;
      continue;
    }
    for (const { segment } of segmenter().segment(part)) {
      if (cut) break;
      const w = graphemeWidth(segment);
      if (used + w > room) {
        out += '…';
        cut = true;
        break;
      }
      out += segment;
      used += w;
    }
  }
  return out;
}

/** Every line of a text cut to `width` (no limit: unchanged). */
export function fitText(text: string, width: number | null): string {
  return width === null
    ? text
    : text
        .split('\n')
        .map((line) => fitLine(line, width))
        .join('\n');
}

/**
 * Plain text wrapped at spaces to `width` cells, continuation lines indented by `indent` spaces: for the few lines
 * whose end matters (a banner's advice). A word longer than a line is cut.
 */
export function wrapPlain(text: string, width: number | null, indent = 0): string[] {
  if (width === null || displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    const prefix = lines.length === 0 ? '' : ' '.repeat(indent);
    if (line !== '' && displayWidth(prefix + candidate) > width) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = candidate;
    }
  }
  lines.push((lines.length === 0 ? '' : ' '.repeat(indent)) + line);
  return lines.map((l) => fitLine(l, width));
}

/** Cells a cli-table3 table adds around its cells: one border per column plus one, and a space each side of a cell. */
const CELL_PADDING = 2;
/** A cut column keeps at least its header and this many characters: fewer say nothing. */
const MIN_CELL = 6;

/**
 * The columns a table keeps and their widths (padding included) to fit `width`, as `gh` does: the widest columns
 * are cut first, each down to its header or a few characters; when even that does not fit, the least important
 * columns go (`importance` lists column indexes, most important first; by default left to right).
 */
export function fitColumns(natural: number[], headers: number[], width: number | null, importance?: number[]): { keep: number[]; widths: number[] } {
  const all = natural.map((_, i) => i);
  if (width === null) return { keep: all, widths: natural.map((w) => w + CELL_PADDING) };
  const least = natural.map((w, i) => Math.min(w, Math.max(headers[i] ?? 0, MIN_CELL)));
  const order = importance ?? all;
  const minimum = (cols: number[]) => cols.reduce((sum, i) => sum + least[i]! + CELL_PADDING, cols.length + 1);
  let keep = all;
  for (let n = order.length; n > 1 && minimum(keep) > width; n--) {
    const kept = new Set(order.slice(0, n - 1));
    keep = all.filter((i) => kept.has(i));
  }
  const room = width - (keep.length + 1) - keep.length * CELL_PADDING;
  // The largest cap on a cell's content that fits: every column wider than it is cut to it (never below its least).
  const widthAt = (cap: number) => keep.map((i) => Math.max(least[i]!, Math.min(natural[i]!, cap)));
  let cap = Math.max(...keep.map((i) => natural[i]!), 0);
  while (cap > 1 && widthAt(cap).reduce((a, b) => a + b, 0) > room) cap -= 1;
  const widths = widthAt(cap);
  // The cells left over when the cap does not divide evenly go to the cut columns, one each.
  let spare = room - widths.reduce((a, b) => a + b, 0);
  for (let k = 0; k < widths.length && spare > 0; k++) {
    if (widths[k]! < natural[keep[k]!]!) {
      widths[k]! += 1;
      spare -= 1;
    }
  }
  return { keep, widths: widths.map((w) => w + CELL_PADDING) };
}
