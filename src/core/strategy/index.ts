export {
  BOUNDED_INDICATORS,
  INSTRUMENT_SCALE_INDICATOR_TYPES,
  formatBoundedIndicatorTable,
  type BoundedIndicatorFact,
} from './bounded-indicators.ts';
export { mergeKtrdrIndicators, type KtrdrIndicatorListing } from './indicator-catalogue.ts';
export { BUILTIN_INDICATORS } from './indicator-data.ts';
export {
  canonicalTypeOf,
  scaleOfOutput,
  type FuzzyZone,
  type IndicatorCategory,
  type IndicatorParameter,
  type IndicatorParameterType,
  type IndicatorSpec,
  type IndicatorValueScale,
} from './indicator-spec.ts';
export {
  builtinIndicatorRegistry,
  createIndicatorRegistry,
  resolveIndicatorType,
  type IndicatorRegistry,
} from './indicators.ts';
export {
  LABEL_SOURCES,
  MEMBERSHIP_PARAMETER_COUNTS,
  MEMBERSHIP_TYPES,
  OUTPUT_FORMATS,
  STRATEGY_NAME_MAX_LENGTH,
  STRATEGY_NAME_PATTERN,
  checkStrategyName,
  normalizeMembership,
  strategyConfigSchema,
  type MembershipFunctionConfig,
  type MembershipType,
  type NormalizedMembership,
  type StrategyConfig,
} from './schema.ts';
export {
  formatFindings,
  formatPath,
  validateStrategy,
  type StrategyFinding,
  type StrategyValidation,
  type ValidateStrategyOptions,
} from './validate.ts';
export {
  DEFAULT_STRATEGY_YAML_LIMITS,
  parseStrategyYaml,
  stringifyStrategy,
  type StrategyYamlLimits,
  type YamlParseResult,
} from './yaml.ts';
export {
  StrategyStore,
  StrategyStoreError,
  publishStagedStrategyFile,
  stageStrategyFile,
  type SaveStrategyOptions,
  type SavedStrategy,
  type StagedStrategyFile,
  type StoredStrategy,
  type StrategyStoreErrorCode,
  type StrategyStoreOptions,
} from './store.ts';
