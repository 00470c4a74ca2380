import type { IndicatorSpec } from './indicator-spec.ts';

/** Close matches for an unknown type among a registry's lookup keys, best first, at most three. */
export function suggestIndicatorTypes(type: string, byKey: ReadonlyMap<string, IndicatorSpec>): string[] {
  const wanted = squash(type);
  if (wanted === '') return [];
  const scored: { name: string; distance: number }[] = [];
  for (const [key, spec] of byKey) {
    const candidate = squash(key);
    const distance = candidate === wanted ? 0 : editDistance(wanted, candidate);
    const limit = Math.max(1, Math.floor(Math.max(wanted.length, candidate.length) / 3));
    if (distance <= limit || (wanted.length >= 3 && candidate.startsWith(wanted))) {
      scored.push({ name: spec.aliases[0] ?? spec.canonicalType, distance });
    }
  }
  scored.sort((left, right) => left.distance - right.distance || left.name.localeCompare(right.name));
  return [...new Set(scored.map((entry) => entry.name))].slice(0, 3);
}

/** Lowercase without separators, so `williams_r`, `Williams-R` and `WilliamsR` compare equal. */
function squash(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .replace(/indicator$/, '');
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}
