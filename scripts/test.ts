// Runs the test files with Node's test runner: unit tests first (fast feedback), then integration and end to end.
//   node scripts/test.ts                 every lane (what `npm test` and CI run, after a build)
//   node scripts/test.ts unit e2e        the named suites
//   node scripts/test.ts --fast          the fast lane: unit and in-process integration tests, no build needed (a
//                                        file that runs the built CLI, through test/support/cli.ts, is left out)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const named = args.filter((arg) => !arg.startsWith('--'));
const suites = named.length > 0 ? named : fast ? ['unit', 'integration'] : ['unit', 'integration', 'e2e'];

/** A test of the built CLI needs `npm run build` first and starts processes: it belongs to the full lane. */
const runsBuiltCli = (file: string): boolean => /support\/cli\.ts'/.test(readFileSync(join(root, file), 'utf8'));

const filesOf = (suite: string): string[] =>
  readdirSync(join(root, 'test', suite), { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.test.ts'))
    .sort()
    .map((file) => join('test', suite, file))
    .filter((file) => !fast || !runsBuiltCli(file));

function run(testArgs: string[], files: string[]): Promise<number> {
  if (files.length === 0) return Promise.resolve(0);
  const child = spawn(process.execPath, ['--test', '--test-timeout=300000', `--test-reporter=${fast ? 'dot' : 'spec'}`, ...testArgs, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test' },
  });
  return new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1)));
}

let codes: number[];
if (fast) {
  // The unit files run in one process (`--test-isolation=none`): a process per file spends more CPU starting Node and
  // loading modules than the unit tests themselves take (about 16 s against 4 s). They hold no server, database or
  // global state between files; the full lane still gives each its own process. The integration files keep theirs
  // (each holds servers, connections and a PGlite heap) and run three at a time beside the unit process: much of a
  // file's time is spent waiting on PostgreSQL (creating and dropping its database), not on the two cores.
  const [unit, integration] = [suites.includes('unit') ? filesOf('unit') : [], suites.includes('integration') ? filesOf('integration') : []];
  const others = suites.filter((suite) => suite !== 'unit' && suite !== 'integration').flatMap(filesOf);
  codes = await Promise.all([run(['--test-isolation=none'], unit), run(['--test-concurrency=3'], [...integration, ...others])]);
} else {
  codes = [await run(['--test-concurrency=2'], suites.flatMap(filesOf))];
}
process.exit(codes.find((code) => code !== 0) ?? 0);
