// Near-copies: beyond the exact fingerprint, a design whose indicator set, label source and network size match an
// earlier experiment and whose numbers (indicator parameters, fuzzy ranges, label threshold, training settings) are
// all within a tolerance of that experiment's is the same experiment with its numbers nudged. An explore cycle
// refuses one (it would spend the cycle where the search already looked); an exploit cycle allows it (refinement).
import { canonicalStrategy, strategyFeatures } from './fingerprint.ts';
import { isRecord } from '../kernel/records.ts';

/** The design's numbers by where they sit, and the shape they sit in (everything but the numbers). */
function numbersAndShape(config: Record<string, unknown>): { shape: string; numbers: number[] } {
  const canonical = canonicalStrategy(config);
  const numbers: number[] = [];
  // Indicator parameters are folded into the indicator keys (`rsi{"period":14}`): read them back as values.
  const indicators = canonical.indicators.map((key) => {
    const brace = key.indexOf('{');
    return brace < 0 ? { type: key, parameters: {} } : { type: key.slice(0, brace), parameters: JSON.parse(key.slice(brace)) as unknown };
  });
  const walk = (value: unknown): unknown => {
    if (typeof value === 'number') {
      numbers.push(value);
      return '#';
    }
    if (Array.isArray(value)) return value.map(walk);
    if (isRecord(value))
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, walk(value[key])]),
      );
    if (typeof value === 'string') return value.replace(/\{[^}]*\}/g, '{}').replace(/-?\d+(\.\d+)?(e-?\d+)?/g, '#');
    return value;
  };
  const shape = JSON.stringify(
    walk({
      indicators: indicators.map((entry) => ({ type: entry.type, parameters: entry.parameters })),
      fuzzySets: canonical.fuzzySets,
      nnInputs: canonical.nnInputs,
      model: canonical.model,
      decisions: canonical.decisions,
      training: canonical.training,
    }),
  );
  return { shape, numbers };
}

function within(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));
}

/** Whether `design` is a near-copy of `earlier` under `tolerance` (0.1 = every number within 10%). */
export function isNearCopy(design: Record<string, unknown>, earlier: Record<string, unknown>, tolerance: number): boolean {
  const [a, b] = [strategyFeatures(design), strategyFeatures(earlier)];
  if (a.indicatorKey !== b.indicatorKey || (a.labelSource ?? 'zigzag') !== (b.labelSource ?? 'zigzag') || a.architecture !== b.architecture) return false;
  const [left, right] = [numbersAndShape(design), numbersAndShape(earlier)];
  if (left.shape !== right.shape || left.numbers.length !== right.numbers.length) return false;
  return left.numbers.every((value, index) => within(value, right.numbers[index]!, tolerance));
}

/** The first earlier experiment the design nearly copies, or null. */
export function findNearCopy<T extends { strategy: Record<string, unknown> | null }>(
  design: Record<string, unknown>,
  earlier: readonly T[],
  tolerance: number,
): T | null {
  return earlier.find((candidate) => candidate.strategy !== null && isNearCopy(design, candidate.strategy, tolerance)) ?? null;
}
