const secrets = new Set<string>();

/** Registers a value that must never be printed. */
export function registerSecret(value: string): void {
  if (value.length >= 8) secrets.add(value);
}

/** Replaces every registered secret, and anything shaped like an Anthropic key, with a mask. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('****');
  return result.replace(/sk-ant-[A-Za-z0-9_-]{8,}/g, 'sk-ant-****');
}
