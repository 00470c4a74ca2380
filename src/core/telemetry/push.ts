import type { Registry } from 'prom-client';
import { basicAuthOf, maskUrlCredentials } from '../kernel/secrets.ts';

export interface PushMetricsOptions {
  /** Pushgateway base URL, e.g. http://pushgateway:9091 (userinfo becomes Basic auth). */
  url: string;
  job: string;
  /** Grouping key, normally the hostname; each group holds whole-database totals (see deploy/README.md). */
  instance: string;
  registry: Registry;
  timeoutMs: number;
}

export type PushMetricsResult = { ok: true } | { ok: false; error: string };

const MAX_ERROR_BODY_CHARS = 300;

/**
 * Replaces the Pushgateway group job/instance with the registry's metrics (HTTP PUT). Never throws and never
 * outlives `timeoutMs`: a failed push is reported to the caller, it must not fail the tick.
 */
export async function pushMetrics(options: PushMetricsOptions): Promise<PushMetricsResult> {
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    return { ok: false, error: `metrics push URL '${maskUrlCredentials(options.url)}' is not a valid URL` };
  }
  const headers: Record<string, string> = { 'Content-Type': options.registry.contentType };
  // fetch refuses URLs with credentials, so move them to a header (and out of every message below).
  const authorization = basicAuthOf(target);
  if (authorization) {
    headers['Authorization'] = authorization;
    target.username = '';
    target.password = '';
  }
  const basePath = target.pathname.replace(/\/+$/, '');
  target.pathname = `${basePath}/metrics/${groupingKeyPath('job', options.job)}/${groupingKeyPath('instance', options.instance)}`;
  const where = target.origin + target.pathname;

  try {
    const body = await options.registry.metrics();
    const response = await fetch(target, {
      method: 'PUT',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (response.ok) {
      await response.body?.cancel();
      return { ok: true };
    }
    const text = (await response.text()).trim().slice(0, MAX_ERROR_BODY_CHARS);
    return { ok: false, error: `metrics push to ${where} failed: HTTP ${response.status}${text ? `: ${text}` : ''}` };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return { ok: false, error: `metrics push to ${where} timed out after ${options.timeoutMs} ms` };
    }
    return { ok: false, error: `metrics push to ${where} failed: ${describeFetchError(err)}` };
  }
}

/**
 * `name/value` for the grouping-key URL. The Pushgateway cannot take '/' or an empty string as a plain value, so
 * those go base64url-encoded under the `name@base64` form it defines for that.
 */
export function groupingKeyPath(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/')) return `${name}@base64/${Buffer.from(value).toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici puts the useful part (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined ? cause.message : `${code} (${cause.message})`;
  }
  return err.message;
}
