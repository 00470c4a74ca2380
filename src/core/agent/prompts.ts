import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let promptsDir: string | null = null;

/** prompts/ sits at the package root, whether this runs from src/ or from the bundle in dist/. */
function findPromptsDir(): string {
  if (promptsDir) return promptsDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'prompts', 'system.md'))) {
      promptsDir = join(dir, 'prompts');
      return promptsDir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('prompts/ not found next to the installed package');
    dir = parent;
  }
}

/** Fills `{{name}}` placeholders; an unknown placeholder is an error, so a renamed variable cannot slip through. */
export function renderPrompt(name: string, values: Record<string, string>): string {
  const template = readFileSync(join(findPromptsDir(), `${name}.md`), 'utf8');
  return template.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    if (!(key in values)) throw new Error(`prompt ${name}.md uses {{${key}}}, which was not provided`);
    return values[key]!;
  });
}
