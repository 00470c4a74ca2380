/**
 * The one number syntax of every setting and argument: plain decimal, optionally signed, with an optional fraction
 * (`5`, `0.45`, `-0.5`, `.5`). `Number()` alone would also take `0x10` (16), `1e3`, `0b1`, `Infinity` and spaces.
 */
const decimalPattern = /^[+-]?(\d+(\.\d+)?|\.\d+)$/;

export function parseDecimal(text: string): number | null {
  const trimmed = text.trim();
  return decimalPattern.test(trimmed) ? Number(trimmed) : null;
}
