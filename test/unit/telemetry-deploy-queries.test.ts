import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { buildRegistry } from '../../src/core/telemetry/metrics.ts';
import { emptyMetricsSnapshot } from '../support/metrics.ts';

const DASHBOARD = new URL('../../deploy/grafana/ktrdr-agent-dashboard.json', import.meta.url);
const ALERTS = new URL('../../deploy/prometheus/alerts.yml', import.meta.url);

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression selects: identifiers that are not functions, keywords, labels or durations. */
function metricNamesIn(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = stripped.slice((match.index ?? 0) + match[0].length).trimStart();
    if (rest.startsWith('(') || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return names;
}

/** Every series name the registry exposes: histograms as _bucket, _sum and _count. */
function exposedSeriesNames(): Map<string, string> {
  const family = new Map<string, string>();
  for (const metric of buildRegistry(emptyMetricsSnapshot()).getMetricsAsArray()) {
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) family.set(metric.name + suffix, metric.name);
    } else {
      family.set(metric.name, metric.name);
    }
  }
  return family;
}

function dashboardQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: unknown[];
    templating: { list: { name: string; query: string | { query: string } }[] };
  };
  const queries: { where: string; expr: string }[] = [];
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((child) => visit(child, where));
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      const title = typeof record['title'] === 'string' ? record['title'] : where;
      if (typeof record['expr'] === 'string') queries.push({ where: `panel "${title}"`, expr: record['expr'] });
      for (const [key, child] of Object.entries(record)) if (key !== 'expr') visit(child, title);
    }
  };
  visit(dashboard.panels, 'dashboard');
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const selector = /^label_values\((.*),\s*\w+\)$/.exec(query)?.[1];
    assert.ok(selector, `variable ${variable.name}: expected label_values(<selector>, <label>), got ${query}`);
    queries.push({ where: `variable $${variable.name}`, expr: selector });
  }
  return queries;
}

function alertQueries(): { where: string; expr: string }[] {
  const rules = parseYaml(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })));
}

describe('dashboard and alert queries use only metrics that metrics.ts emits', () => {
  test('the PromQL name extraction finds metrics and skips functions, labels and keywords', () => {
    assert.deepEqual(
      [...metricNamesIn('histogram_quantile(0.95, sum by (phase, le) (increase(agent_x_bucket{a="b c"}[7d]))) / on (job) agent_y and time() - 6 * 1e3')].sort(),
      ['agent_x_bucket', 'agent_y'],
    );
  });

  test('every dashboard query selects registered series only', () => {
    const exposed = exposedSeriesNames();
    const queries = dashboardQueries();
    assert.ok(queries.length >= 20, `only ${queries.length} queries found in the dashboard`);
    for (const { where, expr } of queries) {
      const names = metricNamesIn(expr);
      assert.ok(names.size > 0, `${where}: no metric found in ${expr}`);
      for (const name of names) assert.ok(exposed.has(name), `${where} queries ${name}, which metrics.ts does not emit`);
    }
  });

  test('every alert rule selects registered series only', () => {
    const exposed = exposedSeriesNames();
    const queries = alertQueries();
    assert.equal(queries.length, 6);
    for (const { where, expr } of queries) {
      const names = metricNamesIn(expr);
      assert.ok(names.size > 0, `${where}: no metric found in ${expr}`);
      for (const name of names) assert.ok(exposed.has(name), `${where} queries ${name}, which metrics.ts does not emit`);
    }
  });

  test('every metric family appears on the dashboard', () => {
    const exposed = exposedSeriesNames();
    const shown = new Set(dashboardQueries().flatMap(({ expr }) => [...metricNamesIn(expr)].map((name) => exposed.get(name))));
    for (const family of new Set(exposed.values())) assert.ok(shown.has(family), `${family} is on no dashboard panel`);
  });

  test('the dashboard asks for a Prometheus datasource on import', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      schemaVersion: number;
      __inputs: { name: string; pluginId: string }[];
      panels: { datasource?: { uid: string } }[];
    };
    assert.ok(dashboard.schemaVersion >= 39);
    assert.deepEqual(
      dashboard.__inputs.map((input) => [input.name, input.pluginId]),
      [['DS_PROMETHEUS', 'prometheus']],
    );
    for (const panel of dashboard.panels) {
      if (panel.datasource !== undefined) assert.equal(panel.datasource.uid, '${DS_PROMETHEUS}');
    }
  });
});
