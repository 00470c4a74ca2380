import type { Hook } from '@oclif/core';

/** An unknown command is a usage error: exit 1, as documented (oclif's default, 2, means "not configured" here). */
const hook: Hook<'command_not_found'> = async function (options) {
  process.stderr.write(`Error: '${options.id}' is not a ktrdr-agent command. See \`ktrdr-agent --help\`.\n`);
  process.exit(1);
};

export default hook;
