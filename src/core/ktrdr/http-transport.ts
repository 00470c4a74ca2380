import type http from 'node:http';

/**
 * node:http is fetched when a request is made, not imported: an ES import of it builds its namespace, whose lazy
 * WebSocket/EventSource getters load undici (~25 ms of a cron tick's start-up, on every pass, polled or not).
 */
const httpModule = (protocol: string): typeof http => process.getBuiltinModule(protocol === 'https:' ? 'node:https' : 'node:http') as typeof http;

export interface TransportInit {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  signal?: AbortSignal;
  /** A response body larger than this is refused (ResponseTooLargeError) without being read further. */
  maxBodyBytes?: number;
}

/** KTRDR answered with more than the client accepts: a fault of KTRDR's, never read into memory whole. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  readonly status: number;
  readonly limitBytes: number;
  constructor(status: number, limitBytes: number) {
    super(`the response body is larger than ${limitBytes} bytes`);
    this.status = status;
    this.limitBytes = limitBytes;
  }
}

export interface TransportResponse {
  status: number;
  ok: boolean;
  text(): Promise<string>;
  /** Response headers, as fetch's `Headers.get` reads them; the client reads KTRDR's `Date` from them. */
  headers?: { get(name: string): string | null };
}

/** The part of `fetch` the client uses. */
export type KtrdrTransport = (url: string, init: TransportInit) => Promise<TransportResponse>;

/**
 * A request over node:http with fetch's error semantics (a transport failure is `TypeError('fetch failed')` with
 * the socket error as cause; an abort rejects with the signal's reason). The global fetch loads undici on first use,
 * about 25 ms, and a tick is a fresh process every five minutes.
 */
export const nodeHttpTransport: KtrdrTransport = (url, init) =>
  new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const target = new URL(url);
    const client = httpModule(target.protocol);
    const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const limit = init.maxBodyBytes ?? Number.POSITIVE_INFINITY;
    const request = client.request(target, { method: init.method, headers }, (response) => {
      const status = response.statusCode ?? 0;
      const tooLarge = () => {
        settle(() => reject(new ResponseTooLargeError(status, limit)));
        request.destroy();
      };
      if (Number(response.headers['content-length'] ?? 0) > limit) {
        tooLarge();
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limit) tooLarge();
        else chunks.push(chunk);
      });
      response.on('error', (error) => settle(() => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }))));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received = response.headers;
        const headers = {
          get: (name: string): string | null => {
            const value = received[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : (value ?? null);
          },
        };
        settle(() => resolve({ status, ok: status >= 200 && status < 300, text: async () => body, headers }));
      });
    });
    function onAbort() {
      settle(() => reject(signal!.reason));
      request.destroy();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => settle(() => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }))));
    request.end(init.body);
  });
