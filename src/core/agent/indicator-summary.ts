import { BOUNDED_INDICATORS, INSTRUMENT_SCALE_INDICATOR_TYPES } from '../strategy/bounded-indicators.ts';

/** What `get_available_indicators` returns: compact, bounded indicators first (the only safe fuzzy inputs). */
export function boundedIndicatorSummary() {
  return {
    bounded: BOUNDED_INDICATORS.map((fact) => ({
      type: fact.type,
      reference: fact.output ? `<id>.${fact.output}` : '<id>',
      range: [fact.min, fact.max],
      parameters: fact.defaultParameters,
      zones: Object.fromEntries(fact.zones.map((zone) => [zone.name, zone.triangle])),
    })),
    price_scale_avoid_in_fuzzy_sets: INSTRUMENT_SCALE_INDICATOR_TYPES,
  };
}
