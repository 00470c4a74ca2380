import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { flattenTrainingOperation, KtrdrClient, KtrdrError, nodeHttpTransport } from '../../src/core/ktrdr/index.ts';
import type { KtrdrClientOptions, KtrdrRequestInfo, KtrdrTransport } from '../../src/core/ktrdr/index.ts';
import { createSimulator } from '../../src/core/sim/index.ts';
import { ktrdrRoutes } from '../support/ktrdr-routes.ts';
import type { SimulatorOptions } from '../../src/core/sim/index.ts';

const strategy = (name: string) => `
name: ${name}
version: "3.0"
training_data:
  symbols: {mode: single, symbol: EURUSD}
  timeframes: {mode: single, timeframe: "1h"}
indicators:
  rsi_14: {type: rsi, period: 14}
  adx_14: {type: adx, period: 14}
fuzzy_sets:
  rsi_zone:
    indicator: rsi_14
    oversold: [0, 20, 35]
    neutral: [30, 50, 70]
    overbought: [65, 80, 100]
  trend:
    indicator: adx_14.adx
    weak: [0, 10, 25]
    strong: [20, 40, 100]
nn_inputs:
  - {fuzzy_set: rsi_zone, timeframes: all}
  - {fuzzy_set: trend, timeframes: all}
model: {type: mlp, architecture: {hidden_layers: [32, 16], dropout: 0.2}}
decisions: {output_format: classification}
training:
  epochs: 20
  labels: {source: zigzag, zigzag_threshold: 0.015}
`;

const HOUR = 3_600_000;
const fastRetry = { maxAttempts: 3, backoffBaseSeconds: 0.01 };
let strategiesDir: string;

before(async () => {
  strategiesDir = await mkdtemp(join(tmpdir(), 'ktrdr-client-'));
  await writeFile(join(strategiesDir, 'rsi_adx.yaml'), strategy('rsi_adx'));
});

after(async () => {
  await rm(strategiesDir, { recursive: true, force: true });
});

/**
 * The simulator on a clock that starts at the real time and moves forward by hand: the client compares KTRDR's
 * `created_at` with its own clock when it looks for a backtest started by a lost request.
 */
async function withSimulator(
  options: Partial<SimulatorOptions>,
  clientOptions: Partial<KtrdrClientOptions>,
  run: (context: {
    sim: Awaited<ReturnType<typeof createSimulator>>;
    client: KtrdrClient;
    advance: (ms: number) => void;
    attempts: KtrdrRequestInfo[];
    /** Runs synchronously after each attempt, before any backoff: the place to lift a fault for the retry. */
    hooks: { afterAttempt: ((info: KtrdrRequestInfo) => void) | null };
  }) => Promise<void>,
): Promise<void> {
  let offset = 0;
  const sim = await createSimulator({ strategiesDir, seed: 3, timeScale: 60, now: () => Date.now() + offset, ...options });
  const attempts: KtrdrRequestInfo[] = [];
  const hooks: { afterAttempt: ((info: KtrdrRequestInfo) => void) | null } = { afterAttempt: null };
  const client = new KtrdrClient({
    baseUrl: sim.url,
    retry: fastRetry,
    ...clientOptions,
    onRequest: (info) => {
      attempts.push(info);
      hooks.afterAttempt?.(info);
    },
  });
  try {
    await run({ sim, client, advance: (ms) => (offset += ms), attempts, hooks });
  } finally {
    await sim.close();
  }
}

interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A tiny server for the shapes and failures the simulator does not produce; `handler` sees the request count. */
async function rawServer(handler: (request: RecordedRequest, count: number, response: ServerResponse) => void) {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const recorded = { method: request.method ?? 'GET', path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(recorded);
    handler(recorded, requests.length, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' }).end(text);
}

async function rejection(promise: Promise<unknown>): Promise<KtrdrError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KtrdrError, `expected a KtrdrError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

const operationInfo = (id: string, status = 'running') => ({
  success: true,
  data: {
    operation_id: id,
    operation_type: 'training',
    status,
    created_at: '2025-01-01T12:00:00',
    progress: { percentage: 10, current_step: 'Epoch 1/10', steps_completed: 1, steps_total: 10 },
    metadata: { parameters: { strategy_name: 's', epochs: 10 } },
  },
});

describe('KtrdrClient against the simulator', () => {
  test('reads discovery endpoints: health, symbols, indicators, data range, workers, validation', async () => {
    await withSimulator({}, {}, async ({ client }) => {
      assert.equal((await client.health()).status, 'ok');
      const symbols = await client.listSymbols();
      const eurusd = symbols.find((entry) => entry.symbol === 'EURUSD');
      assert.ok(eurusd?.available_timeframes.includes('1h'));
      const indicators = await client.listIndicators();
      assert.ok(indicators.some((indicator) => indicator.id === 'RSIIndicator'));
      const range = await client.getDataRange('EURUSD', '1h');
      assert.ok(range.point_count > 0);
      assert.ok(range.start_date < range.end_date);
      const noData = await rejection(client.getDataRange('ZZZUSD', '1h'));
      assert.equal(noData.status, 404);
      assert.equal(noData.code, 'DATA-NotFound');
      assert.deepEqual(noData.details, { symbol: 'ZZZUSD', timeframe: '1h' });
      const workers = await client.listWorkers();
      assert.equal(workers.length, 2);
      const training = await client.listWorkers({ workerType: 'training', status: 'available' });
      assert.deepEqual(
        training.map((worker) => worker.worker_type),
        ['training'],
      );
      assert.equal((await client.validateStrategy('rsi_adx')).valid, true);
    });
  });

  test('drives operations: start, get, list, metrics, results, cancel, resume, retry, checkpoints', async () => {
    await withSimulator({}, {}, async ({ sim, client, advance }) => {
      const started = await client.startTraining({ strategyName: 'rsi_adx' });
      assert.match(started.operationId, /^op_training_\d{8}_\d{6}_[0-9a-f]{8}$/);
      assert.equal(started.recovered, false);
      assert.equal(started.response?.task_id, started.operationId);
      advance(2_000);
      const running = await client.getOperation(started.operationId);
      assert.equal(running.status, 'running');
      assert.equal(running.metadata?.parameters?.strategy_name, 'rsi_adx');
      assert.ok((await client.getOperationMetrics(started.operationId)).epochs.length);
      const active = await client.listOperations({ activeOnly: true, operationType: 'training' });
      assert.deepEqual(
        active.operations.map((operation) => operation.operation_id),
        [started.operationId],
      );
      assert.equal(active.activeCount, 1);
      const notDone = await rejection(ktrdrRoutes(sim.url).getOperationResults(started.operationId));
      assert.equal(notDone.status, 400);

      advance(24 * HOUR);
      const results = await ktrdrRoutes(sim.url).getOperationResults(started.operationId);
      assert.equal(results.status, 'completed');
      const training = flattenTrainingOperation(await client.getOperation(started.operationId));
      assert.ok(training.modelPath);
      assert.equal((await client.listOperations({ status: 'completed' })).totalCount, 1);

      const backtest = await client.startBacktest({ strategyName: 'rsi_adx', modelPath: training.modelPath, startDate: '2024-07-01', endDate: '2024-12-31' });
      assert.match(backtest.operationId, /^op_backtesting_/);
      advance(1_000);
      const cancelled = await client.cancelOperation(backtest.operationId, { reason: 'not needed' });
      assert.equal(cancelled.status, 'cancelled');
      assert.equal((await ktrdrRoutes(sim.url).listCheckpoints()).checkpoints[0]?.operation_id, backtest.operationId);
      assert.equal((await ktrdrRoutes(sim.url).getCheckpoint(backtest.operationId)).checkpoint_type, 'cancellation');
      const resumed = await client.resumeOperation(backtest.operationId);
      assert.equal(resumed.status, 'resuming');

      sim.faults.failureRate = 1;
      const doomed = await client.startTraining({ strategyName: 'rsi_adx' });
      advance(24 * HOUR);
      assert.equal((await client.getOperation(doomed.operationId)).status, 'failed');
      sim.faults.failureRate = 0;
      const retried = await ktrdrRoutes(sim.url).retryOperation(doomed.operationId);
      assert.notEqual(retried.operation_id, doomed.operationId);
      assert.equal((await client.listOperations({ limit: 1000 })).totalCount, 4);
    });
  });

  test('retries a read whose connection was dropped, and reports each attempt', async () => {
    await withSimulator({ faults: { dropRate: 1 } }, {}, async ({ sim, client, attempts, hooks }) => {
      // The first attempt is dropped; let the retry through.
      hooks.afterAttempt = () => (sim.faults.dropRate = 0);
      assert.ok((await client.listSymbols()).length > 0);
      assert.equal(attempts.length, 2);
      assert.equal(attempts[0]?.error?.kind, 'transport');
      assert.equal(attempts[0]?.status, null);
      assert.equal(attempts[1]?.status, 200);
      assert.equal(attempts[1]?.route, '/symbols');
      assert.deepEqual(
        attempts.map((attempt) => attempt.attempt),
        [1, 2],
      );
    });
  });

  test('starts a training exactly once when the answer to the start is lost', async () => {
    await withSimulator({ faults: { dropRate: 1 } }, {}, async ({ sim, client, hooks }) => {
      hooks.afterAttempt = () => (sim.faults.dropRate = 0);
      const started = await client.startTraining({ strategyName: 'rsi_adx' });
      assert.equal(started.recovered, true);
      assert.equal(started.response, null);
      assert.equal(sim.state.operations.size, 1);
      assert.ok(sim.state.operations.has(started.operationId));
      const starts = sim.state.requests.filter((request) => request.method === 'POST' && request.path === '/trainings/start');
      assert.equal(starts.length, 1);
      assert.deepEqual(
        sim.state.requests.map((request) => `${request.method} ${request.path}`),
        ['POST /trainings/start', `GET /operations/${started.operationId}`],
      );
    });
  });

  test('starts a training again after a 5xx once KTRDR says the operation does not exist', async () => {
    await withSimulator({ faults: { errorRate: 1 } }, {}, async ({ sim, client, hooks }) => {
      hooks.afterAttempt = () => (sim.faults.errorRate = 0);
      const started = await client.startTraining({ strategyName: 'rsi_adx', taskId: 'op_training_20250101_000000_0badc0de' });
      assert.equal(started.recovered, false);
      assert.equal(started.operationId, 'op_training_20250101_000000_0badc0de');
      assert.equal(sim.state.operations.size, 1);
      assert.deepEqual(
        sim.state.requests.map((request) => `${request.method} ${request.path}`),
        ['POST /trainings/start', 'GET /operations/op_training_20250101_000000_0badc0de', 'POST /trainings/start'],
      );
    });
  });

  test('never starts a backtest twice when the answer to the start is lost', async () => {
    await withSimulator({}, {}, async ({ sim, client, advance, hooks }) => {
      const training = await client.startTraining({ strategyName: 'rsi_adx' });
      advance(24 * HOUR);
      const modelPath = flattenTrainingOperation(await client.getOperation(training.operationId)).modelPath;
      assert.ok(modelPath);
      // An earlier backtest of the same strategy on other dates must not be mistaken for this one.
      await client.startBacktest({ strategyName: 'rsi_adx', modelPath, startDate: '2023-01-01', endDate: '2023-06-30' });
      sim.faults.dropRate = 1;
      hooks.afterAttempt = () => (sim.faults.dropRate = 0);
      const started = await client.startBacktest({ strategyName: 'rsi_adx', modelPath, startDate: '2024-07-01', endDate: '2024-12-31' });
      assert.equal(started.recovered, true);
      const backtests = [...sim.state.operations.values()].filter((operation) => operation.type === 'backtesting');
      assert.equal(backtests.length, 2);
      const match = sim.state.operations.get(started.operationId);
      assert.equal(match?.startDate, '2024-07-01');
      const starts = sim.state.requests.filter((request) => request.path === '/backtests/start');
      assert.equal(starts.length, 2, 'one start per backtest, none repeated');
    });
  });

  test('adopts the backtest an earlier, crashed caller started, instead of starting a second one', async () => {
    await withSimulator({}, {}, async ({ sim, client, advance }) => {
      const training = await client.startTraining({ strategyName: 'rsi_adx' });
      advance(24 * HOUR);
      const modelPath = flattenTrainingOperation(await client.getOperation(training.operationId)).modelPath;
      assert.ok(modelPath);
      const since = Date.now() - HOUR;
      const first = await client.startBacktest({ strategyName: 'rsi_adx', modelPath, startDate: '2024-07-01', endDate: '2024-12-31' });
      // The caller died before recording `first`; its retry asks to adopt whatever it may have started.
      const retried = await client.startBacktest({
        strategyName: 'rsi_adx',
        modelPath,
        startDate: '2024-07-01',
        endDate: '2024-12-31',
        adoptStartedSince: since,
      });
      assert.equal(retried.operationId, first.operationId);
      assert.equal(retried.recovered, true);
      assert.equal(sim.state.requests.filter((request) => request.path === '/backtests/start').length, 1);
      // Other dates are another backtest: started, not adopted.
      const other = await client.startBacktest({
        strategyName: 'rsi_adx',
        modelPath,
        startDate: '2025-01-01',
        endDate: '2025-03-31',
        adoptStartedSince: since,
      });
      assert.notEqual(other.operationId, first.operationId);
      assert.equal(other.recovered, false);
    });
  });

  test('starts a backtest again when the failed attempt left no operation behind', async () => {
    await withSimulator({}, {}, async ({ sim, client, advance, hooks }) => {
      const training = await client.startTraining({ strategyName: 'rsi_adx' });
      advance(24 * HOUR);
      const modelPath = flattenTrainingOperation(await client.getOperation(training.operationId)).modelPath;
      assert.ok(modelPath);
      sim.faults.errorRate = 1;
      hooks.afterAttempt = () => (sim.faults.errorRate = 0);
      const started = await client.startBacktest({ strategyName: 'rsi_adx', modelPath, startDate: '2024-07-01', endDate: '2024-12-31' });
      assert.equal(started.recovered, false);
      assert.equal([...sim.state.operations.values()].filter((operation) => operation.type === 'backtesting').length, 1);
      assert.equal(sim.state.requests.filter((request) => request.path === '/backtests/start').length, 2);
      assert.ok(
        sim.state.requests.some((request) => request.path === '/operations'),
        'looked for a started backtest first',
      );
    });
  });

  test('a backtest start that timed out is not sent again while KTRDR may still carry it out; the next call adopts it', async () => {
    // The first start is held in a transport between the client and KTRDR: the client hears its timeout (the error
    // its AbortSignal.timeout gives) at once, and KTRDR gets the request only after the client's list, when the test
    // lets it through. No real time passes for either.
    let heldStart: (() => Promise<unknown>) | null = null;
    const transport: KtrdrTransport = (url, init) => {
      if (heldStart === null && init.method === 'POST' && url.endsWith('/backtests/start')) {
        heldStart = () => nodeHttpTransport(url, { ...init, signal: AbortSignal.timeout(60_000) });
        return Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      }
      return nodeHttpTransport(url, init);
    };
    await withSimulator({}, { fetch: transport }, async ({ sim, client, advance }) => {
      const training = await client.startTraining({ strategyName: 'rsi_adx' });
      advance(24 * HOUR);
      const modelPath = flattenTrainingOperation(await client.getOperation(training.operationId)).modelPath!;
      const params = { strategyName: 'rsi_adx', modelPath, startDate: '2024-07-01', endDate: '2024-12-31' };
      const since = Date.now();
      const backtests = () => [...sim.state.operations.values()].filter((operation) => operation.type === 'backtesting');
      await assert.rejects(client.startBacktest(params), (error: unknown) => error instanceof KtrdrError && error.kind === 'timeout');
      const paths = sim.state.requests.map((request) => request.path);
      assert.equal(paths.filter((path) => path === '/backtests/start').length, 0, 'not sent again after the timeout');
      assert.ok(paths.includes('/operations'), 'looked for a started backtest first');
      assert.ok(heldStart, 'the first start was held');
      await (heldStart as () => Promise<unknown>)();
      assert.equal(backtests().length, 1, 'one backtest, carried out late');
      const adopted = await client.startBacktest({ ...params, adoptStartedSince: since });
      assert.equal(adopted.recovered, true);
      assert.equal(adopted.operationId, backtests()[0]!.id);
      assert.equal(backtests().length, 1);
    });
  });

  test('reports a cancel whose answer was lost as done when the retry finds the operation cancelled', async () => {
    await withSimulator({}, {}, async ({ sim, client, advance, hooks }) => {
      const started = await client.startTraining({ strategyName: 'rsi_adx' });
      advance(2_000);
      sim.faults.dropRate = 1;
      hooks.afterAttempt = () => (sim.faults.dropRate = 0);
      const cancelled = await client.cancelOperation(started.operationId, { reason: 'stop' });
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.operation_id, started.operationId);
      assert.equal((await client.getOperation(started.operationId)).status, 'cancelled');
    });
  });

  test('refuses a backtest without a model path before sending anything', async () => {
    await withSimulator({}, {}, async ({ client, sim }) => {
      await assert.rejects(client.startBacktest({ strategyName: 'rsi_adx', modelPath: '', startDate: '2024-07-01', endDate: '2024-12-31' }), /modelPath/);
      assert.equal(sim.state.requests.length, 0);
    });
  });
});

describe('KtrdrClient error shapes', () => {
  const cases: { name: string; status: number; body: unknown; code: string; message: RegExp; retryable: boolean }[] = [
    {
      name: 'the global handler envelope',
      status: 404,
      body: { success: false, error: { code: 'DATA-NotFound', message: 'No data available for X (1h)', details: { symbol: 'X' } } },
      code: 'DATA-NotFound',
      message: /No data available for X \(1h\)/,
      retryable: false,
    },
    {
      name: 'the 422 VALIDATION_ERROR with its field list',
      status: 422,
      body: {
        success: false,
        error: {
          code: 'VALIDATION_ERROR',
          message: 'Request validation failed',
          details: [{ field: 'body -> strategy_name', message: 'Field required', type: 'missing' }],
        },
      },
      code: 'VALIDATION_ERROR',
      message: /Request validation failed: body -> strategy_name: Field required/,
      retryable: false,
    },
    {
      name: 'the FastAPI string detail',
      status: 404,
      body: { detail: 'Operation not found: op_x' },
      code: 'NOT_FOUND',
      message: /Operation not found: op_x/,
      retryable: false,
    },
    {
      name: 'the ConfigurationError detail object',
      status: 400,
      body: {
        detail: {
          message: 'Strategy validation failed',
          error_code: 'STRATEGY-ValidationFailed',
          context: { strategy_name: 's' },
          details: { errors: ['fuzzy_sets.x.indicator: unknown indicator rsi_99'] },
          suggestion: 'Fix the indicator reference',
        },
      },
      code: 'STRATEGY-ValidationFailed',
      message: /Strategy validation failed\. fuzzy_sets\.x\.indicator: unknown indicator rsi_99\. Suggestion: Fix the indicator reference/,
      retryable: false,
    },
    {
      name: 'the WorkerUnavailableError detail object',
      status: 503,
      body: {
        detail: { error: 'No training workers available', worker_type: 'training', registered_workers: 0, backend_uptime_seconds: 12, hint: 'Start a worker' },
      },
      code: 'WORKER_UNAVAILABLE',
      message: /No training workers available \(worker type training, 0 registered\)\. Start a worker/,
      retryable: true,
    },
    {
      name: 'the plain JSON with a reason',
      status: 409,
      body: { triggered: false, reason: 'budget_exhausted' },
      code: 'budget_exhausted',
      message: /budget_exhausted/,
      retryable: false,
    },
    {
      name: 'a body that is not JSON',
      status: 502,
      body: '<html>Bad Gateway</html>',
      code: 'BAD_GATEWAY',
      message: /<html>Bad Gateway<\/html>/,
      retryable: true,
    },
  ];

  for (const shape of cases) {
    test(`reads ${shape.name}`, async () => {
      const server = await rawServer((_request, _count, response) => reply(response, shape.status, shape.body));
      try {
        const client = new KtrdrClient({ baseUrl: server.url, retry: { maxAttempts: 1, backoffBaseSeconds: 0 } });
        const error = await rejection(client.getOperation('op_x'));
        assert.equal(error.kind, 'http');
        assert.equal(error.status, shape.status);
        assert.equal(error.code, shape.code);
        assert.match(error.message, shape.message);
        assert.match(error.message, /GET \/operations\/\{id\}/);
        assert.equal(error.retryable, shape.retryable);
      } finally {
        await server.close();
      }
    });
  }

  test('names the missing field of a response that breaks the contract, and does not retry it', async () => {
    const server = await rawServer((request, _count, response) => {
      if (request.path.startsWith('/api/v1/trainings/start')) reply(response, 200, { success: true, status: 'training_started' });
      else reply(response, 200, { success: true, data: { ...operationInfo('op_x').data, progress: { current_step: 'Epoch 1/10' } } });
    });
    try {
      const client = new KtrdrClient({ baseUrl: server.url, retry: fastRetry });
      const start = await rejection(client.startTraining({ strategyName: 's' }));
      assert.equal(start.kind, 'invalid_response');
      assert.equal(start.status, 200);
      assert.match(start.message, /task_id/);
      const operation = await rejection(client.getOperation('op_x'));
      assert.equal(operation.kind, 'invalid_response');
      assert.match(operation.message, /data\.progress\.percentage/);
      assert.equal((operation.details as { field: string }).field, 'data.progress.percentage');
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  test('treats a 2xx that is not JSON as an invalid response', async () => {
    const server = await rawServer((_request, _count, response) => reply(response, 200, 'ok'));
    try {
      const client = new KtrdrClient({ baseUrl: server.url, retry: fastRetry });
      const error = await rejection(client.health());
      assert.equal(error.kind, 'invalid_response');
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });
});

describe('KtrdrClient retries', () => {
  test('retries a 5xx with backoff until it succeeds', async () => {
    const server = await rawServer((_request, count, response) =>
      count < 3
        ? reply(response, 500, { success: false, error: { code: 'INTERNAL_SERVER_ERROR', message: 'boom', details: {} } })
        : reply(response, 200, { status: 'ok' }),
    );
    try {
      const attempts: KtrdrRequestInfo[] = [];
      const client = new KtrdrClient({ baseUrl: server.url, retry: fastRetry, onRequest: (info) => attempts.push(info) });
      assert.equal((await client.health()).status, 'ok');
      assert.equal(server.requests.length, 3);
      assert.deepEqual(
        attempts.map((attempt) => attempt.status),
        [500, 500, 200],
      );
    } finally {
      await server.close();
    }
  });

  test("runs every attempt inside the caller's wrapper, with the headers it sets", async () => {
    const server = await rawServer((_request, count, response) =>
      count < 2 ? reply(response, 503, { detail: 'busy' }) : reply(response, 200, { status: 'ok' }),
    );
    try {
      const wrapped: string[] = [];
      let current: string | null = null;
      const client = new KtrdrClient({
        baseUrl: server.url,
        retry: fastRetry,
        headers: () => ({ traceparent: current ?? 'outside' }),
        around: async (info, send) => {
          current = `${info.method} ${info.route} #${info.attempt}`;
          wrapped.push(current);
          try {
            return await send();
          } finally {
            current = null;
          }
        },
      });
      assert.equal((await client.health()).status, 'ok');
      assert.deepEqual(wrapped, ['GET /health #1', 'GET /health #2']);
      assert.deepEqual(
        server.requests.map((request) => request.headers.traceparent),
        ['GET /health #1', 'GET /health #2'],
      );
    } finally {
      await server.close();
    }
  });

  test('gives up after maxAttempts and throws the last error', async () => {
    const server = await rawServer((_request, _count, response) =>
      reply(response, 503, { detail: { error: 'No training workers available', worker_type: 'training' } }),
    );
    try {
      const client = new KtrdrClient({ baseUrl: server.url, retry: fastRetry });
      const error = await rejection(client.listOperations());
      assert.equal(error.code, 'WORKER_UNAVAILABLE');
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  test('never retries a 4xx', async () => {
    const server = await rawServer((_request, _count, response) => reply(response, 404, { detail: 'Operation not found: op_x' }));
    try {
      const client = new KtrdrClient({ baseUrl: server.url, retry: fastRetry });
      assert.equal((await rejection(client.getOperation('op_x'))).status, 404);
      assert.equal((await rejection(client.startTraining({ strategyName: 's' }))).status, 404);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  test('times out a request that gets no answer, and retries it when it is a read', async () => {
    const server = await rawServer((_request, count, response) => {
      if (count === 1) return; // never answers
      reply(response, 200, { status: 'ok' });
    });
    try {
      const attempts: KtrdrRequestInfo[] = [];
      const client = new KtrdrClient({ baseUrl: server.url, timeoutMs: 250, retry: fastRetry, onRequest: (info) => attempts.push(info) });
      assert.equal((await client.health()).status, 'ok');
      assert.equal(attempts[0]?.error?.kind, 'timeout');
      assert.equal(attempts[0]?.error?.code, 'TIMEOUT');
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  test('does not repeat a resume whose outcome is unknown or that failed on the server', async () => {
    const server = await rawServer((request, _count, response) => {
      if (request.path.includes('op_x')) return; // never answers: outcome unknown
      reply(response, 500, { success: false, error: { code: 'OPERATIONS-ResumeError', message: 'boom', details: {} } });
    });
    try {
      const client = new KtrdrClient({ baseUrl: server.url, timeoutMs: 250, retry: fastRetry });
      assert.equal((await rejection(client.resumeOperation('op_x'))).kind, 'timeout');
      assert.equal((await rejection(client.resumeOperation('op_y'))).status, 500);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  test('reports a refused connection as a transport error and retries it', async () => {
    const server = await rawServer(() => undefined);
    const url = server.url;
    await server.close();
    const attempts: KtrdrRequestInfo[] = [];
    const client = new KtrdrClient({ baseUrl: url, retry: fastRetry, onRequest: (info) => attempts.push(info) });
    const error = await rejection(client.health());
    assert.equal(error.kind, 'transport');
    assert.equal(error.status, null);
    assert.equal(error.code, 'ECONNREFUSED');
    assert.match(error.message, /KTRDR_API_URL/);
    assert.equal(attempts.length, 3);
  });

  test('does not start a training again when it cannot check whether the first start went through', async () => {
    const server = await rawServer((request, _count, response) => {
      if (request.method === 'POST') response.socket?.destroy();
      else reply(response, 500, { success: false, error: { code: 'INTERNAL_SERVER_ERROR', message: 'boom', details: {} } });
    });
    try {
      const client = new KtrdrClient({ baseUrl: server.url, retry: { maxAttempts: 2, backoffBaseSeconds: 0.01 } });
      const error = await rejection(client.startTraining({ strategyName: 's' }));
      assert.equal(error.kind, 'transport');
      assert.equal(server.requests.filter((request) => request.method === 'POST').length, 1);
      const body = JSON.parse(server.requests[0]?.body ?? '{}') as Record<string, unknown>;
      assert.match(String(body.task_id), /^op_training_\d{8}_\d{6}_[0-9a-f]{8}$/);
    } finally {
      await server.close();
    }
  });

  test('sends the extra headers of each attempt and reports route templates', async () => {
    const server = await rawServer((request, _count, response) => reply(response, 200, operationInfo(request.path.split('/').pop() ?? '')));
    try {
      let span = 0;
      const attempts: KtrdrRequestInfo[] = [];
      const client = new KtrdrClient({
        baseUrl: `${server.url}/`,
        retry: fastRetry,
        headers: () => ({ traceparent: `00-${'a'.repeat(32)}-${String(++span).padStart(16, '0')}-01` }),
        onRequest: (info) => attempts.push(info),
      });
      assert.equal((await client.getOperation('op x/1')).operation_id, 'op%20x%2F1');
      assert.equal(server.requests[0]?.path, '/api/v1/operations/op%20x%2F1');
      assert.equal(server.requests[0]?.headers.traceparent, `00-${'a'.repeat(32)}-0000000000000001-01`);
      assert.equal(attempts[0]?.route, '/operations/{id}');
      assert.equal(attempts[0]?.method, 'GET');
      assert.ok((attempts[0]?.durationMs ?? -1) >= 0);
    } finally {
      await server.close();
    }
  });
});
