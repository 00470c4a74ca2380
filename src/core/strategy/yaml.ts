import {
  Document,
  LineCounter,
  Scalar,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Node as YamlNode,
  type ParsedNode,
  type ScalarTag,
  type Tags,
} from 'yaml';

export interface StrategyYamlLimits {
  /** Largest accepted document, in UTF-8 bytes. */
  readonly maxBytes?: number;
  /** Largest number of alias (`*name`) expansions, which bounds "billion laughs" documents. */
  readonly maxAliasCount?: number;
  /** Deepest nesting of maps and lists. */
  readonly maxDepth?: number;
}

export const DEFAULT_STRATEGY_YAML_LIMITS: Required<StrategyYamlLimits> = {
  maxBytes: 256 * 1024,
  maxAliasCount: 20,
  maxDepth: 32,
};

export type YamlParseResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** The only explicit tags allowed: those of the YAML 1.2 core schema. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`));

/*
 * KTRDR reads strategies with PyYAML (YAML 1.1), which resolves some plain scalars differently from YAML 1.2:
 * `on`/`yes` are booleans, `2024-01-01` is a date, `1e-3` is a string, `010` is octal. A plain scalar the two read
 * differently is refused, so what this parser sees is what KTRDR sees.
 */
const PYYAML_BOOL = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;
const PYYAML_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PYYAML_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const PYYAML_TIMESTAMP =
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/;
const LEADING_ZERO_OCTAL = /^[-+]?0[0-7_]+$/;

/**
 * Parses strategy YAML defensively: bounded size, alias expansions and depth; YAML 1.2 core schema only (any other
 * tag, `!!binary`, `!!js/function` or `!foo`, is an error); unique keys; one document. Errors carry line and column.
 */
export function parseStrategyYaml(source: string | Uint8Array, limits: StrategyYamlLimits = {}): YamlParseResult {
  const { maxBytes, maxAliasCount, maxDepth } = { ...DEFAULT_STRATEGY_YAML_LIMITS, ...limits };
  const byteLength = typeof source === 'string' ? Buffer.byteLength(source, 'utf8') : source.byteLength;
  if (byteLength > maxBytes) {
    return failure(`YAML document is ${formatBytes(byteLength)}, over the ${formatBytes(maxBytes)} limit; a strategy needs far less`);
  }
  let text: string;
  try {
    text = typeof source === 'string' ? source : new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    return failure('YAML document is not valid UTF-8');
  }

  // The parser recurses on nesting, so absurd flow nesting is refused before it runs.
  if (deepestFlowNesting(text) > maxDepth) return failure(tooDeep(maxDepth));

  const lineCounter = new LineCounter();
  let document: Document.Parsed;
  try {
    document = parseDocument(text, {
      schema: 'core',
      resolveKnownTags: false,
      merge: false,
      uniqueKeys: true,
      strict: true,
      prettyErrors: true,
      lineCounter,
    });
  } catch (error) {
    return failure(`YAML could not be parsed: ${errorMessage(error)}`);
  }
  const problems = [...document.errors, ...document.warnings];
  const firstProblem = problems[0];
  if (firstProblem) {
    const position = firstProblem.linePos?.[0];
    const message = firstProblem.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? firstProblem.message;
    if (/call stack/i.test(message)) return failure(tooDeep(maxDepth));
    return failure(`${position ? `line ${position.line}, column ${position.col}: ` : ''}${message}`);
  }

  const structureProblem = findStructureProblem(document.contents, maxDepth, lineCounter);
  if (structureProblem) return failure(structureProblem);

  try {
    return { ok: true, value: document.toJS({ maxAliasCount }) as unknown };
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      return failure(
        `YAML expands aliases more than ${maxAliasCount} times, which is refused as a resource-exhaustion risk; write the values out instead of using anchors (&) and aliases (*)`,
      );
    }
    return failure(`YAML could not be read: ${errorMessage(error)}`);
  }
}

/** Walks the node tree without recursion: depth, allowed tags, plain keys, and YAML 1.1 ambiguities. */
function findStructureProblem(root: ParsedNode | null, maxDepth: number, lineCounter: LineCounter): string | undefined {
  const at = (node: YamlNode) => {
    const offset = node.range?.[0];
    if (offset === undefined) return '';
    const position = lineCounter.linePos(offset);
    return `line ${position.line}, column ${position.col}: `;
  };
  const pending: { node: unknown; depth: number; isKey: boolean }[] = root ? [{ node: root, depth: 1, isKey: false }] : [];
  while (pending.length > 0) {
    const next = pending.pop();
    if (!next) break;
    const { node, depth, isKey } = next;
    if (isAlias(node)) continue;
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue;
    if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
      return `${at(node)}tag '${node.tag}' is not allowed; strategies use plain YAML values only`;
    }
    if (isScalar(node)) {
      const problem = pyyamlDisagreement(node, isKey);
      if (problem) return `${at(node)}${problem}`;
      continue;
    }
    if (depth > maxDepth) return `${at(node)}${tooDeep(maxDepth)}`;
    if (isSeq(node)) {
      for (let index = node.items.length - 1; index >= 0; index -= 1) pending.push({ node: node.items[index], depth: depth + 1, isKey: false });
      continue;
    }
    for (let index = node.items.length - 1; index >= 0; index -= 1) {
      const pair = node.items[index];
      if (!isPair(pair)) continue;
      const key = pair.key;
      if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
        const position = isScalar(key) || isMap(key) || isSeq(key) || isAlias(key) ? at(key) : at(node);
        return `${position}map keys must be plain names (got ${key === null || (isScalar(key) && key.value === null) ? 'an empty key' : 'a complex key'})`;
      }
      if (key.value === '__proto__') return `${at(key)}the key '__proto__' is not allowed`;
      pending.push({ node: pair.value, depth: depth + 1, isKey: false });
      pending.push({ node: key, depth: depth + 1, isKey: true });
    }
  }
  return undefined;
}

/** Says how PyYAML (KTRDR's reader) would read a plain scalar differently, or undefined when both agree. */
function pyyamlDisagreement(node: Scalar, isKey: boolean): string | undefined {
  // An explicit core tag (`!!str 2024-01-01`) means the same to both readers.
  if (node.type !== Scalar.PLAIN || node.tag !== undefined || typeof node.source !== 'string') return undefined;
  const text = node.source;
  const value: unknown = node.value;
  if (isKey && text === '<<') return "merge keys ('<<') are not supported; write the values out";
  if (typeof value === 'string') {
    if (PYYAML_BOOL.test(text)) return `KTRDR's YAML 1.1 reader takes unquoted '${text}' as a boolean; quote it ("${text}") or write true/false`;
    if (PYYAML_TIMESTAMP.test(text)) return `KTRDR's YAML 1.1 reader takes unquoted ${text} as a date object, not a string; quote it ("${text}")`;
    if (PYYAML_INT.test(text) || PYYAML_FLOAT.test(text)) {
      return `KTRDR's YAML 1.1 reader takes unquoted '${text}' as a number; quote it ("${text}") if it is text, or write a plain number`;
    }
  }
  if (typeof value === 'number') {
    if (LEADING_ZERO_OCTAL.test(text)) return `KTRDR's YAML 1.1 reader takes ${text} as an octal number; drop the leading zero`;
    if (!PYYAML_INT.test(text) && !PYYAML_FLOAT.test(text)) {
      return `KTRDR's YAML 1.1 reader takes ${text} as a string, not a number; write it with a decimal point and a signed exponent (e.g. 0.001 or 1.0e-3)`;
    }
  }
  return undefined;
}

/**
 * Renders a strategy as readable YAML that KTRDR's YAML 1.1 reader and this module's parser read alike: sections in
 * the usual order, short lists of scalars in flow style (`oversold: [0, 20, 35]`), ambiguous strings quoted.
 */
export function stringifyStrategy(config: unknown): string {
  const document = new Document(orderStrategySections(config), {
    version: '1.1',
    aliasDuplicateObjects: false,
    customTags: exponentSafeNumberTags,
  });
  visit(document, {
    Seq(_key, node) {
      if (node.items.length > 0 && node.items.length <= 12 && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return document.toString({ indent: 2, lineWidth: 100, minContentWidth: 40, flowCollectionPadding: false });
}

const SECTION_ORDER = [
  'name',
  'version',
  'description',
  'hypothesis',
  'scope',
  'training_data',
  'context_data',
  'indicators',
  'fuzzy_sets',
  'nn_inputs',
  'model',
  'decisions',
  'training',
  'backtest',
  'deployment',
];

function orderStrategySections(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return config;
  const entries = Object.entries(config);
  const known = SECTION_ORDER.flatMap((key) => entries.filter(([entryKey]) => entryKey === key));
  const rest = entries.filter(([key]) => !SECTION_ORDER.includes(key));
  return Object.fromEntries([...known, ...rest]);
}

/** PyYAML reads `1e-07` as a string, so numbers JavaScript prints with an exponent get a mantissa point and sign. */
function exponentSafeNumberTags(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== 'object' || !('identify' in tag) || tag.format !== undefined) return tag;
    if (tag.tag !== 'tag:yaml.org,2002:float' && tag.tag !== 'tag:yaml.org,2002:int') return tag;
    const original = tag as ScalarTag;
    const stringify: NonNullable<ScalarTag['stringify']> = (item, context, onComment, onChompKeep) => {
      const value = item.value;
      if (typeof value === 'number' && Number.isFinite(value) && /e/i.test(String(value))) {
        const [mantissa = '', exponent = ''] = value.toExponential().split('e');
        const signedExponent = /^[-+]/.test(exponent) ? exponent : `+${exponent}`;
        return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${signedExponent}`;
      }
      return original.stringify ? original.stringify(item, context, onComment, onChompKeep) : String(value);
    };
    return { ...original, stringify };
  });
}

function tooDeep(maxDepth: number): string {
  return `YAML nests deeper than ${maxDepth} levels, which no strategy needs`;
}

/**
 * The deepest nesting of flow brackets outside quotes and comments. Never more than the document's real depth, so
 * it only refuses documents the depth check would refuse anyway.
 */
function deepestFlowNesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quote: string | undefined;
  let inComment = false;
  let previous = '\n';
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (inComment) {
      if (character === '\n') inComment = false;
    } else if (quote !== undefined) {
      if (character === '\\' && quote === '"') index += 1;
      else if (character === quote && quote === "'" && text[index + 1] === "'") index += 1;
      else if (character === quote) quote = undefined;
    } else if (character === '#' && /\s/.test(previous)) {
      inComment = true;
    } else if ((character === '"' || character === "'") && /[\s[{,:]/.test(previous)) {
      quote = character;
    } else if (character === '[' || character === '{') {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if ((character === ']' || character === '}') && depth > 0) {
      depth -= 1;
    }
    previous = character ?? '';
  }
  return deepest;
}

function failure(error: string): YamlParseResult {
  return { ok: false, error };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} bytes`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
