import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import { redactSecrets, registerSecret } from '../kernel/secrets.ts';
import type { Context, Span } from '@opentelemetry/api';
import type { SpanAttributes, SpanHandle, Tracer } from '../kernel/tracer.ts';

export interface Tracing {
  tracer: Tracer;
  /** Flushes buffered spans and stops exporting; resolves within `timeoutMs` even if the collector hangs. */
  shutdown(timeoutMs: number): Promise<void>;
}

export type TracingEnv = Readonly<Record<string, string | undefined>>;

export interface TracingOptions {
  serviceVersion?: string;
}

const SECRET_ENV_NAMES = ['ANTHROPIC_API_KEY'];
const DEFAULT_SERVICE_NAME = 'ktrdr-agent';
const TRACES_PATH = 'v1/traces';
// Half the spec's 10 s: an export still retrying after shutdown() gave up keeps a tick process alive this long.
const DEFAULT_EXPORT_TIMEOUT_MS = 5000;

export interface OtlpTracesConfig {
  url: string;
  headers: Record<string, string>;
  timeoutMillis: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
}

/** Reads the standard OTEL_* variables; null when tracing is off (no endpoint, or disabled). */
export function otlpTracesConfigFromEnv(env: TracingEnv): OtlpTracesConfig | null {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return null;
  if (env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() === 'none') return null;
  const tracesEndpoint = nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  const baseEndpoint = nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  let url: string;
  if (tracesEndpoint !== undefined) {
    url = tracesEndpoint;
  } else if (baseEndpoint !== undefined) {
    url = baseEndpoint.endsWith('/') ? baseEndpoint + TRACES_PATH : `${baseEndpoint}/${TRACES_PATH}`;
  } else {
    return null;
  }
  const protocol = URL.parse(url)?.protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    const variable = `OTEL_EXPORTER_OTLP_${tracesEndpoint !== undefined ? 'TRACES_' : ''}ENDPOINT`;
    throw new Error(`${variable} is not a valid http(s) URL: set it to e.g. http://localhost:4318`);
  }
  const resourceAttributes = parseKeyValueList(env['OTEL_RESOURCE_ATTRIBUTES']);
  const timeout = nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT']) ?? nonEmpty(env['OTEL_EXPORTER_OTLP_TIMEOUT']);
  const timeoutMillis = timeout === undefined ? DEFAULT_EXPORT_TIMEOUT_MS : Number(timeout);
  if (!(Number.isFinite(timeoutMillis) && timeoutMillis > 0)) {
    throw new Error(`OTEL_EXPORTER_OTLP_TIMEOUT must be a positive number of milliseconds, got '${timeout}'`);
  }
  return {
    url,
    headers: {
      ...parseKeyValueList(env['OTEL_EXPORTER_OTLP_HEADERS']),
      ...parseKeyValueList(env['OTEL_EXPORTER_OTLP_TRACES_HEADERS']),
    },
    timeoutMillis,
    serviceName: nonEmpty(env['OTEL_SERVICE_NAME']) ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME,
    resourceAttributes,
  };
}

/**
 * Starts OTLP/HTTP (JSON) span export when an OTLP endpoint is configured, else returns null; throws only on an
 * invalid OTEL_* value. OpenTelemetry is imported only here, lazily, so a tick without tracing never loads it.
 */
export async function startTracing(env: TracingEnv, options: TracingOptions = {}): Promise<Tracing | null> {
  const config = otlpTracesConfigFromEnv(env);
  if (config === null) return null;

  const [api, sdk, exporterModule, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);

  // The one secret registry: a key that only an env file holds was registered when the configuration was loaded.
  for (const name of SECRET_ENV_NAMES) if (env[name]) registerSecret(env[name]);
  const redact = redactSecrets;
  const resource = resources.defaultResource().merge(
    resources.resourceFromAttributes({
      'host.name': hostname(),
      ...config.resourceAttributes,
      'service.name': config.serviceName,
      ...(options.serviceVersion === undefined ? {} : { 'service.version': options.serviceVersion }),
    }),
  );
  const exporter = new exporterModule.OTLPTraceExporter({
    url: config.url,
    headers: config.headers,
    timeoutMillis: config.timeoutMillis,
  });
  const provider = new sdk.TracerProvider({
    resource,
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  const otelTracer = provider.getTracer('ktrdr-agent', options.serviceVersion);
  // Our own context storage instead of a global context manager: nothing global is registered, and
  // concurrent spans (Promise.all) each keep their own parent.
  const activeContext = new AsyncLocalStorage<Context>();

  function spanHandle(span: Span): { handle: SpanHandle; errorRecorded: () => boolean } {
    let recorded = false;
    const handle: SpanHandle = {
      setAttributes(attrs) {
        span.setAttributes(cleanAttributes(attrs, redact));
      },
      recordError(err) {
        recorded = true;
        const error = err instanceof Error ? err : new Error(String(err));
        const message = redact(error.message);
        span.recordException({
          name: error.name,
          message,
          ...(error.stack === undefined ? {} : { stack: redact(error.stack) }),
        });
        span.setStatus({ code: api.SpanStatusCode.ERROR, message });
      },
    };
    return { handle, errorRecorded: () => recorded };
  }

  const tracer: Tracer = {
    async span(name, attrs, fn) {
      const parent = activeContext.getStore() ?? api.ROOT_CONTEXT;
      const span = otelTracer.startSpan(name, { attributes: cleanAttributes(attrs, redact) }, parent);
      const { handle, errorRecorded } = spanHandle(span);
      try {
        return await activeContext.run(api.trace.setSpan(parent, span), () => fn(handle));
      } catch (err) {
        if (!errorRecorded()) handle.recordError(err);
        throw err;
      } finally {
        span.end();
      }
    },
    injectHeaders() {
      const context = activeContext.getStore();
      const spanContext = context === undefined ? undefined : api.trace.getSpanContext(context);
      if (spanContext === undefined || !api.trace.isSpanContextValid(spanContext)) return {};
      const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
      const headers: Record<string, string> = {
        traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
      };
      const traceState = spanContext.traceState?.serialize();
      if (traceState) headers['tracestate'] = traceState;
      return headers;
    },
  };

  let shuttingDown: Promise<void> | undefined;
  return {
    tracer,
    shutdown(timeoutMs) {
      shuttingDown ??= provider.shutdown().catch(() => undefined);
      return raceWithTimeout(shuttingDown, timeoutMs);
    },
  };
}

async function raceWithTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, timeoutMs));
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function cleanAttributes(attrs: SpanAttributes, redact: (text: string) => string): Record<string, string | number | boolean> {
  const clean: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    clean[key] = typeof value === 'string' ? redact(value) : value;
  }
  return clean;
}

/** `k1=v1,k2=v2` with percent-encoded values, the format of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES. */
function parseKeyValueList(raw: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (raw === undefined) return result;
  for (const pair of raw.split(',')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) continue;
    const key = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    if (key === '') continue;
    try {
      result[key] = decodeURIComponent(value);
    } catch {
      result[key] = value;
    }
  }
  return result;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
