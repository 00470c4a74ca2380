import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Gauge, Registry } from 'prom-client';
import { buildRegistry } from '../../src/core/telemetry/metrics.ts';
import { emptyMetricsSnapshot } from '../support/metrics.ts';
import type { MetricsSnapshot } from '../../src/core/telemetry/metrics.ts';
import { groupingKeyPath, pushMetrics } from '../../src/core/telemetry/push.ts';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.ts';
import { freePort } from '../support/ports.ts';

const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';
const JOB = 'ktrdr_agent';
const INSTANCE = 'tick-host-1';

async function waitUntilReady(url: string, gateway: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (gateway.exitCode !== null) throw new Error(`pushgateway exited with ${gateway.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`pushgateway at ${url} did not become ready within 15 s:\n${output()}`);
}

function snapshotWithTotals(cycles: number, costUsd: number, remainingUsd: number): MetricsSnapshot {
  return {
    ...emptyMetricsSnapshot(),
    cycles: [
      { outcome: 'success', count: cycles },
      { outcome: 'failed_training_gate', count: 2 },
    ],
    tokens: [{ direction: 'input', count: cycles * 1000 }],
    costUsdTotal: costUsd,
    budgetRemainingUsd: remainingUsd,
    activeSessions: [{ phase: 'training', count: 1 }],
    tickLastSuccessUnixSeconds: 1_750_000_000 + cycles,
  };
}

describe('pushing metrics to a real Pushgateway', () => {
  let gateway: ChildProcess;
  let gatewayUrl: string;
  let workDir: string;
  let gatewayOutput = '';

  before(async () => {
    if (!existsSync(PUSHGATEWAY_BIN)) {
      throw new Error(`${PUSHGATEWAY_BIN} is missing: install it with 'apt-get install -y prometheus-pushgateway'`);
    }
    workDir = mkdtempSync(join(tmpdir(), 'ktrdr-pushgateway-'));
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    gateway = spawn(PUSHGATEWAY_BIN, [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(workDir, 'metrics.store')}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout?.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    gateway.stderr?.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    await waitUntilReady(gatewayUrl, gateway, () => gatewayOutput);
  });

  after(async () => {
    if (gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    rmSync(workDir, { recursive: true, force: true });
  });

  test('the latest push replaces the group: values are the database totals with job and instance labels', async () => {
    const first = await pushMetrics({
      url: gatewayUrl,
      job: JOB,
      instance: INSTANCE,
      registry: buildRegistry(snapshotWithTotals(10, 12.5, 4)),
      timeoutMs: 5000,
    });
    assert.deepEqual(first, { ok: true });
    const second = await pushMetrics({
      url: `${gatewayUrl}/`,
      job: JOB,
      instance: INSTANCE,
      registry: buildRegistry({ ...snapshotWithTotals(11, 13.75, 2.5), activeSessions: [] }),
      timeoutMs: 5000,
    });
    assert.deepEqual(second, { ok: true });

    const response = await fetch(`${gatewayUrl}/metrics`);
    assert.equal(response.status, 200);
    const samples = parsePrometheusText(await response.text());
    const group = { job: JOB, instance: INSTANCE };
    assert.equal(sampleValue(samples, 'agent_cycle_total', { ...group, outcome: 'success' }), 11);
    assert.equal(sampleValue(samples, 'agent_cycle_total', { ...group, outcome: 'failed_training_gate' }), 2);
    assert.equal(sampleValue(samples, 'agent_tokens_total', { ...group, direction: 'input' }), 11000);
    assert.equal(sampleValue(samples, 'agent_cost_usd_total', group), 13.75);
    assert.equal(sampleValue(samples, 'agent_budget_remaining_usd', group), 2.5);
    assert.equal(sampleValue(samples, 'agent_tick_last_success_timestamp_seconds', group), 1_750_000_011);
    assert.equal(sampleValue(samples, 'agent_cycle_duration_seconds_bucket', { ...group, le: '+Inf' }), 0);
    // PUT replaced the whole group, so the series missing from the second push is gone.
    assert.equal(samples.filter((s) => s.name === 'agent_active_sessions').length, 0);
    assert.ok(samples.some((s) => s.name === 'push_time_seconds' && s.labels['instance'] === INSTANCE));
  });

  test('an instance with a slash goes through the base64 grouping key', async () => {
    const instance = 'cluster/a';
    const result = await pushMetrics({
      url: gatewayUrl,
      job: JOB,
      instance,
      registry: buildRegistry(snapshotWithTotals(3, 1, 1)),
      timeoutMs: 5000,
    });
    assert.deepEqual(result, { ok: true });
    const samples = parsePrometheusText(await (await fetch(`${gatewayUrl}/metrics`)).text());
    assert.equal(sampleValue(samples, 'agent_cycle_total', { job: JOB, instance, outcome: 'success' }), 3);
    assert.equal(groupingKeyPath('instance', ''), 'instance@base64/=');
  });

  test('a rejected push is reported with the gateway status, not thrown', async () => {
    // The same name with another type than in the group pushed earlier: the Pushgateway refuses it.
    const registry = new Registry();
    new Gauge({ name: 'agent_cycle_total', help: 'conflicting type', registers: [registry] }).set(1);
    const result = await pushMetrics({ url: gatewayUrl, job: JOB, instance: 'other-host', registry, timeoutMs: 5000 });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.error : '', /HTTP 400/);
  });

  test('a closed port yields ok:false', async () => {
    const port = await freePort();
    const result = await pushMetrics({
      url: `http://127.0.0.1:${port}`,
      job: JOB,
      instance: INSTANCE,
      registry: buildRegistry(emptyMetricsSnapshot()),
      timeoutMs: 2000,
    });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.error : '', /ECONNREFUSED/);
  });

  test('a server that never answers yields ok:false once the timeout passes', async () => {
    const hanging: Server = createServer(() => {
      // Accept the request and never respond.
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      const result = await pushMetrics({
        url: `http://user:s3cret-password@127.0.0.1:${port}`,
        job: JOB,
        instance: INSTANCE,
        registry: buildRegistry(emptyMetricsSnapshot()),
        timeoutMs: 300,
      });
      assert.equal(result.ok, false);
      const error = !result.ok ? result.error : '';
      assert.match(error, /timed out after 300 ms/);
      assert.doesNotMatch(error, /s3cret/);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  test('an unparsable URL yields ok:false', async () => {
    const result = await pushMetrics({
      url: 'not a url',
      job: JOB,
      instance: INSTANCE,
      registry: buildRegistry(emptyMetricsSnapshot()),
      timeoutMs: 1000,
    });
    assert.equal(result.ok, false);
  });
});
