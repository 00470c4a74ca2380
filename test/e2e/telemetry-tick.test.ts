import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { repoRoot, runCli, type CliResult } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.ts';
import { closedPort } from '../support/ports.ts';
import { OtlpReceiver } from '../support/otlp-receiver.ts';

const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';
const TEST_TIMEOUT_MS = 180_000;

function ensureBuilt(): void {
  if (!existsSync(join(repoRoot, 'dist', 'tick-main.js')) || !existsSync(join(repoRoot, 'dist', 'commands', 'tick.js'))) {
    execFileSync(process.execPath, ['scripts/build.ts'], { cwd: repoRoot, stdio: 'inherit' });
  }
}

/** What the CLI runs with: a fresh database, KTRDR down, the baseline designer (no LLM). */
function tickEnv(home: string, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home,
    DATABASE_URL: databaseUrl,
    KTRDR_API_URL: 'http://127.0.0.1:9/api/v1',
    AGENT_DESIGNER: 'baseline',
    AGENT_RETRY_BACKOFF_BASE: '0.01',
    ...extra,
  };
}

/**
 * The tick ran to its end, failed by nothing but KTRDR, which is down in these tests: exit 5 (degraded) with
 * ktrdr_unreachable as its only fault. Telemetry never adds a fault or changes the exit code.
 */
function assertTickSucceeded(result: CliResult): void {
  assert.equal(result.code, 5, `tick exited ${result.code} (${result.signal ?? 'no signal'}):\n${result.stderr}`);
  const finished = result.stderr
    .split('\n')
    .filter((line) => line.includes('"event":"tick_finished"'))
    .map((line) => JSON.parse(line) as { faults?: string[] });
  assert.equal(finished.length, 1, result.stderr);
  assert.deepEqual(finished[0]!.faults, ['ktrdr_unreachable'], result.stderr);
}

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

class Pushgateway {
  url = '';
  private process: ChildProcess | undefined;
  private output = '';
  private readonly dir = tempDir('ktrdr-pushgateway-');

  async start(): Promise<void> {
    if (!existsSync(PUSHGATEWAY_BIN)) {
      throw new Error(`${PUSHGATEWAY_BIN} is missing: install it with 'apt-get install -y prometheus-pushgateway'`);
    }
    const port = await closedPort();
    this.url = `http://127.0.0.1:${port}`;
    const gateway = spawn(PUSHGATEWAY_BIN, [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(this.dir.path, 'metrics.store')}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = gateway;
    gateway.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    gateway.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (gateway.exitCode !== null) throw new Error(`pushgateway exited with ${gateway.exitCode}:\n${this.output}`);
      try {
        const response = await fetch(`${this.url}/-/ready`);
        await response.body?.cancel();
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`pushgateway at ${this.url} did not become ready:\n${this.output}`);
  }

  async stop(): Promise<void> {
    const gateway = this.process;
    if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    this.dir.remove();
  }
}

/** Accepts connections and never answers: a collector or gateway that hangs. */
class HangingServer {
  private readonly sockets = new Set<Socket>();
  private readonly server: NetServer = createNetServer((socket) => {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('telemetry of a tick run by the built CLI', () => {
  before(() => {
    ensureBuilt();
  });

  describe('metrics pushed to a real Pushgateway', () => {
    const home = tempDir('ktrdr-agent-home-');
    const gateway = new Pushgateway();
    let database: Awaited<ReturnType<typeof createTestDatabase>>;

    before(async () => {
      database = await createTestDatabase();
      await gateway.start();
    });
    after(async () => {
      await gateway.stop();
      await database.drop();
      home.remove();
    });

    test('after two ticks the group job/instance holds the database totals', { timeout: TEST_TIMEOUT_MS }, async () => {
      const env = tickEnv(home.path, database.url, { PUSHGATEWAY_URL: gateway.url });
      for (let tick = 0; tick < 2; tick++) {
        const result = await runCli(['tick'], env);
        assertTickSucceeded(result);
        assert.doesNotMatch(result.stderr, /metrics_push_failed/);
      }

      const response = await fetch(`${gateway.url}/metrics`);
      assert.equal(response.status, 200);
      const samples = parsePrometheusText(await response.text());
      const group = { job: 'ktrdr_agent', instance: hostname() };

      const triggers = await query<{ trigger_reason: string; agent_invoked: boolean; count: string }>(
        database.url,
        'SELECT trigger_reason, agent_invoked, count(*) AS count FROM agent_triggers GROUP BY 1, 2',
      );
      // KTRDR is down: each tick records that a cycle could not start (nothing invoked, no session created).
      assert.deepEqual(triggers.map((row) => `${row.trigger_reason}/${row.agent_invoked}=${row.count}`).sort(), ['start_new_cycle/false=2']);
      for (const row of triggers) {
        assert.equal(
          sampleValue(samples, 'agent_trigger_total', { ...group, reason: row.trigger_reason, invoked: String(row.agent_invoked) }),
          Number(row.count),
          `agent_trigger_total{reason="${row.trigger_reason}",invoked="${row.agent_invoked}"}`,
        );
      }

      const [tick] = await query<{ last: number; ticks: string }>(
        database.url,
        "SELECT extract(epoch FROM max(finished_at))::float8 AS last, count(*) AS ticks FROM agent_ticks WHERE status IN ('ok', 'paused', 'degraded')",
      );
      assert.equal(tick?.ticks, '2');
      const lastSuccess = sampleValue(samples, 'agent_tick_last_success_timestamp_seconds', group);
      assert.ok(lastSuccess !== undefined, 'agent_tick_last_success_timestamp_seconds is missing');
      // The database keeps microseconds, the agent's clock milliseconds.
      assert.ok(Math.abs(lastSuccess - Number(tick?.last)) < 0.001, `pushed ${lastSuccess}, database ${tick?.last}`);

      const [budget] = await query<{ remaining: string }>(
        database.url,
        'SELECT GREATEST(budget_limit_usd - budget_used_usd - budget_reserved_usd, 0) AS remaining FROM agent_budget ORDER BY date DESC LIMIT 1',
      );
      assert.equal(sampleValue(samples, 'agent_budget_remaining_usd', group), Number(budget?.remaining));
      // No cycle could start, so none ended: the counter is exported at zero or not at all, never invented.
      assert.ok((sampleValue(samples, 'agent_cycle_total', { ...group, outcome: 'failed_design' }) ?? 0) === 0);
    });
  });

  describe('spans exported to an OTLP/HTTP receiver', () => {
    const home = tempDir('ktrdr-agent-home-');
    const receiver = new OtlpReceiver();
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let endpoint: string;

    before(async () => {
      database = await createTestDatabase();
      endpoint = await receiver.start();
    });
    after(async () => {
      await receiver.stop();
      await database.drop();
      home.remove();
    });

    test('a pass is a trigger_check root with check_active_session and ktrdr_request children', { timeout: TEST_TIMEOUT_MS }, async () => {
      // The endpoint comes from the env file only: the process environment has no OTEL_* variable.
      const envFile = join(home.path, 'config', 'agent.env');
      mkdirSync(join(home.path, 'config'), { recursive: true });
      writeFileSync(envFile, `OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}\n`);
      const result = await runCli(['tick', '--agent-env', envFile], tickEnv(home.path, database.url));
      assertTickSucceeded(result);
      await receiver.waitFor('trigger_check');

      const root = receiver.span('trigger_check');
      assert.equal(root.parentSpanId, undefined, 'trigger_check is a root span');
      const [tick] = await query<{ id: string }>(database.url, 'SELECT id FROM agent_ticks');
      assert.equal(root.attributes['tick.id'], tick?.id);
      assert.equal(root.attributes['trigger.reason'], 'start_new_cycle');
      assert.equal(root.attributes['trigger.agent_invoked'], false);
      assert.equal(root.attributes['trigger.budget_remaining_usd'], 5);
      assert.equal(root.attributes['trigger.decisions'], 1);

      // KTRDR is down here: the pass asks its health before starting a cycle, one span per HTTP attempt.
      for (const name of ['check_active_session', 'ktrdr_request']) {
        const child = name === 'ktrdr_request' ? receiver.first(name) : receiver.span(name);
        assert.equal(child.traceId, root.traceId, `${name} is in the pass's trace`);
        assert.equal(child.parentSpanId, root.spanId, `${name} is a child of trigger_check`);
      }
      assert.equal(receiver.span('check_active_session').attributes['sessions.active'], 0);
      // It reads KTRDR's worker list for the utilization figures, and its health before starting a cycle: each
      // request a child of the pass.
      const routes = receiver.spans.filter((span) => span.name === 'ktrdr_request').map((span) => span.attributes['http.route']);
      assert.ok(routes.includes('/health'), `routes asked: ${routes.join(', ')}`);
      for (const span of receiver.spans.filter((s) => s.name === 'ktrdr_request')) assert.equal(span.parentSpanId, root.spanId);
    });
  });

  describe('telemetry endpoints that fail never fail the tick', () => {
    const home = tempDir('ktrdr-agent-home-');
    let database: Awaited<ReturnType<typeof createTestDatabase>>;

    before(async () => {
      database = await createTestDatabase();
    });
    after(async () => {
      await database.drop();
      home.remove();
    });

    test('both endpoints down (closed ports): the tick exit code is untouched and the failed push reported', { timeout: TEST_TIMEOUT_MS }, async () => {
      const env = tickEnv(home.path, database.url, {
        PUSHGATEWAY_URL: `http://127.0.0.1:${await closedPort()}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      });
      const result = await runCli(['tick'], env);
      assertTickSucceeded(result);
      assert.match(result.stderr, /"event":"metrics_push_failed"/);
    });

    test('both endpoints hang (accept, never answer): the tick exit code is untouched and the failed push reported', { timeout: TEST_TIMEOUT_MS }, async () => {
      const gateway = new HangingServer();
      const collector = new HangingServer();
      try {
        const env = tickEnv(home.path, database.url, { PUSHGATEWAY_URL: await gateway.start(), OTEL_EXPORTER_OTLP_ENDPOINT: await collector.start() });
        const result = await runCli(['tick'], env, { timeoutMs: TEST_TIMEOUT_MS - 30_000 });
        assertTickSucceeded(result);
        assert.match(result.stderr, /"event":"metrics_push_failed"/);
        assert.match(result.stderr, /timed out/);
      } finally {
        await gateway.stop();
        await collector.stop();
      }
    });
  });
});
