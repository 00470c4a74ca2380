import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { otlpTracesConfigFromEnv, startTracing } from '../../src/core/telemetry/tracing.ts';
import { noopTracer } from '../../src/core/kernel/tracer.ts';
import type { Tracing } from '../../src/core/telemetry/tracing.ts';
import { createServer } from 'node:http';
import { closedPort } from '../support/ports.ts';
import { OtlpReceiver } from '../support/otlp-receiver.ts';
import { tempDir } from '../support/databases.ts';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/core/config/load.ts';

const TRACING_MODULE = new URL('../../src/core/telemetry/tracing.ts', import.meta.url);
const TRACER_PORT = new URL('../../src/core/kernel/tracer.ts', import.meta.url);

describe('tracing exported over OTLP/HTTP', () => {
  const receiver = new OtlpReceiver();
  let endpoint: string;
  let tracing: Tracing;
  let injectedInKtrdrRequest: Record<string, string> = {};
  let injectedOutsideSpans: Record<string, string> = {};
  let thrown: unknown;
  const apiKey = 'sk-ant-test-0123456789abcdef';

  before(async () => {
    endpoint = await receiver.start();
    const started = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ANTHROPIC_API_KEY: apiKey }, { serviceVersion: '0.1.0-test' });
    assert.ok(started, 'startTracing returned null although an endpoint is set');
    tracing = started;
    const { tracer } = tracing;

    injectedOutsideSpans = tracer.injectHeaders();
    await tracer.span('trigger_check', { 'trigger.session_id': 42, 'trigger.reason': undefined }, async (root) => {
      await tracer.span('check_budget', { 'trigger.budget_remaining_usd': 3.45 }, async () => undefined);
      await tracer.span('evaluate_gate', { 'gate.type': 'training' }, async (gate) => {
        gate.setAttributes({ 'gate.passed': true, 'gate.accuracy': 0.523, 'gate.threshold_accuracy': 0.45 });
      });
      await tracer.span('invoke_agent', {}, async () => {
        // Concurrent children must each keep invoke_agent as parent.
        await Promise.all([
          tracer.span('prepare_context', {}, async () => {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }),
          tracer.span('llm_request', { model: 'claude-test', 'tokens.input': 1523 }, async () => {
            await tracer.span('tool_call', { 'tool.name': 'start_training' }, async () => {
              await tracer.span('ktrdr_request', { 'http.request.method': 'POST', 'http.route': '/training/start' }, async (request) => {
                injectedInKtrdrRequest = tracer.injectHeaders();
                request.setAttributes({ 'http.response.status_code': 202 });
              });
            });
          }),
        ]);
      });
      try {
        await tracer.span('db_transaction', {}, async () => {
          throw new Error(`connection refused using key ${apiKey}`);
        });
      } catch (err) {
        thrown = err;
      }
      root.setAttributes({ 'trigger.agent_invoked': true, 'trigger.reason': 'training_completed' });
    });
    await tracing.shutdown(5000);
  });

  after(async () => {
    await receiver.stop();
  });

  test('posts JSON to <endpoint>/v1/traces with the service name', () => {
    assert.ok(receiver.contentTypes.length > 0);
    for (const contentType of receiver.contentTypes) assert.match(contentType, /application\/json/);
    assert.equal(receiver.span('trigger_check').serviceName, 'ktrdr-agent');
  });

  test('nested spans form one tree with parent links', () => {
    const root = receiver.span('trigger_check');
    assert.equal(root.parentSpanId, undefined);
    const parentOf = (name: string) => receiver.span(name).parentSpanId;
    assert.equal(parentOf('check_budget'), root.spanId);
    assert.equal(parentOf('evaluate_gate'), root.spanId);
    assert.equal(parentOf('invoke_agent'), root.spanId);
    assert.equal(parentOf('db_transaction'), root.spanId);
    assert.equal(parentOf('prepare_context'), receiver.span('invoke_agent').spanId);
    assert.equal(parentOf('llm_request'), receiver.span('invoke_agent').spanId);
    assert.equal(parentOf('tool_call'), receiver.span('llm_request').spanId);
    assert.equal(parentOf('ktrdr_request'), receiver.span('tool_call').spanId);
    for (const span of receiver.spans) assert.equal(span.traceId, root.traceId);
    assert.equal(receiver.spans.length, 9);
  });

  test('attributes given at start and set later are exported; undefined ones are dropped', () => {
    assert.deepEqual(receiver.span('trigger_check').attributes, {
      'trigger.session_id': 42,
      'trigger.agent_invoked': true,
      'trigger.reason': 'training_completed',
    });
    assert.deepEqual(receiver.span('evaluate_gate').attributes, {
      'gate.type': 'training',
      'gate.passed': true,
      'gate.accuracy': 0.523,
      'gate.threshold_accuracy': 0.45,
    });
    assert.equal(receiver.span('check_budget').attributes['trigger.budget_remaining_usd'], 3.45);
    assert.equal(receiver.span('ktrdr_request').attributes['http.response.status_code'], 202);
  });

  test('injectHeaders gives the W3C traceparent of the current span, and nothing outside spans', () => {
    const request = receiver.span('ktrdr_request');
    assert.equal(injectedInKtrdrRequest['traceparent'], `00-${request.traceId}-${request.spanId}-01`);
    assert.match(injectedInKtrdrRequest['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
    assert.deepEqual(injectedOutsideSpans, {});
  });

  test('a failing span records the error, rethrows it, and keeps the API key out of the trace', () => {
    assert.ok(thrown instanceof Error);
    const span = receiver.span('db_transaction');
    assert.equal(span.status?.code, 2);
    const exception = span.events.find((event) => event.name === 'exception');
    assert.ok(exception);
    assert.equal(exception.attributes['exception.message'], 'connection refused using key ****');
    assert.doesNotMatch(JSON.stringify(receiver.spans), new RegExp(apiKey));
  });
});

describe('tracing uses the one secret registry', () => {
  test('a key that only an env file held (registered by the configuration, absent from the environment) is redacted from every OTLP body', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    const key = 'sk-ant-envfileonly-fedcba9876543210';
    const password = 'db-password-from-file-77';
    const dir = tempDir();
    try {
      const envFile = `${dir.path}/agent.env`;
      writeFileSync(envFile, `ANTHROPIC_API_KEY=${key}\nDATABASE_URL=postgres://agent:${password}@db.example/agent\n`);
      loadConfig({ env: { HOME: dir.path }, envFile });
      const started = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
      assert.ok(started);
      await started.tracer.span('ktrdr_request', { 'url.full': `postgres://agent:${password}@db.example/agent` }, async (span) => {
        span.recordError(new Error(`rejected ${key} and ${key.slice(0, -1)}`));
      });
      await started.shutdown(5000);
      const bodies = JSON.stringify(receiver.spans);
      assert.ok(receiver.spans.length > 0);
      assert.doesNotMatch(bodies, new RegExp(key));
      assert.doesNotMatch(bodies, new RegExp(password));
      assert.match(bodies, /rejected \*\*\*\*/);
    } finally {
      dir.remove();
      await receiver.stop();
    }
  });
});

describe('tracing shutdown never hangs', () => {
  test('with the collector down, shutdown(500) resolves', { timeout: 20_000 }, async () => {
    const port = await closedPort();
    const tracing = await startTracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    });
    assert.ok(tracing);
    // The traced work runs and returns as without tracing; a failed export rejects nothing, and a second shutdown is harmless.
    assert.equal(await tracing.tracer.span('trigger_check', {}, async () => 'ran'), 'ran');
    await assert.doesNotReject(tracing.shutdown(500));
    await assert.doesNotReject(tracing.shutdown(500));
  });

  test('with a collector that never answers, shutdown(500) resolves', { timeout: 20_000 }, async () => {
    const received: string[] = [];
    const hanging = createServer((request) => {
      // Accept the export and never respond.
      received.push(`${request.method} ${request.url}`);
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      const tracing = await startTracing({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1000',
      });
      assert.ok(tracing);
      assert.equal(await tracing.tracer.span('trigger_check', {}, async () => 'ran'), 'ran');
      await assert.doesNotReject(tracing.shutdown(500));
      // The export was sent and is still unanswered: shutdown returned without it.
      for (let wait = 0; received.length === 0 && wait < 100; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(received, ['POST /v1/traces']);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});

describe('tracing off', () => {
  test('noopTracer runs the function and returns its value', async () => {
    const result = await noopTracer.span('trigger_check', { 'trigger.reason': 'x' }, async (span) => {
      span.setAttributes({ a: 1 });
      span.recordError(new Error('ignored'));
      return 7;
    });
    assert.equal(result, 7);
    assert.deepEqual(noopTracer.injectHeaders(), {});
    await assert.rejects(
      noopTracer.span('x', {}, async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
  });

  test('startTracing returns null without an endpoint, or when disabled', async () => {
    assert.equal(await startTracing({}), null);
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), null);
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), null);
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }), null);
  });

  test('the traces URL, headers and service name follow the OTEL_* variables', () => {
    assert.deepEqual(
      otlpTracesConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=ktrdr',
        OTEL_SERVICE_NAME: 'agent-blue',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
      }),
      {
        url: 'http://collector:4318/v1/traces',
        headers: { authorization: 'Bearer abc', 'x-tenant': 'ktrdr' },
        timeoutMillis: 5000,
        serviceName: 'agent-blue',
        resourceAttributes: { 'deployment.environment': 'prod' },
      },
    );
    assert.equal(
      otlpTracesConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/custom/traces',
      })?.url,
      'http://jaeger:4318/custom/traces',
    );
    assert.throws(() => otlpTracesConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT is not a valid http\(s\) URL/);
    assert.throws(
      () => otlpTracesConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: 'soon' }),
      /positive number of milliseconds/,
    );
  });

  test('without an endpoint no OpenTelemetry module is loaded; with one, it is', { timeout: 30_000 }, async () => {
    // A resolve hook in a fresh process records every module URL the tracing module pulls in.
    const script = `
      import { registerHooks } from 'node:module';
      const resolved = [];
      registerHooks({
        resolve(specifier, context, nextResolve) {
          const result = nextResolve(specifier, context);
          resolved.push(result.url);
          return result;
        },
      });
      const { startTracing } = await import(process.env.TRACING_MODULE_URL);
      const { noopTracer } = await import(process.env.TRACER_PORT_URL);
      const tracing = await startTracing(JSON.parse(process.env.TRACING_ENV));
      await noopTracer.span('trigger_check', {}, async () => undefined);
      if (tracing) await tracing.shutdown(200);
      console.log(JSON.stringify({
        started: tracing !== null,
        sawTracingModule: resolved.some((url) => url.endsWith('/tracing.ts')),
        openTelemetry: resolved.filter((url) => url.includes('@opentelemetry')),
      }));
    `;
    const run = async (env: Record<string, string>) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        cwd: new URL('../..', import.meta.url),
        env: {
          ...process.env,
          TRACING_MODULE_URL: pathToFileURL(TRACING_MODULE.pathname).href,
          TRACER_PORT_URL: pathToFileURL(TRACER_PORT.pathname).href,
          TRACING_ENV: JSON.stringify(env),
        },
      });
      return JSON.parse(stdout) as { started: boolean; sawTracingModule: boolean; openTelemetry: string[] };
    };

    const off = await run({});
    assert.equal(off.started, false);
    assert.equal(off.sawTracingModule, true);
    assert.deepEqual(off.openTelemetry, []);

    const on = await run({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    assert.equal(on.started, true);
    assert.ok(on.openTelemetry.length > 0, 'the resolve hook saw no OpenTelemetry module even with tracing on');
  });
});
