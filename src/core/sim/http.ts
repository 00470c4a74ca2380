/**
 * The simulator's HTTP edge: parses each request, answers the control routes, records and delays API requests,
 * draws the per-request faults (a 500 before anything is done, an answer dropped after it is), and sends the reply
 * with the `x-ktrdr-simulator` header that says what answered.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { API_PREFIX, detail, globalError, SIMULATOR_LABEL, validationError } from './reply.ts';
import type { Reply } from './reply.ts';
import { routeApi } from './router.ts';
import { controlRoute } from './routes/control.ts';
import type { SimContext } from './state.ts';

export interface SimHttpServer {
  port: number;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(ctx: SimContext, response: ServerResponse, reply: Reply): void {
  // The Date header reads the simulator's clock (offset included), as a real server's reads its own.
  const headers: Record<string, string> = { 'x-ktrdr-simulator': SIMULATOR_LABEL, date: new Date(ctx.now()).toUTCString(), ...(reply.headers ?? {}) };
  if (reply.body === null) {
    response.writeHead(reply.status, headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function handle(ctx: SimContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator');
  const method = request.method ?? 'GET';
  const text = await readBody(request);
  let body: unknown = undefined;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      send(ctx, response, validationError([{ field: 'body', message: 'JSON decode error', type: 'json_invalid' }]));
      return;
    }
  }
  const control = controlRoute(ctx, method, url.pathname, body);
  if (control) {
    send(ctx, response, control);
    return;
  }
  if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
    send(ctx, response, detail(404, 'Not Found'));
    return;
  }
  const path = url.pathname.slice(API_PREFIX.length);
  const requests = ctx.state.requests;
  requests.push({ method, path });
  // Kept for tests; bounded so that a long `sim serve` does not grow without end.
  if (requests.length > 10_000) requests.splice(0, requests.length - 10_000);
  const faults = ctx.faults;
  if (faults.latencyMs > 0) await delay(faults.latencyMs);
  if (ctx.held) await ctx.held;
  // Both draws happen on every request so that one fault setting does not shift the other's sequence.
  const failRequest = ctx.requestRandom.chance(faults.errorRate);
  const dropAnswer = ctx.requestRandom.chance(faults.dropRate);
  if (failRequest) {
    send(
      ctx,
      response,
      globalError(500, 'INTERNAL_SERVER_ERROR', 'An unexpected error occurred', { type: 'SimulatedServerError', simulator: SIMULATOR_LABEL }),
    );
    return;
  }
  const reply = await routeApi(ctx, method, path, url.searchParams, body);
  if (dropAnswer) {
    request.socket.destroy();
    return;
  }
  send(ctx, response, reply);
}

export async function listen(ctx: SimContext, host: string, port: number): Promise<SimHttpServer> {
  const server = createServer((request, response) => {
    handle(ctx, request, response).catch((error: unknown) => {
      if (response.headersSent) return;
      const message = error instanceof Error ? error.message : String(error);
      send(ctx, response, globalError(500, 'INTERNAL_SERVER_ERROR', `Simulator error: ${message}`, { simulator: SIMULATOR_LABEL }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
