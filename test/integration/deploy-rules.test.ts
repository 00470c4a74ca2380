import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';

const PROMETHEUS_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const DASHBOARD = new URL('../../deploy/grafana/ktrdr-agent-dashboard.json', import.meta.url);

interface Run {
  code: number;
  output: string;
}

function promtool(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { cwd }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code === 'string') {
        reject(error.code === 'ENOENT' ? new Error("promtool is not installed: install it with 'apt-get install -y prometheus' (CI does)") : error);
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: `${stdout}${stderr}` });
    });
  });
}

describe('Prometheus rules in deploy/prometheus', () => {
  before(async () => {
    await promtool(['--version'], PROMETHEUS_DIR);
  });

  test('promtool check rules accepts alerts.yml', async () => {
    const run = await promtool(['check', 'rules', 'alerts.yml'], PROMETHEUS_DIR);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS: 6 rules found/);
  });

  test('promtool test rules passes alerts.test.yml (each alert firing and quiet)', async () => {
    const run = await promtool(['test', 'rules', 'alerts.test.yml'], PROMETHEUS_DIR);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  test('every dashboard query is valid PromQL', async () => {
    const dashboard = readFileSync(DASHBOARD, 'utf8');
    const exprs = [...dashboard.matchAll(/"expr": ("(?:[^"\\]|\\.)*")/g)].map((match) => JSON.parse(match[1] ?? '""') as string);
    assert.ok(exprs.length > 0);
    // Grafana variables replaced by values, each query checked as a recording rule.
    const rules = exprs.map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replaceAll('$instance', 'host-a').replaceAll('$tool', '.*'),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'ktrdr-dashboard-rules-'));
    try {
      writeFileSync(join(dir, 'dashboard.rules.yml'), stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
      const run = await promtool(['check', 'rules', 'dashboard.rules.yml'], dir);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
