import type { Hook } from '@oclif/core';
import { unknownCommandAdvice } from './suggest.ts';

/**
 * An unknown command is a usage error: exit 1, as documented (oclif's default, 2, means "not configured" here).
 * The message suggests the command meant (`stauts` → `status`) or says which arguments a known one does not take.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const ids = options.config.commandIDs.filter((id) => !id.startsWith('autocomplete'));
  process.stderr.write(`Error: ${unknownCommandAdvice(options.id, ids, options.argv ?? [])}\n`);
  process.exit(1);
};

export default hook;
