// What reaches a terminal. Model-written and API-written text (hypotheses, assessments, fault causes, KTRDR error
// messages) may hold ESC sequences, BEL or CR that clear the screen, retitle the window or overwrite a line: every
// human-readable view passes its data through `terminalView`, and every line a command prints through
// `terminalOutput`. JSON output is never touched: it is data, and JSON.stringify escapes what a terminal would obey.

/**
 * Characters a terminal obeys rather than shows: C0 (tab and line breaks included: in data they are not ours), DEL,
 * C1 (0x9B is a one-byte CSI on some terminals), the Unicode line and paragraph separators, and the bidirectional
 * controls that reorder what is shown.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAK = /\r\n|[\r\n\t\u000b\u000c\u0085\u2028\u2029]/g;

/** A piece of data on one line: line breaks and tabs become spaces, every other control character goes. */
export function terminalLine(text: string): string {
  return text.replace(LINE_BREAK, ' ').replace(CONTROL, '');
}

/** A view's data made safe to print: every string in it, at any depth, through `terminalLine`. */
export function terminalView<T>(value: T): T {
  if (typeof value === 'string') return terminalLine(value) as T;
  if (Array.isArray(value)) return value.map((item) => terminalView(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, terminalView(item)])) as T;
  }
  return value;
}

/** The colours `paint` writes (format.ts), the only escape sequences a command prints on purpose. */
const OWN_COLOURS = /^\u001b\[(?:1|22|31|32|33|34|35|36|39|90)m$/;
const OUTPUT_CONTROL = /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A command's output text: its own line breaks, tabs and colours kept, every other control character removed. */
export function terminalOutput(text: string): string {
  return text.replace(OUTPUT_CONTROL, (match) => (OWN_COLOURS.test(match) ? match : ''));
}
