/**
 * Facts about KTRDR's indicator registry, read from the KTRDR source (`ktrdr/indicators/*`).
 *
 * KTRDR registers each indicator class under its class name lowercased with and without the `Indicator` suffix,
 * plus a few aliases, and looks the YAML `type` up case-insensitively. `GET /indicators/` lists the classes but
 * always reports a fake `period`/`source` parameter pair, so parameters, outputs and value scales live in
 * `indicator-data.ts`; this module holds the shape of one entry.
 */

export type IndicatorCategory = 'trend' | 'momentum' | 'volatility' | 'volume' | 'multi_purpose';

export const INDICATOR_CATEGORIES: readonly IndicatorCategory[] = ['trend', 'momentum', 'volatility', 'volume', 'multi_purpose'];

/** A suggested fuzzy membership on a bounded scale, as a triangular `[left, peak, right]`. */
export interface FuzzyZone {
  readonly name: string;
  readonly triangle: readonly [number, number, number];
}

/**
 * What values an indicator output takes, which decides whether fixed fuzzy ranges make sense:
 * - `bounded`: a fixed range whatever the instrument (RSI 0..100), so fuzzy ranges transfer across symbols;
 * - `instrument`: the instrument's own units (price, volume), so ranges depend on the symbol and its price level;
 * - `unbounded`: normalized but open-ended (ROC in %), with a typical band;
 * - `unknown`: an indicator only KTRDR's catalogue knows about.
 */
export type IndicatorValueScale =
  | {
      readonly kind: 'bounded';
      readonly min: number;
      readonly max: number;
      readonly zones?: readonly FuzzyZone[];
    }
  | { readonly kind: 'instrument'; readonly unit: string }
  | { readonly kind: 'unbounded'; readonly typicalMin: number; readonly typicalMax: number; readonly unit: string }
  | { readonly kind: 'unknown' };

export type IndicatorParameterType = 'int' | 'float' | 'bool' | 'string';

export interface IndicatorParameter {
  readonly name: string;
  readonly type: IndicatorParameterType;
  readonly default: number | boolean | string;
  readonly min?: number;
  /** When true, `min` itself is not allowed (e.g. a multiplier must be > 0). */
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  readonly options?: readonly string[];
  readonly description: string;
}

export interface IndicatorSpec {
  /** KTRDR's class name, as `GET /indicators/` reports it in `id`. */
  readonly className: string;
  /** The registry's canonical YAML `type`: the class name without `Indicator`, lowercased. */
  readonly canonicalType: string;
  readonly aliases: readonly string[];
  readonly displayName: string;
  readonly category: IndicatorCategory;
  /** Real constructor parameters; `undefined` when only KTRDR's catalogue knows the indicator. */
  readonly parameters: readonly IndicatorParameter[] | undefined;
  /** Dot-notation outputs, primary first; `[]` for single-output indicators, `undefined` when not known locally. */
  readonly outputs: readonly string[] | undefined;
  /** Scale of the bare reference (the primary output), and of every output not listed in `outputScales`. */
  readonly scale: IndicatorValueScale;
  readonly outputScales?: Readonly<Record<string, IndicatorValueScale>>;
  /** A reason not to feed this indicator to a model, shown as a warning. */
  readonly caution?: string;
  /** Where the entry comes from: this table, or only KTRDR's `GET /indicators/`. */
  readonly origin: 'builtin' | 'ktrdr';
}

/** `RSIIndicator` → `rsi`, `SimpleMovingAverage` → `simplemovingaverage`, as KTRDR's registry derives it. */
export function canonicalTypeOf(className: string): string {
  const stem = className.endsWith('Indicator') && className.length > 'Indicator'.length ? className.slice(0, -'Indicator'.length) : className;
  return stem.toLowerCase();
}

/** The scale of a bare reference (`output` undefined) or of a dot-notation output. */
export function scaleOfOutput(spec: IndicatorSpec, output?: string): IndicatorValueScale {
  if (output !== undefined) return spec.outputScales?.[output] ?? spec.scale;
  const primary = spec.outputs?.[0];
  return (primary !== undefined ? spec.outputScales?.[primary] : undefined) ?? spec.scale;
}
