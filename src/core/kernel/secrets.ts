// The one place secrets are kept out of output: a registry of values never to print, and one mask for them and
// for credentials in URLs.
const secrets = new Set<string>();

/** What a secret is shown as, wherever it is hidden. */
export const MASK = '****';

/** Registers a value that must never be printed. */
export function registerSecret(value: string): void {
  if (value.length >= 8) secrets.add(value);
}

/** Replaces every registered secret, and anything shaped like an Anthropic key, with the mask. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join(MASK);
  return result.replace(/sk-ant-[A-Za-z0-9_-]{8,}/g, `sk-ant-${MASK}`);
}

/** A secret setting for display: its first three and last two characters around the mask, or the mask alone. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return MASK;
  return `${value.slice(0, 3)}…${MASK}${value.slice(-2)}`;
}

/**
 * A URL with its password masked: postgres://agent:****@db/agent. Text that does not parse as a URL has its
 * userinfo masked all the same (the password, or the whole userinfo when it has no password: it may be a token).
 */
export function maskUrlCredentials(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = MASK;
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]*)(:[^@/]*)?@/, (_match, user: string, password: string | undefined) =>
      password === undefined ? `//${MASK}@` : `//${user}:${MASK}@`,
    );
  }
}

/** The `Authorization` value for a URL's userinfo (fetch refuses credentials in the URL), or null without any. */
export function basicAuthOf(url: URL): string | null {
  if (url.username === '' && url.password === '') return null;
  return `Basic ${Buffer.from(`${safeDecode(url.username)}:${safeDecode(url.password)}`).toString('base64')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
