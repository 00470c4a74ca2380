// Looks indicators up by any name KTRDR accepts for them; the facts themselves are in indicator-data.ts.
import { BUILTIN_INDICATORS } from './indicator-data.ts';
import { suggestIndicatorTypes } from './indicator-suggest.ts';
import type { IndicatorSpec } from './indicator-spec.ts';

/** Every lowercase name KTRDR accepts for a class: canonical, full class name, and aliases. */
function lookupKeysOf(spec: IndicatorSpec): string[] {
  return [...new Set([spec.canonicalType, spec.className.toLowerCase(), ...spec.aliases.map((alias) => alias.toLowerCase())])];
}

export interface IndicatorRegistry {
  readonly entries: readonly IndicatorSpec[];
  /** True once KTRDR's `GET /indicators/` catalogue has been merged in. */
  readonly hasKtrdrCatalogue: boolean;
  /** Finds the entry for a YAML `type`, case-insensitively. */
  resolve(type: string): IndicatorSpec | undefined;
  /** Whether KTRDR's catalogue lists this entry (always false before a merge). */
  isListedByKtrdr(spec: IndicatorSpec): boolean;
  /** Canonical type names, sorted. */
  typeNames(): string[];
  /** Close matches for an unknown type, best first. */
  suggest(type: string): string[];
}

/** Builds a registry from specs; later specs do not replace earlier ones under the same name. */
export function createIndicatorRegistry(specs: readonly IndicatorSpec[], ktrdrClassNames?: ReadonlySet<string>): IndicatorRegistry {
  const byKey = new Map<string, IndicatorSpec>();
  for (const spec of specs) {
    for (const key of lookupKeysOf(spec)) {
      if (!byKey.has(key)) byKey.set(key, spec);
    }
  }
  const listed = new Set([...(ktrdrClassNames ?? [])].map((name) => name.toLowerCase()));
  return {
    entries: specs,
    hasKtrdrCatalogue: ktrdrClassNames !== undefined,
    resolve: (type) => byKey.get(type.trim().toLowerCase()),
    isListedByKtrdr: (spec) => listed.has(spec.className.toLowerCase()),
    typeNames: () => [...new Set(specs.map((spec) => spec.canonicalType))].sort(),
    suggest: (type) => suggestIndicatorTypes(type, byKey),
  };
}

export const builtinIndicatorRegistry: IndicatorRegistry = createIndicatorRegistry(BUILTIN_INDICATORS);

export function resolveIndicatorType(type: string, registry: IndicatorRegistry = builtinIndicatorRegistry): IndicatorSpec | undefined {
  return registry.resolve(type);
}
