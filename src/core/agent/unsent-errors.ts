/**
 * The one table of errors raised before a request leaves the process: nothing reached the API, so nothing can have
 * been billed and every attempt that ends in one books $0. Anything not in this table that fails after a request
 * may have been written (a reset socket, a timeout, an abort) keeps its reservation as an estimate.
 *
 * Each row names how the error shows itself down the cause chain: a Node/undici error code, or, for fetch's own
 * network errors that carry no code, the exact message undici gives them (`makeNetworkError('bad port')` and
 * `'unknown scheme'` in undici's lib/web/fetch/index.js). `retryable` is false where retrying cannot help: the URL
 * itself is wrong, so every attempt would fail the same way.
 */
export interface UnsentErrorClass {
  label: string;
  codes?: readonly string[];
  codePrefixes?: readonly string[];
  messages?: readonly string[];
  retryable: boolean;
  /** What the operator should look at. */
  hint: string;
}

export const UNSENT_ERROR_CLASSES: readonly UnsentErrorClass[] = [
  { label: 'connection refused', codes: ['ECONNREFUSED'], retryable: true, hint: 'the host answered but nothing listens on that port' },
  { label: 'name resolution failed', codes: ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'], retryable: true, hint: 'the host name does not resolve' },
  { label: 'no route to the host', codes: ['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'], retryable: true, hint: 'the network has no route to the host' },
  { label: 'connect timed out', codes: ['UND_ERR_CONNECT_TIMEOUT'], retryable: true, hint: 'the connection was never established' },
  {
    label: 'TLS handshake failed',
    codes: [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_HAS_EXPIRED',
      'EPROTO',
    ],
    codePrefixes: ['ERR_SSL_', 'ERR_TLS_', 'CERT_'],
    retryable: true,
    hint: 'the TLS handshake failed before any request was written',
  },
  { label: "fetch's bad port", messages: ['bad port'], retryable: false, hint: 'fetch refuses this port (a blocked port such as 9); use another' },
  { label: "fetch's unknown scheme", messages: ['unknown scheme'], retryable: false, hint: 'the URL must start with http:// or https://' },
  { label: 'invalid URL', codes: ['ERR_INVALID_URL'], retryable: false, hint: 'the URL cannot be parsed' },
];

function matches(row: UnsentErrorClass, code: string | undefined, message: string): boolean {
  if (code !== undefined && (row.codes?.includes(code) || row.codePrefixes?.some((prefix) => code.startsWith(prefix)))) return true;
  return row.messages?.includes(message) ?? false;
}

/**
 * The class of an error raised before its request left the process, or null when the request may have been sent.
 * The cause chain is read down to its root; every link that carries a code must be one of the table's (a reset
 * socket under a refused one means the request went out), and at least one link must match.
 */
export function unsentErrorClass(error: unknown): UnsentErrorClass | null {
  let found: UnsentErrorClass | null = null;
  for (let current = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth += 1) {
    const rawCode = (current as { code?: unknown }).code;
    const code = typeof rawCode === 'string' ? rawCode : undefined;
    const row = UNSENT_ERROR_CLASSES.find((candidate) => matches(candidate, code, current instanceof Error ? current.message : ''));
    if (row !== undefined) found ??= row;
    else if (code !== undefined) return null;
  }
  return found;
}
