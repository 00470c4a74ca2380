#!/usr/bin/env -S node --liftoff-only --
// '--' ends Node's own options: without it Node claims a --env-file given to this CLI and exits 9 when the file is missing.
// --liftoff-only: V8's optimizing WASM compiler needs ~500 MiB to compile PGlite's 10 MB module at start-up; its
// baseline compiler runs PGlite's queries about as fast for a process this short, and PGlite's peak falls below 300 MiB.
// It is a V8 flag Node refuses in NODE_OPTIONS, so it lives here; `node bin/run.js` gets it from v8.setFlagsFromString below.
import module from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';

// The same flags for `node bin/run.js` (no shebang; Node refuses V8 flags in NODE_OPTIONS), set before anything
// imports PGlite. Set this way, --liftoff-only alone changed nothing (measured: ~640 MiB, as without it), so the two
// flags it implies on a command line (no tier-up, no dynamic tiering) are set too; together they give the shebang's peak.
v8.setFlagsFromString('--liftoff-only');
v8.setFlagsFromString('--no-wasm-tier-up');
v8.setFlagsFromString('--no-wasm-dynamic-tiering');

// A reader that stops early (`ktrdr-agent --help | head -1`) closes the pipe: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

// 22.3: the KTRDR client takes node:http through process.getBuiltinModule.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 3)) {
  process.stderr.write(
    `Error: ktrdr-agent needs Node.js 22.3 or newer; this is v${process.versions.node}. Install a current Node (https://nodejs.org, or \`nvm install 24\`) and run it again.\n`,
  );
  process.exit(1);
}

const dist = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('tick-main.js', dist)) || !existsSync(new URL('commands/', dist))) {
  process.stderr.write(
    `Error: ktrdr-agent is not built yet (no ${dist.pathname}). Run \`npm ci && npm run build\` in ${new URL('..', import.meta.url).pathname}, then try again.\n`,
  );
  process.exit(1);
}

// Compiled bytecode is cached on disk, so later runs (cron, every 5 minutes) start faster.
module.enableCompileCache?.();

let args = process.argv.slice(2);

// `node bin/run.js tick --env-file X` (no `--` before the script): Node scans the whole command line for its own
// --env-file and reads X before this code runs (a FIFO there hangs it; a missing file exits 9). When it has, refuse:
// the settings must come from one reader. `--agent-env` is the CLI's name, which Node does not own.
if (nodeReadEnvFile()) {
  const message =
    'Node.js itself read the --env-file given to ktrdr-agent (it was started as `node bin/run.js ...` without `--` after node). Use --agent-env FILE, the name Node does not own, or run `ktrdr-agent` / `./bin/run.js`.';
  if (args[0] === 'tick')
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'tick_failed', status: 'error', code: 'node_read_env_file', message, exitCode: 2 })}\n`,
    );
  else process.stderr.write(`Error: ${message}\n`);
  process.exit(2);
}

// `-h` alone is help, and `version` is --version, as in gh and heroku.
if (args.length === 1 && args[0] === '-h') args = ['--help'];
if (args.length === 1 && args[0] === 'version') args = ['--version'];
const wantsHelp = args.some((arg) => arg === '--help' || arg === '-h' || arg === 'help');

if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // Answered without loading oclif: the same text oclif prints.
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`ktrdr-agent/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (args[0] === 'tick' && !wantsHelp) {
  // cron runs this every five minutes: a bundle of its own, without oclif.
  const { main } = await import('../dist/tick-main.js');
  process.exitCode = await main(args.slice(1));
} else {
  const { execute } = await import('@oclif/core');
  // `<command> -h` is `<command> --help`.
  await execute({ dir: import.meta.url, args: args.map((arg) => (arg === '-h' ? '--help' : arg)) });
}

/** True when Node took an --env-file of ours for itself: the raw command line has no `--` before the script. */
function nodeReadEnvFile() {
  const ours = process.argv.slice(2);
  if (!ours.some((arg) => arg === '--env-file' || arg.startsWith('--env-file=') || arg.startsWith('--env-file-if-exists'))) return false;
  let raw;
  try {
    raw = readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  } catch {
    return false; // Not Linux: nothing to read the raw command line from.
  }
  // The script is the element before our own arguments; a `--` anywhere before it ends Node's options.
  const scriptIndex = raw.length - ours.length - 1;
  return scriptIndex > 0 && !raw.slice(1, scriptIndex).includes('--');
}
