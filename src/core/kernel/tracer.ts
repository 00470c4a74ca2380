// The tracing port every layer may call; telemetry/tracing.ts implements it with OpenTelemetry when configured.
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface SpanHandle {
  setAttributes(attrs: SpanAttributes): void;
  recordError(err: unknown): void;
}

export interface Tracer {
  /** Runs `fn` inside a span that is the child of the span active at the call, and ends it when `fn` settles. */
  span<T>(name: string, attrs: SpanAttributes, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** W3C trace-context headers of the active span, for outgoing KTRDR requests; `{}` outside any span. */
  injectHeaders(): Record<string, string>;
}

const noopSpanHandle: SpanHandle = {
  setAttributes() {},
  recordError() {},
};

export const noopTracer: Tracer = {
  span: (_name, _attrs, fn) => fn(noopSpanHandle),
  injectHeaders: () => ({}),
};
