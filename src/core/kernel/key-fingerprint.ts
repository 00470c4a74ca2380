import { createHash } from 'node:crypto';

/**
 * A short, one-way fingerprint of an API key: enough to notice that the configured key changed, never enough to
 * recover it (12 hex digits of its SHA-256).
 */
export function keyFingerprint(key: string | undefined | null): string | null {
  if (!key) return null;
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 12)}`;
}
