import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DEFAULT_STRATEGY_YAML_LIMITS, parseStrategyYaml, stringifyStrategy, type YamlParseResult } from '../../src/core/strategy/index.ts';

const examplesDirectory = new URL('../../../shared/ktrdr/strategies/', import.meta.url);

function expectRefused(result: YamlParseResult, pattern: RegExp): void {
  assert.equal(result.ok, false, 'expected the document to be refused');
  if (!result.ok) assert.match(result.error, pattern);
}

/** Nine levels of nine aliases each: about 387 million strings once expanded. */
function billionLaughs(): string {
  const lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let level = 1; level <= 9; level += 1) {
    lines.push(`lol${level}: &lol${level} [${Array.from({ length: 9 }, () => `*lol${level - 1}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('parseStrategyYaml', () => {
  test('parses a KTRDR example strategy', () => {
    const result = parseStrategyYaml(readFileSync(new URL('v3_minimal.yaml', examplesDirectory)));
    assert.ok(result.ok, result.ok ? '' : result.error);
    const value = result.value as Record<string, any>;
    assert.equal(value['name'], 'v3_minimal');
    assert.equal(value['version'], '3.0');
    assert.deepEqual(value['fuzzy_sets']['rsi_momentum']['oversold'], [0, 25, 40]);
    assert.deepEqual(value['nn_inputs'], [{ fuzzy_set: 'rsi_momentum', timeframes: ['1h'] }]);
  });

  test('accepts strings and Uint8Arrays alike', () => {
    const text = 'name: s\nlist: [1, 2.5, "x"]\n';
    assert.deepEqual(parseStrategyYaml(text), { ok: true, value: { name: 's', list: [1, 2.5, 'x'] } });
    assert.deepEqual(parseStrategyYaml(new TextEncoder().encode(text)), {
      ok: true,
      value: { name: 's', list: [1, 2.5, 'x'] },
    });
  });

  test('refuses a billion-laughs alias bomb before expanding it', { timeout: 10_000 }, () => {
    expectRefused(parseStrategyYaml(billionLaughs()), /aliases more than 20 times/);
  });

  test('allows a few aliases, within the limit', () => {
    const result = parseStrategyYaml('base: &zone [0, 20, 35]\nlow: *zone\nalso: *zone\n');
    assert.deepEqual(result, { ok: true, value: { base: [0, 20, 35], low: [0, 20, 35], also: [0, 20, 35] } });
    expectRefused(parseStrategyYaml('base: &zone [0, 20, 35]\nlow: *zone\nalso: *zone\n', { maxAliasCount: 1 }), /aliases more than 1 times/);
  });

  test('refuses deep nesting of flow lists', () => {
    const depth = 200;
    expectRefused(parseStrategyYaml(`deep: ${'['.repeat(depth)}1${']'.repeat(depth)}\n`), /nests deeper than 32 levels/);
  });

  test('refuses deep nesting of block maps', () => {
    const lines = Array.from({ length: 40 }, (_, level) => `${'  '.repeat(level)}level${level}:`);
    expectRefused(parseStrategyYaml(`${lines.join('\n')} end\n`), /nests deeper than 32 levels/);
  });

  test('refuses extreme nesting without overflowing the stack', () => {
    const depth = 50_000;
    const result = parseStrategyYaml(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    assert.equal(result.ok, false);
  });

  test('accepts nesting up to the configured depth', () => {
    assert.equal(parseStrategyYaml('a: [[[1]]]\n', { maxDepth: 4 }).ok, true);
    expectRefused(parseStrategyYaml('a: [[[1]]]\n', { maxDepth: 3 }), /deeper than 3 levels/);
  });

  test('refuses a huge string over the size limit', () => {
    const huge = `description: "${'x'.repeat(DEFAULT_STRATEGY_YAML_LIMITS.maxBytes)}"\n`;
    expectRefused(parseStrategyYaml(huge), /over the 256 KiB limit/);
    expectRefused(parseStrategyYaml(new TextEncoder().encode(huge)), /over the 256 KiB limit/);
    expectRefused(parseStrategyYaml('name: a_bit_long\n', { maxBytes: 8 }), /over the 8 bytes limit/);
  });

  for (const [title, document] of [
    ['!!js/function', 'handler: !!js/function "function () { return 1 }"\n'],
    ['a local !foo tag', 'value: !foo bar\n'],
    ['!!binary', 'blob: !!binary aGVsbG8=\n'],
    ['!!set', 'members: !!set {a, b}\n'],
    ['!!timestamp', 'when: !!timestamp 2024-01-01\n'],
    ['!!python/object', 'thing: !!python/object:os.system ls\n'],
  ] as const) {
    test(`refuses the custom tag ${title}`, () => {
      expectRefused(parseStrategyYaml(document), /line 1, column \d+: .*tag/i);
    });
  }

  test('accepts explicit core-schema tags', () => {
    assert.deepEqual(parseStrategyYaml('id: !!str 123\nn: !!int "7"\n'), { ok: true, value: { id: '123', n: 7 } });
  });

  test('reports syntax errors with line and column', () => {
    expectRefused(parseStrategyYaml('name: ok\nlist: [1, 2\nother: 3\n'), /^line \d+, column \d+: /);
  });

  test('refuses duplicate keys with their position', () => {
    expectRefused(parseStrategyYaml('name: a\nname: b\n'), /^line 2, column 1: Map keys must be unique/);
  });

  test('refuses several documents in one file', () => {
    expectRefused(parseStrategyYaml('name: a\n---\nname: b\n'), /document/i);
  });

  test('refuses complex and empty keys, and __proto__', () => {
    expectRefused(parseStrategyYaml('? [a, b]\n: value\n'), /map keys must be plain names/);
    expectRefused(parseStrategyYaml('__proto__: {polluted: true}\n'), /'__proto__' is not allowed/);
  });

  test('refuses invalid UTF-8', () => {
    expectRefused(parseStrategyYaml(new Uint8Array([0x6e, 0x3a, 0x20, 0xff, 0xfe, 0x0a])), /UTF-8/);
  });

  for (const [title, document, pattern] of [
    ['on as a boolean', 'flag: on\n', /'on' as a boolean/],
    ['an unquoted date', 'start_date: 2024-01-01\n', /as a date object/],
    ['an exponent without a decimal point', 'learning_rate: 1e-3\n', /as a string, not a number/],
    ['a leading-zero octal', 'period: 010\n', /octal/],
    ['a sexagesimal number', 'at: 12:30\n', /as a number/],
    ['a merge key', 'base: &b {a: 1}\nderived:\n  <<: *b\n', /merge keys/],
  ] as const) {
    test(`refuses a plain scalar KTRDR's YAML 1.1 reader takes differently: ${title}`, () => {
      expectRefused(parseStrategyYaml(document), pattern);
    });
  }

  test('accepts the same values quoted', () => {
    assert.deepEqual(parseStrategyYaml('flag: "on"\nstart_date: "2024-01-01"\nlearning_rate: 1.0e-3\nat: "12:30"\n'), {
      ok: true,
      value: { flag: 'on', start_date: '2024-01-01', learning_rate: 0.001, at: '12:30' },
    });
  });
});

describe('stringifyStrategy', () => {
  test('quotes strings that YAML 1.1 would read as other types, and writes exponents KTRDR reads as numbers', () => {
    const config = {
      name: 'edge_cases',
      version: '3.0',
      training_data: { date_range: { start: '2024-01-01', end: '2024-06-30' } },
      flags: { mode: 'on', answer: 'no', time: '12:30', octal: '010' },
      training: { learning_rate: 1e-7, huge: 1e21, small: 0.001 },
    };
    const yaml = stringifyStrategy(config);
    assert.match(yaml, /start: "2024-01-01"/);
    assert.match(yaml, /mode: "on"/);
    assert.match(yaml, /version: "3.0"/);
    assert.match(yaml, /learning_rate: 1\.0e-7/);
    assert.match(yaml, /huge: 1\.0e\+21/);
    const parsed = parseStrategyYaml(yaml);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.deepEqual(parsed.value, config);
  });

  test('puts sections in the usual order and keeps unknown ones', () => {
    const yaml = stringifyStrategy({ nn_inputs: [], hypothesis: 'h', name: 'n', indicators: {}, custom: 1 });
    const order = ['name', 'hypothesis', 'indicators', 'nn_inputs', 'custom'].map((key) => yaml.indexOf(`${key}:`));
    assert.deepEqual(
      [...order].sort((left, right) => left - right),
      order,
    );
  });
});
