import { BUILTIN_INDICATORS } from './indicator-data.ts';
import { scaleOfOutput, type FuzzyZone } from './indicator-spec.ts';

/** One row of the bounded-indicator table: an indicator output whose values stay in a fixed range. */
export interface BoundedIndicatorFact {
  /** Canonical YAML `type`. */
  readonly type: string;
  readonly className: string;
  readonly displayName: string;
  /** Dot-notation output, when the indicator has several (`adx`, `plus_di`, `k`). */
  readonly output?: string;
  readonly min: number;
  readonly max: number;
  readonly zones: readonly FuzzyZone[];
  readonly defaultParameters: Readonly<Record<string, number | boolean | string>>;
}

/**
 * Indicator outputs with a fixed value range and tested fuzzy zones: the only safe inputs for fixed fuzzy ranges
 * (KTRDR's v1.5 finding: 55% of agent strategies put ATR-style price-scale indicators into fixed ranges and learnt
 * nothing).
 */
export const BOUNDED_INDICATORS: readonly BoundedIndicatorFact[] = BUILTIN_INDICATORS.flatMap((spec) => {
  const outputs: (string | undefined)[] = spec.outputs && spec.outputs.length > 0 ? [...spec.outputs] : [undefined];
  const defaults = Object.fromEntries((spec.parameters ?? []).map((parameter) => [parameter.name, parameter.default]));
  return outputs.flatMap((output): BoundedIndicatorFact[] => {
    const scale = output === undefined ? spec.scale : scaleOfOutput(spec, output);
    if (scale.kind !== 'bounded' || !scale.zones) return [];
    return [
      {
        type: spec.canonicalType,
        className: spec.className,
        displayName: spec.displayName,
        ...(output === undefined ? {} : { output }),
        min: scale.min,
        max: scale.max,
        zones: scale.zones,
        defaultParameters: defaults,
      },
    ];
  });
});

/** The bounded-indicator table as Markdown, for prompts. */
export function formatBoundedIndicatorTable(facts: readonly BoundedIndicatorFact[] = BOUNDED_INDICATORS): string {
  const lines = ['| type | reference | range | parameters (defaults) | fuzzy zones [left, peak, right] |', '|---|---|---|---|---|'];
  for (const fact of facts) {
    const reference = fact.output === undefined ? '<id>' : `<id>.${fact.output}`;
    const parameters = Object.entries(fact.defaultParameters)
      .map(([name, value]) => `${name}: ${String(value)}`)
      .join(', ');
    const zones = fact.zones.map((zone) => `${zone.name} [${zone.triangle.join(', ')}]`).join('; ');
    lines.push(`| ${fact.type} | ${reference} | ${fact.min}..${fact.max} | ${parameters} | ${zones} |`);
  }
  return lines.join('\n');
}

/** Indicator types whose values are in the instrument's own units, so fixed fuzzy ranges do not transfer. */
export const INSTRUMENT_SCALE_INDICATOR_TYPES: readonly string[] = BUILTIN_INDICATORS.filter((spec) => spec.scale.kind === 'instrument').map(
  (spec) => spec.canonicalType,
);
