#!/usr/bin/env -S node --
// '--' ends Node's own options: without it Node claims a --env-file given to this CLI and exits 9 when the file is missing.
import module from 'node:module';

// Compiled bytecode is cached on disk, so later runs (cron, every 5 minutes) start faster.
module.enableCompileCache?.();

const args = process.argv.slice(2);
const wantsHelp = args.some((arg) => arg === '--help' || arg === '-h' || arg === 'help');

if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // Answered without loading oclif: the same text oclif prints.
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`ktrdr-agent/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (args[0] === 'tick' && !wantsHelp) {
  // cron runs this every five minutes: a bundle of its own, without oclif.
  const { main } = await import('../dist/tick-main.js');
  process.exitCode = await main(args.slice(1));
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
