import type { z } from 'zod';
import { scaleOfOutput, type IndicatorParameter, type IndicatorSpec, type IndicatorValueScale } from './indicator-spec.ts';
import { builtinIndicatorRegistry, type IndicatorRegistry } from './indicators.ts';
import {
  REQUIRED_SECTION_HINTS,
  checkStrategyName,
  describeValue,
  isFiniteNumber,
  normalizeMembership,
  strategyConfigSchema,
  zeroWidthMembership,
  type NormalizedMembership,
} from './schema.ts';
import { isRecord } from '../kernel/records.ts';
import { unknownStrategyKeys } from './known-keys.ts';

export interface StrategyFinding {
  readonly severity: 'error' | 'warning';
  /** Where in the document, e.g. `fuzzy_sets.rsi_zone.indicator` or `nn_inputs[0].timeframes[1]`; '' is the root. */
  readonly path: string;
  readonly message: string;
}

export interface StrategyValidation {
  /** False when any finding is an error; warnings alone keep a strategy valid. */
  readonly valid: boolean;
  readonly findings: StrategyFinding[];
}

export interface ValidateStrategyOptions {
  /** Indicator facts; pass the result of `mergeKtrdrIndicators` to know what the running KTRDR offers. */
  readonly registry?: IndicatorRegistry;
  /** The file name stem the strategy is saved under; KTRDR passes `name:` as strategy_name, so they must match. */
  readonly expectedName?: string;
  readonly nameMismatch?: 'error' | 'warning';
}

/** Columns of the price data; an indicator id equal to one would collide with them. */
const PRICE_COLUMNS = new Set(['open', 'high', 'low', 'close', 'volume']);

/** Keys of an indicator definition that are not indicator parameters. */
const NON_PARAMETER_KEYS = new Set(['type', 'data_source']);

/** Timeframes KTRDR's data layer knows; others are likely typos. */
const COMMON_TIMEFRAMES = new Set(['1m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '1w', '1M']);

const SAFE_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Checks a parsed strategy document against KTRDR's v3 grammar and the facts training relies on but KTRDR checks
 * only when the worker runs: indicator types, parameter names and types, dot-notation outputs, and whether fuzzy
 * ranges fit the indicator's value scale. Runs every check it can, so one pass reports all problems.
 */
export function validateStrategy(config: unknown, options: ValidateStrategyOptions = {}): StrategyValidation {
  const findings = new FindingList();
  const registry = options.registry ?? builtinIndicatorRegistry;

  if (!isRecord(config)) {
    findings.error('', `a strategy must be a YAML mapping with name, training_data, indicators, fuzzy_sets and nn_inputs (got ${describeValue(config)})`);
    return findings.result();
  }
  if (Array.isArray(config['indicators'])) {
    findings.error(
      'indicators',
      'this is a v2 strategy (indicators is a list), which KTRDR no longer trains ("V2 is no longer supported; ktrdr strategy migrate"). ' +
        'Migrate to v3: make indicators a map {rsi_14: {type: rsi, period: 14}}, give each fuzzy set an indicator: <id> ' +
        'and its memberships, and add nn_inputs: [{fuzzy_set: <fuzzy set id>, timeframes: all}]',
    );
    return findings.result();
  }

  const parsed = strategyConfigSchema.safeParse(config, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) findings.error(formatPath(issue.path), messageForIssue(issue));
  }

  // Unknown keys have no effect on KTRDR (it ignores them); the dangerous ones are errors from the schema above.
  for (const issue of unknownStrategyKeys(config)) {
    if (issue.severity === 'warning') findings.warning(formatPath(issue.path), issue.message);
  }
  checkNameMatchesFile(config['name'], options, findings);
  const trainingTimeframes = readTrainingTimeframes(config['training_data']);
  checkTimeframeSpelling(config['training_data'], findings);
  checkDates(config['training_data'], findings);

  const indicators = isRecord(config['indicators']) ? config['indicators'] : undefined;
  const fuzzySets = isRecord(config['fuzzy_sets']) ? config['fuzzy_sets'] : undefined;
  const resolvedIndicators = checkIndicators(indicators, config, registry, findings);
  const usedIndicators = new Set<string>();
  checkFuzzySets(fuzzySets, indicators, resolvedIndicators, usedIndicators, findings);
  const usedFuzzySets = checkNnInputs(config['nn_inputs'], fuzzySets, indicators, resolvedIndicators, trainingTimeframes, usedIndicators, findings);

  for (const indicatorId of Object.keys(indicators ?? {})) {
    if (!usedIndicators.has(indicatorId)) {
      findings.warning(
        formatPath(['indicators', indicatorId]),
        'is defined but no fuzzy set or raw_indicator input uses it, so KTRDR computes it for nothing; reference it or remove it',
      );
    }
  }
  if (Array.isArray(config['nn_inputs'])) {
    for (const fuzzySetId of Object.keys(fuzzySets ?? {})) {
      if (!usedFuzzySets.has(fuzzySetId)) {
        findings.warning(
          formatPath(['fuzzy_sets', fuzzySetId]),
          `is not used by any nn_inputs entry, so the model never sees it; add {fuzzy_set: ${fuzzySetId}, timeframes: all} to nn_inputs or remove it`,
        );
      }
    }
  }
  checkZeroWidthMemberships(fuzzySets, findings);
  checkOutputFormatAgainstTraining(config['decisions'], config['training'], findings);
  return findings.result();
}

function checkZeroWidthMemberships(fuzzySets: Record<string, unknown> | undefined, findings: FindingList): void {
  for (const [fuzzySetId, fuzzySet] of Object.entries(fuzzySets ?? {})) {
    if (!isRecord(fuzzySet)) continue;
    for (const [membershipName, membership] of Object.entries(fuzzySet)) {
      if (membershipName === 'indicator') continue;
      const normalized = normalizeMembership(membership);
      if (!normalized || !zeroWidthMembership(normalized)) continue;
      const path = formatPath(normalized.shorthand ? ['fuzzy_sets', fuzzySetId, membershipName] : ['fuzzy_sets', fuzzySetId, membershipName, 'parameters']);
      findings.warning(
        path,
        `${normalized.type} [${normalized.parameters.join(', ')}] has zero width: it is active at one value only, so the model learns little from it; widen it`,
      );
    }
  }
}

/** One line per finding: `error fuzzy_sets.rsi_zone.indicator: unknown indicator 'rsi_99' (known: rsi_14)`. */
export function formatFindings(findings: readonly StrategyFinding[]): string {
  return findings.map((finding) => `${finding.severity} ${finding.path === '' ? '(root)' : finding.path}: ${finding.message}`).join('\n');
}

class FindingList {
  readonly #findings: StrategyFinding[] = [];

  error(path: string, message: string): void {
    this.#findings.push({ severity: 'error', path, message });
  }

  warning(path: string, message: string): void {
    this.#findings.push({ severity: 'warning', path, message });
  }

  add(severity: StrategyFinding['severity'], path: string, message: string): void {
    this.#findings.push({ severity, path, message });
  }

  result(): StrategyValidation {
    const findings = [
      ...this.#findings.filter((finding) => finding.severity === 'error'),
      ...this.#findings.filter((finding) => finding.severity === 'warning'),
    ];
    return { valid: !findings.some((finding) => finding.severity === 'error'), findings };
  }
}

function checkNameMatchesFile(name: unknown, options: ValidateStrategyOptions, findings: FindingList): void {
  if (options.expectedName === undefined || typeof name !== 'string' || checkStrategyName(name) !== undefined) return;
  if (name !== options.expectedName) {
    findings.add(
      options.nameMismatch ?? 'error',
      'name',
      `'${name}' does not match the file name '${options.expectedName}'; KTRDR passes the YAML name as strategy_name, so set name: ${options.expectedName}`,
    );
  }
}

/** The timeframes training data provides, or undefined when training_data is too broken to tell. */
function readTrainingTimeframes(trainingData: unknown): string[] | undefined {
  if (!isRecord(trainingData) || !isRecord(trainingData['timeframes'])) return undefined;
  const timeframes = trainingData['timeframes'];
  const single = typeof timeframes['timeframe'] === 'string' ? [timeframes['timeframe']] : [];
  const list = Array.isArray(timeframes['list']) ? timeframes['list'].filter((entry): entry is string => typeof entry === 'string') : [];
  if (timeframes['mode'] === 'single') return single.length > 0 ? single : list.length > 0 ? list : undefined;
  if (timeframes['mode'] === 'multi_timeframe') return list.length > 0 ? list : undefined;
  const all = [...single, ...list];
  return all.length > 0 ? all : undefined;
}

function checkTimeframeSpelling(trainingData: unknown, findings: FindingList): void {
  if (!isRecord(trainingData) || !isRecord(trainingData['timeframes'])) return;
  const timeframes = trainingData['timeframes'];
  const candidates: [string, unknown][] = [[formatPath(['training_data', 'timeframes', 'timeframe']), timeframes['timeframe']]];
  if (Array.isArray(timeframes['list'])) {
    timeframes['list'].forEach((entry, index) => candidates.push([formatPath(['training_data', 'timeframes', 'list', index]), entry]));
  }
  for (const [path, timeframe] of candidates) {
    if (typeof timeframe === 'string' && timeframe !== '' && !COMMON_TIMEFRAMES.has(timeframe)) {
      findings.warning(path, `'${timeframe}' is not a timeframe KTRDR usually has data for (${[...COMMON_TIMEFRAMES].join(', ')})`);
    }
  }
}

function checkDates(trainingData: unknown, findings: FindingList): void {
  if (!isRecord(trainingData)) return;
  const dateRange = isRecord(trainingData['date_range']) ? trainingData['date_range'] : {};
  const pairs: [string, unknown, string, unknown][] = [
    [formatPath(['training_data', 'start_date']), trainingData['start_date'], formatPath(['training_data', 'end_date']), trainingData['end_date']],
    [formatPath(['training_data', 'date_range', 'start']), dateRange['start'], formatPath(['training_data', 'date_range', 'end']), dateRange['end']],
  ];
  for (const [startPath, start, endPath, end] of pairs) {
    for (const [path, value] of [
      [startPath, start],
      [endPath, end],
    ] as const) {
      if (typeof value === 'string' && !isIsoDate(value)) findings.error(path, `'${value}' is not a date; write "YYYY-MM-DD"`);
    }
    if (typeof start === 'string' && typeof end === 'string' && isIsoDate(start) && isIsoDate(end) && start >= end) {
      findings.error(endPath, `'${end}' must be after the start date '${start}'`);
    }
  }
}

function isIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

/** Resolves each indicator's type and checks its parameters; returns id → registry entry for the known ones. */
function checkIndicators(
  indicators: Record<string, unknown> | undefined,
  config: Record<string, unknown>,
  registry: IndicatorRegistry,
  findings: FindingList,
): Map<string, IndicatorSpec> {
  const resolved = new Map<string, IndicatorSpec>();
  for (const [indicatorId, definition] of Object.entries(indicators ?? {})) {
    const indicatorPath = formatPath(['indicators', indicatorId]);
    if (indicatorId.includes('.')) {
      findings.error(indicatorPath, "indicator ids cannot contain '.', which KTRDR reads as id.output; use '_' instead");
    } else if (PRICE_COLUMNS.has(indicatorId.toLowerCase())) {
      findings.error(indicatorPath, `'${indicatorId}' would collide with the price column of the same name; choose an id such as ${indicatorId}_sma_20`);
    } else if (!SAFE_ID_PATTERN.test(indicatorId)) {
      findings.warning(indicatorPath, "ids are safest as letters, digits, '_' and '-', starting with a letter (they become column and feature names)");
    }
    if (!isRecord(definition) || typeof definition['type'] !== 'string' || definition['type'] === '') continue;

    const type = definition['type'];
    const typePath = formatPath(['indicators', indicatorId, 'type']);
    const spec = registry.resolve(type);
    if (!spec) {
      const suggestions = registry.suggest(type);
      const hint = suggestions.length > 0 ? ` (did you mean ${suggestions.map((name) => `'${name}'`).join(' or ')}?)` : '';
      findings.error(typePath, `unknown indicator type '${type}'${hint}; known types: ${registry.typeNames().join(', ')}`);
      continue;
    }
    resolved.set(indicatorId, spec);
    if (registry.hasKtrdrCatalogue && !registry.isListedByKtrdr(spec)) {
      findings.warning(typePath, `'${type}' (${spec.className}) is not listed by this KTRDR's GET /indicators/, so its workers may not have it`);
    }
    if (spec.caution) findings.warning(typePath, spec.caution);
    if (spec.parameters) checkIndicatorParameters(indicatorId, definition, spec, spec.parameters, findings);
    if (definition['data_source'] !== undefined && config['context_data'] === undefined) {
      findings.error(
        formatPath(['indicators', indicatorId, 'data_source']),
        'refers to context data, but the strategy has no context_data section to take it from',
      );
    }
  }
  return resolved;
}

function checkIndicatorParameters(
  indicatorId: string,
  definition: Record<string, unknown>,
  spec: IndicatorSpec,
  parameters: readonly IndicatorParameter[],
  findings: FindingList,
): void {
  const byName = new Map(parameters.map((parameter) => [parameter.name, parameter]));
  const known =
    parameters.length === 0
      ? `${spec.canonicalType} takes no parameters`
      : `${spec.canonicalType} takes ${parameters.map((parameter) => `${parameter.name} (default ${JSON.stringify(parameter.default)})`).join(', ')}`;
  for (const [key, value] of Object.entries(definition)) {
    if (NON_PARAMETER_KEYS.has(key)) continue;
    const path = formatPath(['indicators', indicatorId, key]);
    const parameter = byName.get(key);
    if (!parameter) {
      const suggestion = suggestParameter(key, parameters);
      findings.warning(
        path,
        `unknown parameter '${key}': KTRDR ignores it and uses the default${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; ${known}`,
      );
      continue;
    }
    const problem = parameterValueProblem(parameter, value);
    if (problem) findings.error(path, `${problem} (${spec.canonicalType}.${parameter.name}: ${parameter.description})`);
  }
  const fast = definition['fast_period'];
  const slow = definition['slow_period'];
  if (spec.canonicalType === 'macd' && isFiniteNumber(fast) && isFiniteNumber(slow) && fast >= slow) {
    findings.warning(formatPath(['indicators', indicatorId, 'fast_period']), `fast_period (${fast}) should be smaller than slow_period (${slow})`);
  }
}

function parameterValueProblem(parameter: IndicatorParameter, value: unknown): string | undefined {
  switch (parameter.type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return `must be a whole number (got ${describeValue(value)}); KTRDR's integer parameters are strict, so write 14, not 14.5 or "14"`;
      }
      break;
    case 'float':
      if (!isFiniteNumber(value)) return `must be a number (got ${describeValue(value)})`;
      break;
    case 'bool':
      if (typeof value !== 'boolean') return `must be true or false (got ${describeValue(value)})`;
      return undefined;
    case 'string':
      if (typeof value !== 'string') return `must be a string (got ${describeValue(value)})`;
      if (parameter.options && !parameter.options.includes(value)) {
        return `must be one of ${parameter.options.join(', ')} (got '${value}')`;
      }
      return undefined;
  }
  const number = value as number;
  if (parameter.min !== undefined && (parameter.exclusiveMin ? number <= parameter.min : number < parameter.min)) {
    return `must be ${parameter.exclusiveMin ? 'greater than' : 'at least'} ${parameter.min} (got ${number})`;
  }
  if (parameter.max !== undefined && number > parameter.max) return `must be at most ${parameter.max} (got ${number})`;
  return undefined;
}

function suggestParameter(key: string, parameters: readonly IndicatorParameter[]): string | undefined {
  const lowered = key.toLowerCase();
  const match = parameters.find(
    (parameter) =>
      parameter.name === lowered ||
      parameter.name === `${lowered}_period` ||
      parameter.name.startsWith(`${lowered}_`) ||
      (lowered.length >= 3 && parameter.name.startsWith(lowered)),
  );
  return match?.name;
}

/** An indicator reference as KTRDR reads it: `id` or `id.output`, split at the first dot. */
interface IndicatorReference {
  readonly indicatorId: string;
  readonly output: string | undefined;
}

function parseIndicatorReference(reference: string): IndicatorReference {
  const dot = reference.indexOf('.');
  return dot === -1 ? { indicatorId: reference, output: undefined } : { indicatorId: reference.slice(0, dot), output: reference.slice(dot + 1) };
}

/**
 * Checks that a reference names a defined indicator and, with dot notation, one of its outputs. Returns the
 * resolved reference when it is usable for scale checks.
 */
function checkIndicatorReference(
  reference: unknown,
  path: string,
  indicators: Record<string, unknown> | undefined,
  resolved: ReadonlyMap<string, IndicatorSpec>,
  usedIndicators: Set<string>,
  findings: FindingList,
): { spec: IndicatorSpec; output: string | undefined } | undefined {
  if (typeof reference !== 'string' || reference === '' || !indicators) return undefined;
  const { indicatorId, output } = parseIndicatorReference(reference);
  if (!(indicatorId in indicators)) {
    const ids = Object.keys(indicators);
    const known = ids.length > 0 ? `known: ${ids.join(', ')}` : 'no indicators are defined';
    const typeOwner = ids.find((id) => {
      const definition = indicators[id];
      return isRecord(definition) && typeof definition['type'] === 'string' && definition['type'].toLowerCase() === indicatorId.toLowerCase();
    });
    const similar = ids.find((id) => id !== '' && (indicatorId.startsWith(id) || id.startsWith(indicatorId)));
    const hint =
      typeOwner !== undefined ? `; reference the indicator id ('${typeOwner}'), not its type` : similar !== undefined ? `; did you mean '${similar}'?` : '';
    findings.error(path, `unknown indicator '${indicatorId}' (${known})${hint}`);
    return undefined;
  }
  usedIndicators.add(indicatorId);
  const spec = resolved.get(indicatorId);
  if (!spec) return undefined;
  if (output === undefined) return { spec, output };
  if (spec.outputs === undefined) {
    findings.warning(path, `cannot check output '${output}': the outputs of '${spec.canonicalType}' are not known locally, so KTRDR will check it`);
    return undefined;
  }
  if (spec.outputs.length === 0) {
    findings.error(path, `'${indicatorId}' (${spec.canonicalType}) has a single output; reference it as '${indicatorId}' without '.${output}'`);
    return undefined;
  }
  if (!spec.outputs.includes(output)) {
    findings.error(
      path,
      `'${indicatorId}' (${spec.canonicalType}) has no output '${output}'; valid outputs: ${spec.outputs.join(', ')} (e.g. '${indicatorId}.${spec.outputs[0] ?? ''}')`,
    );
    return undefined;
  }
  return { spec, output };
}

function checkFuzzySets(
  fuzzySets: Record<string, unknown> | undefined,
  indicators: Record<string, unknown> | undefined,
  resolved: ReadonlyMap<string, IndicatorSpec>,
  usedIndicators: Set<string>,
  findings: FindingList,
): void {
  for (const [fuzzySetId, fuzzySet] of Object.entries(fuzzySets ?? {})) {
    if (!isRecord(fuzzySet)) continue;
    const indicatorPath = formatPath(['fuzzy_sets', fuzzySetId, 'indicator']);
    const target = checkIndicatorReference(fuzzySet['indicator'], indicatorPath, indicators, resolved, usedIndicators, findings);
    if (!target) continue;
    const scale = scaleOfOutput(target.spec, target.output);
    const subject = `${String(fuzzySet['indicator'])} (${describeOutput(target.spec, target.output)})`;
    if (scale.kind === 'instrument') {
      findings.warning(
        indicatorPath,
        `${subject} is not bounded: its values are in ${scale.unit}, so fuzzy ranges must match the scale it takes on this ` +
          'instrument (EURUSD 1h ATR is about 0.001 while its price is about 1.1) and do not transfer to other symbols or price levels; ' +
          'prefer a bounded indicator (rsi, stochastic, williamsr, mfi, adx, aroon, cmf, rvi) or a raw_indicator input with normalization: zscore',
      );
      continue;
    }
    if (scale.kind !== 'bounded') continue;
    for (const [membershipName, membership] of Object.entries(fuzzySet)) {
      if (membershipName === 'indicator') continue;
      const normalized = normalizeMembership(membership);
      if (!normalized) continue;
      const path = formatPath(normalized.shorthand ? ['fuzzy_sets', fuzzySetId, membershipName] : ['fuzzy_sets', fuzzySetId, membershipName, 'parameters']);
      checkMembershipAgainstScale(normalized, scale, subject, path, findings);
    }
  }
}

function describeOutput(spec: IndicatorSpec, output: string | undefined): string {
  return output === undefined ? spec.canonicalType : `${spec.canonicalType} ${output}`;
}

/** Reads each membership type's parameters for what they are and checks them against a bounded scale. */
function checkMembershipAgainstScale(
  membership: NormalizedMembership,
  scale: Extract<IndicatorValueScale, { kind: 'bounded' }>,
  subject: string,
  path: string,
  findings: FindingList,
): void {
  const { min, max } = scale;
  const span = max - min;
  const range = `${min}..${max}`;
  const written = `[${membership.parameters.join(', ')}]`;
  if (membership.type === 'gaussian') {
    const [mean = 0, sigma = 0] = membership.parameters;
    if (mean < min || mean > max) {
      findings.error(path, `gaussian [mean, sigma] ${written} centres on ${mean}, outside ${subject}'s range ${range}; put the mean inside the range`);
    } else if (sigma > span) {
      findings.warning(path, `gaussian sigma ${sigma} is wider than ${subject}'s whole range ${range}, so membership is almost flat`);
    } else if (sigma > 0 && sigma < span * 0.005) {
      findings.warning(path, `gaussian sigma ${sigma} is under 0.5% of ${subject}'s range ${range}, so it almost never activates`);
    }
    return;
  }
  const first = membership.parameters[0] ?? 0;
  const last = membership.parameters[membership.parameters.length - 1] ?? 0;
  const core = membership.type === 'triangular' ? [membership.parameters[1] ?? 0] : [membership.parameters[1] ?? 0, membership.parameters[2] ?? 0];
  const coreLow = Math.min(...core);
  const coreHigh = Math.max(...core);
  if (!(first < max && last > min)) {
    findings.error(path, `${membership.type} ${written} lies outside ${subject}'s range ${range}, so it never activates; use values within ${range}`);
  } else if (coreHigh < min || coreLow > max) {
    const peak = membership.type === 'triangular' ? `peak ${coreLow}` : `plateau ${coreLow}..${coreHigh}`;
    findings.error(path, `${membership.type} ${written} has its ${peak} outside ${subject}'s range ${range}; keep the peak within ${range}`);
  } else if (last - first < span * 0.01) {
    findings.warning(path, `${membership.type} ${written} covers under 1% of ${subject}'s range ${range}; check the scale (${range}, not 0..1)`);
  }
}

function checkNnInputs(
  nnInputs: unknown,
  fuzzySets: Record<string, unknown> | undefined,
  indicators: Record<string, unknown> | undefined,
  resolved: ReadonlyMap<string, IndicatorSpec>,
  trainingTimeframes: readonly string[] | undefined,
  usedIndicators: Set<string>,
  findings: FindingList,
): Set<string> {
  const usedFuzzySets = new Set<string>();
  if (!Array.isArray(nnInputs)) return usedFuzzySets;
  const seenSources = new Map<string, number>();
  nnInputs.forEach((input: unknown, index) => {
    if (!isRecord(input)) return;
    const fuzzySet = input['fuzzy_set'];
    const rawIndicator = input['raw_indicator'];
    if (typeof fuzzySet === 'string' && fuzzySet !== '' && fuzzySets) {
      if (fuzzySet in fuzzySets) {
        usedFuzzySets.add(fuzzySet);
      } else {
        const ids = Object.keys(fuzzySets);
        const known = ids.length > 0 ? `known: ${ids.join(', ')}` : 'no fuzzy sets are defined';
        const hint =
          indicators && fuzzySet in indicators ? `; '${fuzzySet}' is an indicator: use raw_indicator for raw values, or a fuzzy set that interprets it` : '';
        findings.error(formatPath(['nn_inputs', index, 'fuzzy_set']), `unknown fuzzy set '${fuzzySet}' (${known})${hint}`);
      }
    }
    if (typeof rawIndicator === 'string') {
      const target = checkIndicatorReference(rawIndicator, formatPath(['nn_inputs', index, 'raw_indicator']), indicators, resolved, usedIndicators, findings);
      const normalization = input['normalization'];
      if (target && scaleOfOutput(target.spec, target.output).kind === 'instrument' && (normalization === undefined || normalization === 'none')) {
        findings.warning(
          formatPath(['nn_inputs', index, 'raw_indicator']),
          `${rawIndicator} is in the instrument's own units; set normalization: zscore (or minmax) so the model sees a comparable scale`,
        );
      }
    }
    const timeframes = input['timeframes'];
    if (Array.isArray(timeframes) && trainingTimeframes) {
      timeframes.forEach((timeframe: unknown, timeframeIndex) => {
        if (typeof timeframe === 'string' && timeframe !== '' && !trainingTimeframes.includes(timeframe)) {
          findings.error(
            formatPath(['nn_inputs', index, 'timeframes', timeframeIndex]),
            `timeframe '${timeframe}' is not in training_data.timeframes (${trainingTimeframes.join(', ')}); use one of those or 'all'`,
          );
        }
      });
    }
    const source = typeof fuzzySet === 'string' ? `fuzzy_set ${fuzzySet}` : typeof rawIndicator === 'string' ? `raw_indicator ${rawIndicator}` : undefined;
    if (source !== undefined) {
      const earlier = seenSources.get(source);
      if (earlier !== undefined && timeframesOverlap(nnInputs[earlier], timeframes)) {
        findings.warning(formatPath(['nn_inputs', index]), `repeats ${source} from nn_inputs[${earlier}], which duplicates features`);
      } else if (earlier === undefined) {
        seenSources.set(source, index);
      }
    }
  });
  return usedFuzzySets;
}

function timeframesOverlap(earlierInput: unknown, timeframes: unknown): boolean {
  const earlier = isRecord(earlierInput) ? earlierInput['timeframes'] : undefined;
  if (earlier === 'all' || timeframes === 'all') return true;
  if (!Array.isArray(earlier) || !Array.isArray(timeframes)) return false;
  return timeframes.some((timeframe: unknown) => earlier.includes(timeframe));
}

function checkOutputFormatAgainstTraining(decisions: unknown, training: unknown, findings: FindingList): void {
  if (!isRecord(decisions) || decisions['output_format'] !== 'regression' || !isRecord(training)) return;
  const loss = training['loss'];
  if (typeof loss === 'string' && loss !== 'huber' && loss !== 'mse') {
    findings.error(formatPath(['training', 'loss']), `regression trains with loss 'huber' or 'mse' (got '${loss}')`);
  }
  const labels = training['labels'];
  if (isRecord(labels) && typeof labels['source'] === 'string' && labels['source'] !== 'forward_return') {
    findings.warning(
      formatPath(['training', 'labels', 'source']),
      `regression predicts forward returns; '${labels['source']}' labels are classes, so use source: forward_return with a horizon`,
    );
  }
}

function messageForIssue(issue: z.core.$ZodIssue): string {
  const missing = issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union');
  if (missing) {
    const section = issue.path.length === 1 ? REQUIRED_SECTION_HINTS[String(issue.path[0])] : undefined;
    return section ? `is required: ${section}` : `is required (${issue.message})`;
  }
  if (issue.code === 'custom' || !issue.message.startsWith('Invalid')) {
    return issue.input === undefined || issue.code === 'custom' ? issue.message : `${issue.message} (got ${describeValue(issue.input)})`;
  }
  if (issue.code === 'invalid_type') return `must be ${articleFor(issue.expected)} (got ${describeValue(issue.input)})`;
  return `${issue.message.replace(/^Invalid input: /, '')} (got ${describeValue(issue.input)})`;
}

function articleFor(expected: string): string {
  const names: Record<string, string> = {
    object: 'a map',
    array: 'a list',
    record: 'a map',
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

/** `['fuzzy_sets', 'rsi', 'indicator']` → `fuzzy_sets.rsi.indicator`; `['nn_inputs', 0]` → `nn_inputs[0]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') {
      path += `[${segment}]`;
    } else {
      const key = String(segment);
      path += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${path === '' ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return path;
}
