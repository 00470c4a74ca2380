import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string } | undefined;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  serviceName: string | undefined;
}

interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) result[key] = value.stringValue;
    else if (value.intValue !== undefined) result[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) result[key] = value.doubleValue;
    else if (value.boolValue !== undefined) result[key] = value.boolValue;
  }
  return result;
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

/** A minimal OTLP/HTTP JSON trace receiver on loopback: what a collector (Jaeger, an OTel collector) receives. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes: string[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      this.contentTypes.push(request.headers['content-type'] ?? '');
      const payload = JSON.parse(body) as {
        resourceSpans: {
          resource?: { attributes?: OtlpKeyValue[] };
          scopeSpans: {
            spans: {
              name: string;
              traceId: string;
              spanId: string;
              parentSpanId?: string;
              attributes?: OtlpKeyValue[];
              status?: { code?: number; message?: string };
              events?: { name: string; attributes?: OtlpKeyValue[] }[];
            }[];
          }[];
        }[];
      };
      for (const resourceSpan of payload.resourceSpans) {
        const serviceName = attributesOf(resourceSpan.resource?.attributes)['service.name'];
        for (const scopeSpan of resourceSpan.scopeSpans) {
          for (const span of scopeSpan.spans) {
            this.spans.push({
              name: span.name,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              attributes: attributesOf(span.attributes),
              status: span.status,
              events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
              serviceName: typeof serviceName === 'string' ? serviceName : undefined,
            });
          }
        }
      }
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The exporter flushes before a tick exits; the wait only covers the receiver's own request handling. */
  async waitFor(name: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.spans.some((span) => span.name === name) && Date.now() < deadline) await sleep(20);
  }

  first(name: string): ReceivedSpan {
    const match = this.spans.find((span) => span.name === name);
    assert.ok(match, `expected a '${name}' span, got: ${this.spans.map((s) => s.name).join(', ')}`);
    return match;
  }

  /** The one span with this name. */
  span(name: string): ReceivedSpan {
    const matches = this.spans.filter((span) => span.name === name);
    assert.equal(matches.length, 1, `expected one '${name}' span, got ${matches.length}: ${this.spans.map((s) => s.name).join(', ')}`);
    return matches[0] as ReceivedSpan;
  }
}
