// Every import points down the layer order written in CONVENTIONS.md: a module may import its own domain or any
// layer below its own, never one above, and never a sibling of its own layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Top to bottom; domains in one row are siblings and import none of each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['commands'],
  ['cli'],
  ['engine'],
  ['agent'],
  ['telemetry'],
  ['sim'],
  ['session'],
  ['ktrdr', 'strategy', 'db'],
  ['config'],
  ['research', 'budget', 'session-model'],
  ['kernel'],
];

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function layerOf(domain: string): number {
  return LAYERS.findIndex((row) => row.includes(domain));
}

/**
 * `commands/x.ts` is in `commands`; `core/<domain>/...` is in `<domain>`. The session's home has two layers: its
 * model (`session/model.ts`, pure, read by the store and the settings) sits low; the transaction that ends a session
 * (the rest of `session/`) sits above the store it writes.
 */
function domainOf(pathInSrc: string): string {
  const parts = pathInSrc.split(sep);
  if (parts[0] === 'core' && parts[1] === 'session' && parts[2] === 'model.ts') return 'session-model';
  return parts[0] === 'core' ? parts[1]! : parts[0]!;
}

interface ImportEdge {
  file: string;
  specifier: string;
  from: string;
  to: string;
}

/** Relative imports of every source file that land in src/ (static, dynamic, type-only and re-exports alike). */
function importEdges(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const files = readdirSync(src, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'));
  for (const file of files) {
    const text = readFileSync(join(src, file), 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(src, resolve(dirname(join(src, file)), match[1]!));
      if (target.startsWith('..')) continue; // migrations/ and prompts/ are outside the layers
      edges.push({ file, specifier: match[1]!, from: domainOf(file), to: domainOf(target) });
    }
  }
  return edges;
}

test('the layer table names every domain under src/core, each once', () => {
  const domains = readdirSync(join(src, 'core'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const named = LAYERS.flat().filter((domain) => domain !== 'session-model');
  assert.deepEqual(new Set(named).size, named.length, 'a domain is named twice in LAYERS');
  const missing = domains.filter((domain) => !named.includes(domain));
  assert.deepEqual(missing, [], `place these domains in LAYERS (and in CONVENTIONS.md): ${missing.join(', ')}`);
});

test('the import scan sees the imports (a broken pattern would pass vacuously)', () => {
  const edges = importEdges();
  assert.ok(edges.length > 400, `only ${edges.length} imports found`);
  assert.ok(edges.some((edge) => edge.file === join('commands', 'tick.ts') && edge.to === 'cli'));
  assert.ok(
    edges.some((edge) => edge.from === 'db' && edge.to === 'session-model'),
    'type-only imports are scanned',
  );
});

test('no import goes up a layer or across to a sibling', () => {
  const violations = importEdges()
    .filter((edge) => edge.from !== edge.to && layerOf(edge.to) <= layerOf(edge.from))
    .map((edge) => {
      const direction = layerOf(edge.to) === layerOf(edge.from) ? 'a sibling' : 'a higher layer';
      return `${join('src', edge.file)} imports '${edge.specifier}': ${edge.from} (layer ${layerOf(edge.from)}) → ${edge.to} (layer ${layerOf(edge.to)}), ${direction}`;
    });
  assert.deepEqual(violations, [], `imports against the layer order (CONVENTIONS.md):\n${violations.join('\n')}`);
});

test('a migration imports only kysely (and node built-ins), never live code: it keeps meaning what it meant', () => {
  const dir = fileURLToPath(new URL('../../migrations/', import.meta.url));
  const files = readdirSync(dir).filter((file) => file.endsWith('.ts') && file !== 'index.ts');
  assert.ok(files.length >= 10, `only ${files.length} migrations found`);
  const violations: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/g)) {
      const specifier = match[1]!;
      const allowed = specifier === 'kysely' || specifier.startsWith('kysely/') || specifier.startsWith('node:');
      if (!allowed) violations.push(`migrations/${file} imports '${specifier}'`);
    }
  }
  assert.deepEqual(violations, [], `a migration must carry its own SQL:\n${violations.join('\n')}`);
});
