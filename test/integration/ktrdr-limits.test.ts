import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { toolsFor, type ToolContext } from '../../src/core/agent/tools.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { createSession } from '../../src/core/db/repositories/sessions.ts';
import { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { KtrdrError } from '../../src/core/ktrdr/errors.ts';
import { StrategyStore } from '../../src/core/strategy/store.ts';
import { openTestStore, tempDir } from '../support/databases.ts';

type Handler = (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void;

/** A stand-in KTRDR whose behaviour each test sets; it counts the requests it receives. */
function misbehavingKtrdr(): { start(): Promise<string>; stop(): Promise<void>; handle(handler: Handler): void; readonly requests: number } {
  let handler: Handler = (_req, res) => res.end('{}');
  const state = { requests: 0 };
  let server: Server;
  return {
    get requests() {
      return state.requests;
    },
    handle(next) {
      handler = next;
      state.requests = 0;
    },
    start: () =>
      new Promise((resolve) => {
        server = createServer((req, res) => {
          state.requests += 1;
          handler(req, res);
        });
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`));
      }),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<KtrdrError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KtrdrError, String(error));
    return error;
  }
  assert.fail('expected a KtrdrError');
}

describe('KTRDR answers are bounded and requests end with their invocation', () => {
  const ktrdr = misbehavingKtrdr();
  let url: string;
  before(async () => {
    url = await ktrdr.start();
  });
  after(() => ktrdr.stop());

  test('a streamed body over the bound is refused as a KTRDR fault, without reading it all', async () => {
    let sent = 0;
    ktrdr.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      // 100 MiB unless the client hangs up first.
      const pump = () => {
        while (sent < 100 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (sent = Number.POSITIVE_INFINITY));
      pump();
    });
    const client = new KtrdrClient({ baseUrl: url, maxResponseBytes: 1024 * 1024, retry: { maxAttempts: 3, backoffBaseSeconds: 0 } });
    const error = await rejection(client.getOperation('op_1'));
    assert.equal(error.code, 'RESPONSE_TOO_LARGE');
    assert.equal(error.kind, 'invalid_response');
    assert.match(error.message, /larger than 1048576 bytes.*KTRDR_MAX_RESPONSE_MIB/);
    assert.equal(ktrdr.requests, 1, 'a refused body is not fetched again');
  });

  test('a declared Content-Length over the bound is refused before the body is read', async () => {
    ktrdr.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(600 * 1024 * 1024) });
      res.write('{');
    });
    const client = new KtrdrClient({ baseUrl: url, maxResponseBytes: 1024 * 1024 });
    assert.equal((await rejection(client.getOperation('op_1'))).code, 'RESPONSE_TOO_LARGE');
  });

  test('an aborted signal ends a request in flight, and no retry follows', async () => {
    ktrdr.handle(() => {});
    const controller = new AbortController();
    const client = new KtrdrClient({ baseUrl: url, timeoutMs: 600_000, retry: { maxAttempts: 5, backoffBaseSeconds: 0 } }).withSignal(controller.signal);
    const pending = client.getOperation('op_1');
    setTimeout(() => controller.abort(new Error('invocation time limit')), 100);
    const error = await rejection(pending);
    assert.equal(error.code, 'ABORTED');
    assert.equal(ktrdr.requests, 1);
  });

  test('an aborted signal ends the wait before a retry', async () => {
    ktrdr.handle((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"detail":"busy"}');
    });
    const controller = new AbortController();
    // Without the abort the backoff would wait ten minutes.
    const client = new KtrdrClient({ baseUrl: url, retry: { maxAttempts: 5, backoffBaseSeconds: 600 } }).withSignal(controller.signal);
    const pending = client.getOperation('op_1');
    setTimeout(() => controller.abort(new Error('invocation time limit')), 200);
    assert.equal((await rejection(pending)).code, 'ABORTED');
    assert.equal(ktrdr.requests, 1);
  });

  test("a tool's KTRDR request ends with the invocation's signal", async () => {
    ktrdr.handle(() => {});
    const harness = await openTestStore('pglite');
    const strategies = tempDir();
    try {
      const now = new Date();
      const session = await createSession(harness.store.db, { designer: 'claude', now, leaseOwner: 't', leaseExpiresAt: new Date(now.getTime() + 60_000) });
      const config = loadConfig({ env: { HOME: strategies.path, KTRDR_API_URL: url }, ignoreEnvFiles: true });
      const context: ToolContext = {
        db: harness.store.db,
        sessionId: session.id,
        ktrdr: new KtrdrClient({ baseUrl: url, timeoutMs: 600_000 }),
        strategies: new StrategyStore(strategies.path),
        config,
        now: () => new Date(),
        turn: { index: 0, tokensInput: null, tokensOutput: null },
        ktrdrUnreachable: false,
      };
      const tool = toolsFor('design', context).find((t) => t.name === 'get_available_symbols');
      assert.ok(tool);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('invocation time limit')), 100);
      const outcome = await tool.run({}, { signal: controller.signal });
      assert.equal(outcome.ok, false);
      assert.match(outcome.ok ? '' : outcome.error, /abandoned: the invocation it belonged to ended/);
      assert.equal(context.ktrdrUnreachable, false);
    } finally {
      await harness.cleanup();
      strategies.remove();
    }
  });
});
