/**
 * The keys a v3 strategy may hold, section by section, and what an unknown one means. KTRDR itself refuses none:
 * `model`, `decisions` and `training` are `dict[str, Any]` (kpiteira/ktrdr, ktrdr/config/models.py
 * StrategyConfigurationV3 and StrategyConfigurationV2), and its typed sections are pydantic models that ignore extra
 * keys (pydantic's default). So an unknown key is a warning, never an error: it has no effect, and saying so catches
 * a typo (`lables:`). Errors stay for what is dangerous whatever KTRDR makes of it: a path-like value under a key
 * nothing reads (`model.path: ../../etc/passwd`, `training_data.data_path`), keys that mean something to JavaScript
 * objects (`__proto__`), and nesting beyond any section's.
 *
 * Sources (ktrdr/config/models.py): TrainingDataConfiguration, SymbolConfiguration (`list` is the YAML alias of
 * `symbols`), SymbolSelectionCriteria, TimeframeConfiguration, ContextDataEntry, DeploymentConfiguration and its target
 * models, NNInputSpec. IndicatorDefinition and FuzzySetDefinition allow extra keys (an indicator's parameters, a
 * fuzzy set's memberships). In the free sections, the keys listed are those KTRDR's training, model and labelling
 * code reads (`config.get("...")` in ktrdr/training, ktrdr/neural, ktrdr/backtesting; for instance
 * `model.architecture.sequence_length` in ktrdr/neural/models/lstm.py and gru.py, and
 * ktrdr/api/services/training/local_orchestrator.py). `scope` and `training_data.date_range` appear in KTRDR's own
 * example strategies; `hypothesis` is this agent's record of why a strategy was designed (KTRDR ignores both).
 */

type Shape =
  /** A value whose inner keys are not checked (a list of numbers, a free-form map); depth is still bounded. */
  | 'value'
  /** A map of the given keys only. */
  | { fields: Record<string, Shape> }
  /** A map of ids chosen by the author, each holding the given shape. */
  | { entries: Shape }
  /** A list of the given shape. */
  | { items: Shape };

const value = 'value' as const;
const fields = (keys: Record<string, Shape>): Shape => ({ fields: keys });
const leaves = (...names: string[]): Shape => fields(Object.fromEntries(names.map((name) => [name, value])));

const labels = leaves(
  'source',
  'horizon',
  'zigzag_threshold',
  'label_lookahead',
  'atr_period',
  'bearish_threshold',
  'bullish_threshold',
  'trending_threshold',
  'compute_weights',
  'cusum_multiplier',
  'cusum_threshold',
  'macro_atr_mult',
  'micro_atr_mult',
  'max_holding_period',
  'progression_tolerance',
  'pt_multiplier',
  'sl_multiplier',
  'vol_crisis_threshold',
  'vol_lookback',
  'vol_method',
  'vol_span',
);
const earlyStopping = leaves('enabled', 'patience', 'min_delta', 'monitor');
const lrScheduler = leaves('type', 'factor', 'gamma', 'patience', 'step_size');
const optimisation = {
  epochs: value,
  learning_rate: value,
  batch_size: value,
  optimizer: value,
  momentum: value,
  weight_decay: value,
  gradient_clip: value,
  early_stopping: earlyStopping,
  lr_scheduler: lrScheduler,
} satisfies Record<string, Shape>;

const strategyShape: Shape = fields({
  name: value,
  description: value,
  version: value,
  hypothesis: value,
  scope: value,
  training_data: fields({
    symbols: fields({
      mode: value,
      symbol: value,
      symbols: value,
      list: value,
      selection_criteria: leaves('asset_class', 'volatility_range', 'liquidity_tier', 'market_cap_range'),
    }),
    timeframes: leaves('mode', 'timeframe', 'timeframes', 'list', 'base_timeframe'),
    history_required: value,
    start_date: value,
    end_date: value,
    date_range: leaves('start', 'end'),
  }),
  context_data: {
    items: leaves('provider', 'alignment', 'symbol', 'timeframe', 'instrument_type', 'series', 'frequency', 'report', 'currencies', 'min_impact', 'broker'),
  },
  deployment: fields({
    target_symbols: fields({ mode: value, restrictions: leaves('asset_classes', 'excluded_symbols', 'min_liquidity_tier') }),
    target_timeframes: leaves('mode', 'supported', 'timeframe'),
  }),
  indicators: { entries: value },
  fuzzy_sets: { entries: value },
  nn_inputs: { items: leaves('fuzzy_set', 'raw_indicator', 'timeframes', 'normalization') },
  model: fields({
    type: value,
    num_classes: value,
    output_format: value,
    sequence_length: value,
    hidden_size: value,
    num_layers: value,
    architecture: leaves('hidden_layers', 'dropout', 'activation', 'output_activation', 'hidden_size', 'num_layers', 'sequence_length'),
    features: leaves('include_price_context', 'lookback_periods', 'scale_features'),
    training: fields(optimisation),
  }),
  decisions: fields({
    output_format: value,
    confidence_threshold: value,
    position_awareness: value,
    allow_short_from_flat: value,
    cost_model: leaves('round_trip_cost', 'min_edge_multiplier'),
    filters: leaves('min_signal_separation', 'volume_filter'),
  }),
  training: fields({
    ...optimisation,
    method: value,
    loss: value,
    huber_delta: value,
    focal_gamma: value,
    labels,
    data_split: leaves('train', 'validation', 'test'),
  }),
});

/** Deeper than any section KTRDR defines (a membership inside a fuzzy set is at depth 4). */
export const MAX_STRATEGY_DEPTH = 8;

/** Keys that mean something to JavaScript objects rather than to KTRDR. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface KeyIssue {
  path: (string | number)[];
  message: string;
  /** `error` only for what is dangerous (see above); an unknown key alone is a `warning`. */
  severity: 'error' | 'warning';
}

function isMap(node: unknown): node is Record<string, unknown> {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

/** The sections KTRDR types as `dict[str, Any]`: it reads what it knows there and ignores the rest. */
const FREE_SECTIONS = new Set(['model', 'decisions', 'training']);

/**
 * A value that names a file or directory: a strategy never names one, so under a key nothing reads it can only be
 * meant for some later reader to trust.
 */
export function isPathLike(value: unknown): value is string {
  return typeof value === 'string' && (/[\\/]/.test(value) || value.startsWith('~') || value.includes('..'));
}

/**
 * Every unknown or forbidden key of a strategy with its path, and nesting deeper than MAX_STRATEGY_DEPTH. The
 * contents of an unknown key are still walked for forbidden keys and depth.
 */
export function unknownStrategyKeys(config: unknown): KeyIssue[] {
  const issues: KeyIssue[] = [];
  // Iterative, so a document nested thousands deep cannot overflow the stack.
  const pending: { node: unknown; shape: Shape; path: (string | number)[] }[] = [{ node: config, shape: strategyShape, path: [] }];
  while (pending.length > 0 && issues.length < 50) {
    const { node, shape, path } = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (path.length >= MAX_STRATEGY_DEPTH) {
      issues.push({ path, severity: 'error', message: `nests deeper than ${MAX_STRATEGY_DEPTH} levels, more than any v3 section; flatten it` });
      continue;
    }
    const children: [string | number, unknown][] = Array.isArray(node) ? node.map((item, index) => [index, item]) : Object.entries(node);
    for (const [key, child] of children) {
      const at = [...path, key];
      if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
        issues.push({ path: at, severity: 'error', message: `'${key}' is not allowed as a key` });
        continue;
      }
      let childShape: Shape = value;
      if (shape !== value) {
        if ('items' in shape) childShape = Array.isArray(node) ? shape.items : value;
        else if ('entries' in shape) childShape = isMap(node) ? shape.entries : value;
        else if (isMap(node)) {
          const known = Object.hasOwn(shape.fields, key) ? shape.fields[key as string] : undefined;
          if (known === undefined) {
            issues.push(unknownKeyIssue(at, child, Object.keys(shape.fields)));
          } else {
            childShape = known;
          }
        }
      }
      pending.push({ node: child, shape: childShape, path: at });
    }
  }
  return issues.sort((a, b) => a.path.join('.').localeCompare(b.path.join('.')));
}

function unknownKeyIssue(path: (string | number)[], child: unknown, known: string[]): KeyIssue {
  if (isPathLike(child)) {
    return {
      path,
      severity: 'error',
      message: `holds a path-like value ${JSON.stringify(child.slice(0, 80))} under a key KTRDR does not read; a strategy never names files, so it is refused (known keys here: ${known.join(', ')})`,
    };
  }
  if (path.length > 1 && FREE_SECTIONS.has(String(path[0]))) {
    return { path, severity: 'warning', message: `KTRDR does not read this key; it has no effect (keys KTRDR reads here: ${known.join(', ')})` };
  }
  const section = path.length === 1 ? 'at the top level of a strategy' : 'here';
  return {
    path,
    severity: 'warning',
    message: `is not a key KTRDR's v3 strategy defines ${section}; KTRDR ignores it, so it has no effect (known: ${known.join(', ')})`,
  };
}
