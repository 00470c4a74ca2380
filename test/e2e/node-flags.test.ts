import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { binRun, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

const work = tempDir('ktrdr-agent-node-flags-');
after(() => work.remove());

// V8's optimizing WASM compiler takes ~500 MiB compiling PGlite at start-up; run as cron runs it (the installed
// bin, through its shebang), the CLI's Node compiles WASM with the baseline compiler only.
test('the CLI run through its shebang gets --liftoff-only, and arguments after it still reach the CLI', async () => {
  const argvFile = join(work.path, 'exec-argv.json');
  const hook = join(work.path, 'record-exec-argv.mjs');
  writeFileSync(hook, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.execArgv));\n`);
  const { stdout } = await promisify(execFile)(binRun, ['--version'], {
    cwd: repoRoot,
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: work.path, NODE_OPTIONS: `--import ${hook}` },
  });
  assert.match(stdout, /^ktrdr-agent\/\d+\.\d+\.\d+ /);
  assert.ok((JSON.parse(readFileSync(argvFile, 'utf8')) as string[]).includes('--liftoff-only'));
});
