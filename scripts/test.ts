// Runs the test files with Node's test runner: unit tests first (fast feedback), then integration and end to end.
//   node scripts/test.ts                 every lane (what `npm test` and CI run, after a build)
//   node scripts/test.ts unit e2e        the named suites
//   node scripts/test.ts --fast          the fast lane: unit and in-process integration tests, no build needed (a
//                                        file that runs the built CLI, through test/support/cli.ts, is left out)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const named = args.filter((arg) => !arg.startsWith('--'));
// The fast lane starts the integration files (seconds each) and fills the gaps they leave with the unit files (a
// fraction of a second each), so two long files do not run last, one beside an idle slot.
const suites = named.length > 0 ? named : fast ? ['integration', 'unit'] : ['unit', 'integration', 'e2e'];

/** A test of the built CLI needs `npm run build` first and starts processes: it belongs to the full lane. */
const runsBuiltCli = (file: string): boolean => /support\/cli\.ts'/.test(readFileSync(join(root, file), 'utf8'));

const files = suites
  .flatMap((suite) =>
    readdirSync(join(root, 'test', suite), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.test.ts'))
      .sort()
      .map((file) => join('test', suite, file)),
  )
  .filter((file) => !fast || !runsBuiltCli(file));
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', `--test-reporter=${fast ? 'dot' : 'spec'}`, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(result.status ?? 1);
