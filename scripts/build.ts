// Bundles each command into dist/commands (shared code in dist/chunks) and writes oclif.manifest.json.
// One bundle per command keeps start-up fast: kysely alone is 280 ES modules when loaded unbundled.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const withManifest = !process.argv.includes('--no-manifest');

function listCommands(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return listCommands(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

// Commands keep their paths under dist/commands (oclif finds them there); the tick fast path (bin/run.js) and the
// oclif hook get fixed names of their own.
const entryPoints = [
  ...listCommands(join(root, 'src/commands')).map((file) => ({ in: file, out: relative(join(root, 'src'), file).replace(/\.ts$/, '') })),
  { in: join(root, 'src/core/cli/tick-main.ts'), out: 'tick-main' },
  { in: join(root, 'src/core/cli/command-not-found-hook.ts'), out: 'hooks/command-not-found' },
];

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'oclif.manifest.json'), { force: true });

await build({
  entryPoints,
  outdir: join(root, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // Packages that load files next to themselves (WASM, native bindings) or that oclif must share stay external.
  external: [
    '@oclif/core',
    '@oclif/plugin-help',
    '@oclif/plugin-autocomplete',
    '@electric-sql/pglite',
    'kysely-pglite-dialect',
    'pg-native',
    'ink',
    'react',
    'ink-testing-library',
    '@anthropic-ai/sdk',
    '@opentelemetry/*',
  ],
  banner: {
    js: "import { createRequire as __agentCreateRequire } from 'node:module'; const require = __agentCreateRequire(import.meta.url);",
  },
});

// The empty database a first open copies (see pgdataTemplate in src/core/db/connect.ts). Making one runs PGlite's
// initdb (seconds), so it is kept in .cache/ under the PGlite version and the script that made it.
const pgliteVersion = JSON.parse(readFileSync(join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version as string;
const templateScript = join(root, 'scripts/pgdata-template.ts');
const templateKey = createHash('sha256').update(pgliteVersion).update(readFileSync(templateScript)).digest('hex').slice(0, 16);
const cachedTemplate = join(root, '.cache', `pgdata-template-${templateKey}`);
if (!existsSync(join(cachedTemplate, 'PG_VERSION'))) {
  const partial = `${cachedTemplate}.${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(dirname(partial), { recursive: true });
  execFileSync(process.execPath, ['--liftoff-only', templateScript, partial], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(cachedTemplate, { recursive: true, force: true });
  renameSync(partial, cachedTemplate);
}
cpSync(cachedTemplate, join(root, 'dist/pgdata-template'), { recursive: true });

if (withManifest) {
  execFileSync(join(root, 'node_modules/.bin/oclif'), ['manifest'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
