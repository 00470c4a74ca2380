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

/** Every TypeScript file under src/, by its path in src/, with its text. */
function sourceFiles(): { file: string; text: string }[] {
  return readdirSync(src, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(join(src, file), 'utf8') }));
}

/** Relative imports of every source file that land in src/ (static, dynamic, type-only and re-exports alike). */
function importEdges(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const { file, text } of sourceFiles()) {
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

// The store's rule: every query is built in src/core/db/, and each table is written by one repository, named after
// it (`agent_message_batches` → `repositories/message-batches.ts`). Views and the engine read through repositories
// and read models (`db/read-models/`); a query built anywhere else is a table with a second owner.
const QUERY_BUILDERS = /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(\s*'?([a-z_]*)/g;
/** Raw SQL through kysely's `sql` tag (sql`...`, sql<T>`...`, sql.raw/lit/ref/id/table/join) or its value import. */
const RAW_SQL = /\bsql\s*(?:<[^`;]*?>)?\s*`|\bsql\.(?:raw|lit|ref|id|table|join|val)\(|import\s*\{[^}]*\bsql\b[^}]*\}\s*from\s*'kysely'/g;
const WRITE_BUILDERS = new Set(['insertInto', 'updateTable', 'deleteFrom', 'replaceInto', 'mergeInto']);
/** Raw writes inside db/ name their table too (a data step in SQL text). */
const RAW_WRITES = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(agent_[a-z_]+)/g;

function ownerOf(table: string): string {
  return `${table.replace(/^agent_/, '').replaceAll('_', '-')}.ts`;
}

interface QueryUse {
  file: string;
  kind: string;
  table: string;
}

function queryUses(): QueryUse[] {
  const uses: QueryUse[] = [];
  for (const { file, text } of sourceFiles()) {
    for (const match of text.matchAll(QUERY_BUILDERS)) uses.push({ file, kind: match[1]!, table: match[2] ?? '' });
    for (const match of text.matchAll(RAW_SQL)) uses.push({ file, kind: 'sql', table: '' });
    for (const match of text.matchAll(RAW_WRITES)) uses.push({ file, kind: 'raw write', table: match[1]! });
  }
  return uses;
}

const dbDir = join('core', 'db') + sep;
const repositoriesDir = join('core', 'db', 'repositories') + sep;

test('the query scan sees the queries inside db/ (a broken pattern would pass vacuously)', () => {
  const inDb = queryUses().filter((use) => use.file.startsWith(dbDir));
  for (const kind of ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'sql', 'raw write']) {
    assert.ok(
      inDb.some((use) => use.kind === kind),
      `no ${kind} found under src/core/db/`,
    );
  }
  assert.ok(inDb.length > 150, `only ${inDb.length} queries found under src/core/db/`);
  assert.ok(inDb.some((use) => use.file === join('core', 'db', 'repositories', 'sessions.ts') && use.kind === 'updateTable' && use.table === 'agent_sessions'));
});

test('no query is built outside src/core/db/: views, the engine and the agent read through repositories and read models', () => {
  const violations = queryUses()
    .filter((use) => !use.file.startsWith(dbDir))
    .map((use) => `${join('src', use.file)}: ${use.kind}${use.table ? `('${use.table}')` : ''}`);
  assert.deepEqual(violations, [], `move these queries into a repository or a read model under src/core/db/:\n${violations.join('\n')}`);
});

test('each table is written by one repository, the file named after it', () => {
  const schema = readFileSync(join(src, 'core', 'db', 'database-schema.ts'), 'utf8');
  const database = /export interface Database \{([^}]*)\}/.exec(schema)?.[1] ?? '';
  const tables = [...database.matchAll(/^\s*(agent_[a-z_]+):/gm)].map((match) => match[1]!);
  assert.ok(tables.length >= 15, `only ${tables.length} tables read from database-schema.ts`);
  const repositories = readdirSync(join(src, 'core', 'db', 'repositories'));
  const missing = tables.filter((table) => !repositories.includes(ownerOf(table)));
  assert.deepEqual(missing, [], `each table needs its repository, db/repositories/<table>.ts:\n${missing.join('\n')}`);
  const strays = repositories.filter((file) => !tables.some((table) => ownerOf(table) === file));
  assert.deepEqual(
    strays,
    [],
    `db/repositories/ holds one file per table; reads across tables go in db/read-models/, transactions across tables in db/transactions/:\n${strays.join('\n')}`,
  );
  const violations = queryUses()
    .filter((use) => (WRITE_BUILDERS.has(use.kind) || use.kind === 'raw write') && use.table !== '')
    .filter((use) => use.file !== join('core', 'db', 'repositories', ownerOf(use.table)))
    .filter((use) => !use.file.startsWith(join('core', 'db', 'migrate')))
    .map((use) => `${join('src', use.file)} writes ${use.table} (${use.kind}); its repository is ${join('src', repositoriesDir, ownerOf(use.table))}`);
  assert.deepEqual(violations, [], `a table has one writer:\n${violations.join('\n')}`);
});

/** Source without its comments, so a comment that says "DELETE FROM" or names a write does not count as one. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const WRITES =
  /\.(?:insertInto|updateTable|deleteFrom|mergeInto|transaction)\(|\binTransaction\(|\b(?:INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|TRUNCATE\s+\w+)\b/;

/** Opening the store, migrating it and its locks: how a command gets a store, not a write of the research record. */
const STORE_INFRASTRUCTURE = ['connect.ts', 'migrate.ts', 'data-dir-lock.ts', 'tick-lock.ts'];

/**
 * The functions of `src/core/db/` that write: an INSERT, UPDATE or DELETE (kysely's or raw SQL) or a transaction
 * in their body, or a call to another such function. By name, over the whole store: a name written anywhere counts.
 */
function storeWriteFunctions(): { writes: Set<string>; all: Set<string> } {
  const dir = join(src, 'core', 'db');
  const bodies = new Map<string, string>();
  for (const file of readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !STORE_INFRASTRUCTURE.includes(f))) {
    const text = withoutComments(readFileSync(join(dir, file), 'utf8'));
    const starts = [...text.matchAll(/^(?:export\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type)\s+(\w+)/gm)];
    starts.forEach((start, i) => {
      const body = text.slice(start.index, starts[i + 1]?.index ?? text.length);
      bodies.set(start[1]!, `${bodies.get(start[1]!) ?? ''}${body}`);
    });
  }
  const writes = new Set([...bodies].filter(([, body]) => WRITES.test(body)).map(([name]) => name));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, body] of bodies) {
      if (writes.has(name)) continue;
      if ([...writes].some((write) => new RegExp(`\\b${write}\\(`).test(body))) {
        writes.add(name);
        grew = true;
      }
    }
  }
  return { writes, all: new Set(bodies.keys()) };
}

/**
 * What a file that only reads must not do: import a value from `cli/services/` (actions, unless `services` allows
 * them), from `session/` other than its model (the transaction that ends a session), or a store function that
 * writes; or write itself.
 */
function writeViolations(file: string, text: string, storeWrites: Set<string>, services: 'allowed' | 'refused' = 'refused'): string[] {
  const violations: string[] = [];
  const code = withoutComments(text);
  for (const match of code.matchAll(/\bimport\s+(type\s+)?([^;'"]*?)\s+from\s+'(\.{1,2}\/[^']+)'/g)) {
    if (match[1]) continue; // `import type`: erased, it calls nothing
    const target = relative(src, resolve(dirname(join(src, file)), match[3]!))
      .split(sep)
      .join('/');
    const names = [...(match[2]!.match(/\{([\s\S]*)\}/)?.[1] ?? '').split(',')]
      .map((name) => name.trim())
      .filter((name) => name !== '' && !name.startsWith('type '))
      .map((name) => name.split(/\s+as\s+/)[0]!);
    const namespace = /\*\s+as\s+\w+/.test(match[2]!) || /^\w+/.test(match[2]!.trim());
    const where = `${join('src', file)} imports`;
    if (target.startsWith('core/cli/services/') && services === 'refused' && (names.length > 0 || namespace))
      violations.push(`${where} ${names.join(', ') || '*'} from ${target} (an action)`);
    else if (target.startsWith('core/session/') && target !== 'core/session/model.ts' && (names.length > 0 || namespace))
      violations.push(`${where} ${names.join(', ') || '*'} from ${target} (the transaction that ends a session)`);
    else if (target.startsWith('core/db/')) {
      if (namespace) violations.push(`${where} * from ${target} (name the read functions instead)`);
      for (const name of names.filter((n) => storeWrites.has(n))) violations.push(`${where} ${name} from ${target} (it writes)`);
    }
  }
  if (WRITES.test(code)) violations.push(`${join('src', file)} writes itself (${code.match(WRITES)![0]})`);
  return violations;
}

test('a view only reads: cli/views/ imports no action, no transaction and no store function that writes', () => {
  const { writes, all } = storeWriteFunctions();
  // The scan sees both kinds (a broken pattern would find no write, or call everything one, and pass vacuously).
  for (const write of ['setHypothesisStatus', 'addHypothesis', 'burnLockbox', 'setPaused']) assert.ok(writes.has(write), `${write} not seen as a write`);
  for (const read of ['findHypothesis', 'listLockboxUses', 'readControl']) assert.ok(all.has(read) && !writes.has(read), `${read} not seen as a read`);
  const planted = [
    "import { burnLockbox, listLockboxUses } from '../../db/repositories/lockboxes.ts';",
    "import { cancelSession } from '../services/cancel.ts';",
    "import type { CancelResult } from '../services/cancel.ts';",
    "import { endSession } from '../../session/end.ts';",
    'await db.transaction().execute(() => null);',
  ].join('\n');
  assert.equal(writeViolations(join('core', 'cli', 'views', 'planted.ts'), planted, writes).length, 4, 'the planted writes are not all found');

  const dir = join(src, 'core', 'cli', 'views');
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'));
  assert.ok(files.length > 20, `only ${files.length} view files found`);
  const violations = files.flatMap((file) => {
    const path = join('core', 'cli', 'views', file);
    return writeViolations(path, readFileSync(join(src, path), 'utf8'), writes);
  });
  assert.deepEqual(violations, [], `a view reads and renders; move the write to src/core/cli/services/:\n${violations.join('\n')}`);
});

test('a command parses, calls a service or a view, and prints: it imports no store function that writes, nor the transaction that ends a session', () => {
  const { writes } = storeWriteFunctions();
  const planted = "import { setPaused } from '../core/db/repositories/activity.ts';\nimport { pauseTriggering } from '../core/cli/services/pause.ts';";
  assert.equal(writeViolations(join('commands', 'planted.ts'), planted, writes, 'allowed').length, 1, 'the planted write is not found');
  const dir = join(src, 'commands');
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'));
  assert.ok(files.length > 20, `only ${files.length} commands found`);
  const violations = files.flatMap((file) => writeViolations(join('commands', file), readFileSync(join(dir, file), 'utf8'), writes, 'allowed'));
  assert.deepEqual(violations, [], `move the write into a service under src/core/cli/services/:\n${violations.join('\n')}`);
});

test('no source file is over 600 lines: a file that grows past it holds more than one job', () => {
  const files = readdirSync(src, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'));
  assert.ok(files.length > 200, `only ${files.length} source files found`);
  const long = files
    .map((file) => ({ file, lines: readFileSync(join(src, file), 'utf8').split('\n').length - 1 }))
    .filter(({ lines }) => lines > 600)
    .map(({ file, lines }) => `src/${file}: ${lines} lines`);
  assert.deepEqual(long, [], 'split these by job (CONVENTIONS.md)');
});
