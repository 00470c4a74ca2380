import { editDistance } from '../kernel/edit-distance.ts';

/** The candidate closest to `word`, if it is close enough to be what was meant (a third of its length, at least 1). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/**
 * What to say about a command line oclif could not match. With a space as topic separator, `status extra` reaches
 * here as `status:extra`: a known command with an argument it does not take, not an unknown command.
 */
export function unknownCommandAdvice(id: string, commandIds: readonly string[], argv: readonly string[] = []): string {
  const words = id.split(':');
  const spaced = (commandId: string) => commandId.replaceAll(':', ' ');
  for (let cut = words.length - 1; cut >= 1; cut -= 1) {
    const command = words.slice(0, cut).join(':');
    if (!commandIds.includes(command)) continue;
    const extra = [...words.slice(cut), ...argv.filter((arg) => !arg.startsWith('-'))];
    // `budget 5` means `budget set 5`, the one subcommand that takes an amount.
    if (command === 'budget' && /^\d+(\.\d+)?$/.test(extra[0] ?? '')) {
      return `\`budget\` takes no arguments. Did you mean \`ktrdr-agent budget set ${extra[0]}\`?`;
    }
    const subcommand = closest(
      extra[0] ?? '',
      commandIds.filter((c) => c.startsWith(`${command}:`)).map((c) => c.slice(command.length + 1)),
    );
    const rest = extra
      .slice(1)
      .map((word) => ` ${word}`)
      .join('');
    if (subcommand)
      return `'${spaced(command)} ${extra[0]}' is not a ktrdr-agent command. Did you mean \`ktrdr-agent ${spaced(command)} ${subcommand}${rest}\`?`;
    return `\`${spaced(command)}\` takes no arguments (got ${extra.map((word) => `'${word}'`).join(' ')}). See \`ktrdr-agent ${spaced(command)} --help\`.`;
  }
  const suggestion = closest(spaced(id), commandIds.map(spaced));
  return suggestion
    ? `'${spaced(id)}' is not a ktrdr-agent command. Did you mean \`ktrdr-agent ${suggestion}\`?`
    : `'${spaced(id)}' is not a ktrdr-agent command. See \`ktrdr-agent --help\`.`;
}

/** `Nonexistent flag: --jsn` becomes `Unknown flag --jsn. Did you mean --json?`; other messages pass unchanged. */
export function unknownFlagAdvice(message: string, command: string, flagNames: readonly string[]): string {
  const match = /Nonexistent flags?: (-{1,2}[\w-]+)/.exec(message);
  if (!match) return message;
  const flag = match[1]!;
  const suggestion = closest(flag.replace(/^-+/, ''), flagNames);
  return `Unknown flag ${flag}.${suggestion ? ` Did you mean --${suggestion}?` : ''} See \`ktrdr-agent ${command} --help\`.`;
}
