import { canonicalTypeOf, INDICATOR_CATEGORIES } from './indicator-spec.ts';
import { createIndicatorRegistry, type IndicatorRegistry } from './indicators.ts';
import { isRecord } from '../kernel/records.ts';

/** One entry of KTRDR's `GET /indicators/` response (`data[]`). */
export interface KtrdrIndicatorListing {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly type?: string;
}

/**
 * Adds the indicators that KTRDR's `GET /indicators/` lists to a registry. Accepts the whole response
 * (`{success, data: [...]}`) or its `data` array; malformed entries are skipped. Entries already known keep their
 * local facts (KTRDR's catalogue reports fake parameters); unknown ones are added with unknown parameters, outputs
 * and scale, so references to them are accepted and KTRDR checks the rest.
 */
export function mergeKtrdrIndicators(base: IndicatorRegistry, catalogue: unknown): IndicatorRegistry {
  const listings = readKtrdrListings(catalogue);
  const specs = [...base.entries];
  const listedClassNames = new Set<string>();
  for (const listing of listings) {
    const known = base.resolve(listing.id) ?? base.resolve(canonicalTypeOf(listing.id));
    listedClassNames.add(known?.className ?? listing.id);
    if (known) continue;
    specs.push({
      className: listing.id,
      canonicalType: canonicalTypeOf(listing.id),
      aliases: [],
      displayName: listing.name ?? listing.id,
      category: INDICATOR_CATEGORIES.find((category) => category === listing.type) ?? 'multi_purpose',
      parameters: undefined,
      outputs: undefined,
      scale: { kind: 'unknown' },
      origin: 'ktrdr',
    });
  }
  return createIndicatorRegistry(specs, listedClassNames);
}

function readKtrdrListings(catalogue: unknown): KtrdrIndicatorListing[] {
  const items = Array.isArray(catalogue) ? catalogue : isRecord(catalogue) && Array.isArray(catalogue['data']) ? catalogue['data'] : [];
  const listings: KtrdrIndicatorListing[] = [];
  for (const item of items) {
    if (!isRecord(item)) continue;
    const id = item['id'];
    if (typeof id !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(id)) continue;
    const name = item['name'];
    const type = item['type'];
    listings.push({
      id,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof type === 'string' ? { type: type.toLowerCase() } : {}),
    });
  }
  return listings;
}
