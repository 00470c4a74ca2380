// `report` through the built CLI, opened in a real headless browser (Debian's chromium through playwright-core):
// the charts drew (SVG paths with real geometry), at 1280 and 390 px no legend covers a plot and nothing runs off
// the page, the tables hold the expected rows, hostile text stayed text, the page asked for nothing over the
// network, and an empty memory says "nothing yet" everywhere.
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
import { dressForReport } from '../support/seed-report.ts';

const CHROMIUM = '/usr/bin/chromium';
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

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
    await dressForReport(store.db);
    await store.db
      .insertInto('agent_budget')
      .values([
        { date: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), budget_limit_usd: 5, budget_used_usd: 1.25 },
        { date: new Date().toISOString().slice(0, 10), budget_limit_usd: 5, budget_used_usd: 0.5 },
      ])
      .execute();
    const validated = await addHypothesis(store.db, {
      text: 'MFI with RSI passes both gates on majors',
      rationale: null,
      source: 'model',
      proposedByExperimentId: 3,
      via: 'save_assessment',
      now: new Date(),
    });
    await setHypothesisStatus(store.db, validated.id, {
      status: 'validated',
      evidence: 'three passes',
      experimentId: 5,
      via: 'promotion',
      now: new Date(),
    });
    await addHypothesis(store.db, {
      text: `Hostile ${hostile}`,
      rationale: null,
      source: 'operator',
      proposedByExperimentId: null,
      via: 'operator',
      now: new Date(),
    });
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

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) requests.push(request.url());
    });
    await page.goto(`file://${out}`);

    for (const chart of ['chart-best', 'chart-outcomes', 'chart-spend', 'chart-designers']) {
      const drawn = await page.$$eval(`#${chart} path`, (paths) =>
        paths.map((p) => {
          const box = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return { d: p.getAttribute('d') ?? '', area: box.width * Math.max(box.height, 1) };
        }),
      );
      assert.ok(drawn.length > 0, `${chart} has no path`);
      assert.ok(
        drawn.some((p) => p.d.length > 10 && p.area > 10),
        `${chart} drew nothing visible: ${JSON.stringify(drawn.slice(0, 3))}`,
      );
    }
    const bestLine = await page.$eval('#chart-best path.series', (p) => p.getAttribute('d')!.split(/[ML]/).filter(Boolean).length);
    assert.ok(bestLine > 10, `the best-so-far curve has ${bestLine} points`);

    // The DSR, a probability, has its own 0..1 axis; the best score (a Sharpe ratio) has another.
    const dsrTicks = await page.$$eval('#chart-dsr text.tick[text-anchor="end"]', (ticks) => ticks.map((t) => Number(t.textContent)));
    assert.equal(Math.min(...dsrTicks), 0);
    assert.equal(Math.max(...dsrTicks), 1);
    assert.equal(await page.$$eval('#chart-dsr circle', (dots) => dots.length), 30, 'one dot per backtested experiment');
    const bestTicks = await page.$$eval('#chart-best text.tick[text-anchor="end"]', (ticks) => ticks.map((t) => Number(t.textContent)));
    assert.ok(Math.max(...bestTicks) >= 2, `the best score's axis reaches its best (2.0): ${bestTicks.join(', ')}`);

    // Five hours of five-minute cycles: buckets by the hour, not one bar for the day.
    assert.equal(await page.$eval('#fig-outcomes figcaption', (c) => c.textContent), 'Outcomes per hour');
    const columns = await page.$$eval('#chart-outcomes path.bar', (bars) => new Set(bars.map((b) => b.getAttribute('d')!.split(',')[0])).size);
    assert.ok(columns >= 5, `outcomes in ${columns} hourly columns`);
    // Spend is a few cents: the axis shows them rather than 0.00 three times.
    const spendTicks = await page.$$eval('#chart-spend text.tick[text-anchor="end"]', (ticks) => ticks.map((t) => t.textContent));
    assert.equal(new Set(spendTicks).size, spendTicks.length, `distinct spend ticks: ${spendTicks.join(', ')}`);

    const top = await page.$$eval('#top-experiments tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
    // 15 of the 60 seeded experiments passed both gates: all of them fit in the top 20.
    assert.equal(top.length, 15);
    const scores = top.map((r) => Number(r[4]));
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'top experiments by score, best first',
    );
    // The DSR shown is the family's now, with its trial count; one line per family states the search-wide numbers.
    assert.ok(
      top.every((r) => /^\d\.\d\d \(\d+ trials\)$/.test(r[5] ?? '')),
      `DSR cells: ${top.map((r) => r[5]).join(', ')}`,
    );
    const families = await page.$$eval('#family-trials li', (items) => items.map((li) => li.textContent ?? ''));
    assert.equal(families.length, 3, families.join('\n'));
    for (const line of families)
      assert.match(
        line,
        /^(EURUSD|GBPUSD|USDJPY) 1h: \d+ trials; the best of \d+ no-edge trials would be expected to reach Sharpe \d\.\d\d; best found -?\d\.\d\d \(#\d+\)/,
      );
    const familyBox = await page.$eval('#family-trials', (el) => el.getBoundingClientRect().height);
    assert.ok(familyBox > 20, `the family lines take space on the page (${familyBox}px)`);
    // The first five have a section each, linked from the table, with design, gates, assessment, hypothesis, lineage.
    const links = await page.$$eval('#top-experiments a', (anchors) => anchors.map((a) => a.getAttribute('href')));
    assert.equal(links.length, 5);
    for (const link of links) {
      const headings = await page.$$eval(`${link} h4`, (hs) => hs.map((h) => h.textContent));
      assert.deepEqual(headings, ['Design', 'Results', 'Gates', 'Assessment', 'Hypothesis', 'Lineage'], link!);
    }
    assert.match(await page.$eval(links[0]!, (a) => a.textContent!), /Training gate: passed[\s\S]*max_drawdown[\s\S]*promising/);

    // Every experiment, failures included, with its windows, trades, return and drawdown.
    const all = await page.$$eval('#all-experiments tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((c) => (c as unknown as { innerText: string }).innerText)),
    );
    assert.equal(all.length, 60);
    assert.ok(all.some((r) => r[5] === 'failed_training_gate'));
    const backtested = all.find((r) => r[5] === 'failed_backtest_gate')!;
    assert.equal(backtested[4], '2020-01-01 → 2024-01-01\n2024-01-02 → 2025-01-01', 'the training and the backtest window');
    assert.match(`${backtested[6]} ${backtested[7]} ${backtested[8]}`, /^\d+ -?\d+\.\d% \d+\.\d%$/);
    assert.match(backtested[10] ?? '', /^\d\.\d\d \(\d+ trials\)$/, 'the DSR over the family now, with its count');

    // The designer in use beside the control arm.
    const designers = await page.$$eval('#designers tbody tr', (rows) => rows.map((r) => r.querySelector('td')!.textContent));
    assert.deepEqual(designers, ['baseline (control)', 'claude']);

    const hypotheses = await page.$$eval('#hypotheses tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
    assert.equal(hypotheses.length, 2);
    assert.deepEqual(hypotheses.map((r) => r[1]).sort(), ['untested', 'validated']);
    assert.ok(
      hypotheses.some((r) => r[2] === `Hostile ${hostile}`),
      'hostile text shown as text',
    );
    assert.notEqual(await page.title(), 'pwned');
    assert.equal(await page.$$eval('img', (imgs) => imgs.length), 0);

    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const shot = join(work.path, `report-${width}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 20_000, 'the screenshot has content');
      // Evaluated in the page (a string, so the test compiles without the DOM's types).
      const layout = (await page.evaluate(`(() => {
        const box = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
        return {
          pageWidth: document.documentElement.scrollWidth,
          plots: [...document.querySelectorAll('svg.plot')].map((p) => ({ id: p.id, ...box(p) })),
          legends: [...document.querySelectorAll('.legend')].map((l) => ({ figure: l.closest('figure').id, ...box(l) })),
        };
      })()`)) as { pageWidth: number; plots: ({ id: string } & Box)[]; legends: ({ figure: string } & Box)[] };
      assert.ok(layout.pageWidth <= width, `at ${width}px the page scrolls sideways (${layout.pageWidth}px)`);
      assert.equal(layout.plots.length, 5);
      for (const plot of layout.plots) {
        assert.ok(plot.width >= Math.min(300, width - 80) && plot.height >= 100, `at ${width}px ${plot.id} is ${plot.width}×${plot.height}`);
        assert.ok(plot.right <= width, `at ${width}px ${plot.id} runs off the page`);
      }
      assert.ok(layout.legends.length >= 5);
      for (const legend of layout.legends) {
        assert.ok(legend.width > 0 && legend.height > 0, `legend of ${legend.figure} is drawn`);
        for (const plot of layout.plots) {
          const overlap = legend.left < plot.right && plot.left < legend.right && legend.top < plot.bottom && plot.top < legend.bottom;
          assert.ok(!overlap, `at ${width}px the legend of ${legend.figure} overlaps ${plot.id}: ${JSON.stringify({ legend, plot })}`);
        }
      }
    }
    assert.deepEqual(requests, []);
    await page.close();
  });

  test('an empty memory: every section says nothing yet, and no chart draws an empty axis', async () => {
    const empty = await createTestDatabase();
    try {
      const emptyOut = join(work.path, 'empty.html');
      const result = await runCli(['report', '--out', emptyOut], { HOME: work.path, DATABASE_URL: empty.url });
      assert.equal(result.code, 0, result.stderr);
      const page = await browser.newPage({ viewport: { width: 390, height: 800 } });
      await page.goto(`file://${emptyOut}`);
      const sections = await page.$$eval('section', (all) => all.map((s) => ({ id: s.id, text: s.textContent ?? '' })));
      assert.ok(sections.length >= 7);
      for (const section of sections) assert.match(section.text, /Nothing yet/, `section ${section.id}`);
      assert.equal(await page.$$eval('svg', (svgs) => svgs.length), 0);
      assert.match(await page.$eval('#hypotheses', (s) => s.textContent!), /ktrdr-agent hypotheses add/);
      await page.close();
    } finally {
      await empty.drop();
    }
  });

  test('an unwritable --out is a clear error with exit 1', async () => {
    const result = await runCli(['report', '--out', join(work.path, 'missing-dir', 'r.html')], { HOME: work.path, DATABASE_URL: database.url });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot write the report to .*ENOENT.*Pass --out with a writable path/);
  });
});
