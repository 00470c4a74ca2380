// The canonical form of a v3 strategy: what it computes, without what it is called. Two designs that differ only
// in their name, description, hypothesis, the ids they gave their indicators and fuzzy sets, or the order they
// listed things in, are the same experiment and have the same fingerprint.
import { createHash } from 'node:crypto';
import { isRecord } from '../kernel/records.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Objects with their keys ordered, recursively; arrays keep their order (hidden layers are a sequence). */
function ordered(value: unknown): Json {
  if (Array.isArray(value)) return value.map(ordered);
  if (isRecord(value)) {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) if (value[key] !== undefined) out[key] = ordered(value[key]);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  return null;
}

function stable(value: unknown): string {
  return JSON.stringify(ordered(value));
}

function sortedBy<T>(items: T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** `type(param=value,...)`, parameters ordered: the indicator as KTRDR computes it, whatever id it was given. */
function indicatorKey(entry: unknown): string {
  if (!isRecord(entry)) return stable(entry);
  const { type, ...parameters } = entry;
  return `${String(type ?? '?').toLowerCase()}${stable(parameters)}`;
}

export interface CanonicalStrategy {
  indicators: string[];
  fuzzySets: { indicator: string; memberships: Json }[];
  nnInputs: Json[];
  model: Json;
  decisions: Json;
  training: Json;
  historyRequired: Json;
}

/**
 * The strategy reduced to what it computes: indicators by type and parameters, fuzzy sets by the indicator (and
 * output) they read, nn inputs by what they feed, then the model, decisions and training sections with ordered keys.
 * Symbols and timeframes are left out: the duplicate check compares them (and the windows) separately.
 */
export function canonicalStrategy(config: Record<string, unknown>): CanonicalStrategy {
  const indicators = isRecord(config.indicators) ? config.indicators : {};
  const indicatorById = new Map(Object.entries(indicators).map(([id, entry]) => [id, indicatorKey(entry)]));
  const reference = (ref: unknown): string => {
    if (typeof ref !== 'string') return stable(ref);
    const [id, ...output] = ref.split('.');
    const key = indicatorById.get(id!) ?? id!;
    return output.length > 0 ? `${key}.${output.join('.')}` : key;
  };
  const sets = isRecord(config.fuzzy_sets) ? config.fuzzy_sets : {};
  const setKeyByName = new Map<string, string>();
  const fuzzySets = sortedBy(
    Object.entries(sets).map(([name, entry]) => {
      const { indicator, ...memberships } = isRecord(entry) ? entry : { indicator: undefined };
      const canonical = { indicator: reference(indicator), memberships: ordered(memberships) };
      setKeyByName.set(name, stable(canonical));
      return canonical;
    }),
    stable,
  );
  const nnInputs = sortedBy(
    (Array.isArray(config.nn_inputs) ? config.nn_inputs : []).map((input: unknown) => {
      if (!isRecord(input)) return ordered(input);
      const { fuzzy_set: fuzzySet, raw_indicator: raw, timeframes, ...rest } = input;
      return ordered({
        ...rest,
        ...(fuzzySet !== undefined ? { fuzzy_set: setKeyByName.get(String(fuzzySet)) ?? String(fuzzySet) } : {}),
        ...(raw !== undefined ? { raw_indicator: reference(raw) } : {}),
        timeframes: Array.isArray(timeframes) ? [...timeframes].map(String).sort() : (timeframes ?? 'all'),
      });
    }),
    stable,
  );
  const trainingData = isRecord(config.training_data) ? config.training_data : {};
  return {
    indicators: [...indicatorById.values()].sort(),
    fuzzySets,
    nnInputs,
    model: ordered(config.model ?? null),
    decisions: ordered(config.decisions ?? null),
    training: ordered(config.training ?? null),
    historyRequired: ordered(trainingData.history_required ?? null),
  };
}

/** SHA-256 of the canonical strategy, hex. */
export function strategyFingerprint(config: Record<string, unknown>): string {
  return createHash('sha256')
    .update(stable(canonicalStrategy(config)))
    .digest('hex');
}

/** What an experiment is filtered and summarised by, read from a strategy once. */
export interface StrategyFeatures {
  /** Indicator types, sorted, without duplicates. */
  indicatorTypes: string[];
  /** The sorted types joined by '+': the combination the coverage table counts. */
  indicatorKey: string;
  labelSource: string | null;
  labelThreshold: number | null;
  /** Hidden layer widths, e.g. '32x16'. */
  architecture: string | null;
  symbol: string | null;
  timeframe: string | null;
}

export function strategyFeatures(config: Record<string, unknown> | null): StrategyFeatures {
  const indicators = config && isRecord(config.indicators) ? Object.values(config.indicators) : [];
  const types = [...new Set(indicators.map((entry) => (isRecord(entry) ? String(entry.type ?? '?').toLowerCase() : '?')))].sort();
  const training = config && isRecord(config.training) ? config.training : {};
  const labels = isRecord(training.labels) ? training.labels : {};
  const model = config && isRecord(config.model) ? config.model : {};
  const architecture = isRecord(model.architecture) ? model.architecture : {};
  const hidden = Array.isArray(architecture.hidden_layers) ? architecture.hidden_layers : null;
  const data = config && isRecord(config.training_data) ? config.training_data : {};
  const symbols = isRecord(data.symbols) ? data.symbols : {};
  const timeframes = isRecord(data.timeframes) ? data.timeframes : {};
  const firstOf = (section: Record<string, unknown>, single: string): string | null =>
    typeof section[single] === 'string'
      ? (section[single] as string)
      : Array.isArray(section.list) && typeof section.list[0] === 'string'
        ? section.list[0]
        : null;
  const threshold = labels.zigzag_threshold ?? labels.threshold;
  return {
    indicatorTypes: types,
    indicatorKey: types.join('+'),
    labelSource: typeof labels.source === 'string' ? labels.source : null,
    labelThreshold: typeof threshold === 'number' && Number.isFinite(threshold) ? threshold : null,
    architecture: hidden && hidden.length > 0 ? hidden.map(String).join('x') : null,
    symbol: firstOf(symbols, 'symbol'),
    timeframe: firstOf(timeframes, 'timeframe'),
  };
}
