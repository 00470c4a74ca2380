// `report` through the built CLI, opened in a real headless browser (Debian's chromium through playwright-core):
// the charts drew (SVG paths with real geometry), the tables hold the expected rows, hostile text stayed text, and
// the page asked for nothing over the network.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { addHypothesis, setHypothesisStatus } from '../../src/core/db/repositories/hypotheses.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { seedExperiments } from '../support/seed-experiments.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('report (built CLI, headless chromium)', () => {
  const work = tempDir('ktrdr-agent-report-');
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let browser: Browser;
  const out = join(work.path, 'report.html');
  const hostile = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>';

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    database = await createTestDatabase();
    store = await openStore({ kind: 'postgres', url: database.url });
    await seedExperiments(store.db, 60, { now: new Date() });
    await store.db.insertInto('agent_budget').values([
      { date: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), budget_limit_usd: 5, budget_used_usd: 1.25 },
      { date: new Date().toISOString().slice(0, 10), budget_limit_usd: 5, budget_used_usd: 0.5 },
    ]).execute();
    const validated = await addHypothesis(store.db, { text: 'MFI with RSI passes both gates on majors', rationale: null, source: 'model', proposedByExperimentId: 3, via: 'save_assessment', now: new Date() });
    await setHypothesisStatus(store.db, validated.id, { status: 'validated', evidence: 'three passes', experimentId: 5, via: 'save_assessment', now: new Date() });
    await addHypothesis(store.db, { text: `Hostile ${hostile}`, rationale: null, source: 'operator', proposedByExperimentId: null, via: 'operator', now: new Date() });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    await store.close();
    await database.drop();
    work.remove();
  });

  test('writes one self-contained file whose charts draw and whose tables hold the rows', async () => {
    const result = await runCli(['report', '--out', out], { HOME: work.path, DATABASE_URL: database.url });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Wrote .*report\.html: 60 experiments, 15 in the top table, 2 hypotheses/, JSON.stringify(result));
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/i, 'no script, no remote resource');

    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const requests: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) requests.push(request.url());
    });
    await page.goto(`file://${out}`);
    const shot = join(work.path, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000, 'the screenshot has content');

    for (const chart of ['chart-best', 'chart-outcomes', 'chart-spend', 'chart-gates']) {
      const drawn = await page.$$eval(`#${chart} path`, (paths) =>
        paths.map((p) => {
          const box = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return { d: p.getAttribute('d') ?? '', area: box.width * Math.max(box.height, 1) };
        }),
      );
      assert.ok(drawn.length > 0, `${chart} has no path`);
      assert.ok(drawn.some((p) => p.d.length > 10 && p.area > 10), `${chart} drew nothing visible: ${JSON.stringify(drawn.slice(0, 3))}`);
    }
    const bestLine = await page.$eval('#chart-best path.best', (p) => p.getAttribute('d')!.split(/[ML]/).filter(Boolean).length);
    assert.ok(bestLine > 10, `the best-so-far curve has ${bestLine} points`);

    const top = await page.$$eval('#top-experiments tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
    // 15 of the 60 seeded experiments passed both gates: all of them fit in the top 20.
    assert.equal(top.length, 15);
    const scores = top.map((r) => Number(r[5]));
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'top experiments by score, best first');
    // The DSR shown is the family's now, with its trial count; one line per family states the search-wide numbers.
    assert.ok(top.every((r) => /^\d\.\d\d \(\d+ trials\)$/.test(r[7] ?? '')), `DSR cells: ${top.map((r) => r[7]).join(', ')}`);
    const families = await page.$$eval('#family-trials li', (items) => items.map((li) => li.textContent ?? ''));
    assert.equal(families.length, 3, families.join('\n'));
    for (const line of families) assert.match(line, /^(EURUSD|GBPUSD|USDJPY) 1h: \d+ trials; the best of \d+ no-edge trials would be expected to reach Sharpe \d\.\d\d; best found -?\d\.\d\d \(#\d+\)/);
    const familyBox = await page.$eval('#family-trials', (el) => el.getBoundingClientRect().height);
    assert.ok(familyBox > 20, `the family lines take space on the page (${familyBox}px)`);
    const hypotheses = await page.$$eval('#hypotheses tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
    assert.equal(hypotheses.length, 2);
    assert.deepEqual(hypotheses.map((r) => r[1]).sort(), ['untested', 'validated']);
    assert.ok(hypotheses.some((r) => r[2] === `Hostile ${hostile}`), 'hostile text shown as text');
    assert.notEqual(await page.title(), 'pwned');
    assert.equal(await page.$$eval('img', (imgs) => imgs.length), 0);
    assert.deepEqual(requests, []);
    await page.close();
  });

  test('an unwritable --out is a clear error with exit 1', async () => {
    const result = await runCli(['report', '--out', join(work.path, 'missing-dir', 'r.html')], { HOME: work.path, DATABASE_URL: database.url });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot write the report to .*ENOENT.*Pass --out with a writable path/);
  });
});
