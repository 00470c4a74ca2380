import type { IndicatorSpec } from './indicator-spec.ts';
import { editDistance } from '../kernel/edit-distance.ts';

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
