import { AsyncLocalStorage } from 'node:async_hooks';
import type { AgentConfig } from '../config/load.ts';
import { noopTracer, type Tracer } from '../kernel/tracer.ts';
import { KtrdrClient } from './client.ts';

/** The KTRDR client the settings describe; with a tracer, one span per HTTP attempt. */
export function createKtrdrClient(config: AgentConfig, tracer: Tracer, now?: () => Date): KtrdrClient {
  const options = {
    // The pass's clock: KTRDR's clock offset is measured against the clock the pass stamps sessions with.
    ...(now ? { now: () => now().getTime() } : {}),
    baseUrl: config.settings.KTRDR_API_URL,
    timeoutMs: config.settings.KTRDR_TIMEOUT_SECONDS * 1000,
    maxResponseBytes: Math.round(config.settings.KTRDR_MAX_RESPONSE_MIB * 1024 * 1024),
    retry: { maxAttempts: config.settings.AGENT_RETRY_MAX_ATTEMPTS, backoffBaseSeconds: config.settings.AGENT_RETRY_BACKOFF_BASE },
    headers: () => tracer.injectHeaders(),
  };
  if (tracer === noopTracer) return new KtrdrClient(options);
  // One span per HTTP attempt, around the request itself: KTRDR's spans join ours through its traceparent.
  const attemptStatus = new AsyncLocalStorage<{ status: number | null }>();
  return new KtrdrClient({
    ...options,
    around: (info, send) =>
      tracer.span('ktrdr_request', { 'http.request.method': info.method, 'http.route': info.route, 'ktrdr.attempt': info.attempt }, (span) => {
        const holder = { status: null as number | null };
        return attemptStatus.run(holder, async () => {
          try {
            return await send();
          } finally {
            if (holder.status !== null) span.setAttributes({ 'http.response.status_code': holder.status });
          }
        });
      }),
    onRequest: (info) => {
      const holder = attemptStatus.getStore();
      if (holder) holder.status = info.status;
    },
  });
}
