// The report's "Strategies that held up" section through the built CLI, opened in headless chromium like the rest
// of the report: it is the first section, its tables lay out with real geometry (rows visible, in the viewport's
// width), the search, robustness and lockbox Sharpe sit side by side, and the page asks for nothing over the network.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { seedExperiments } from '../support/seed-experiments.ts';
import { seedPromotions } from '../support/seed-promotions.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('report: strategies that held up (built CLI, headless chromium)', () => {
  const work = tempDir('ktrdr-agent-report-held-up-');
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let browser: Browser;
  let seeded: Awaited<ReturnType<typeof seedPromotions>>;
  const out = join(work.path, 'report.html');

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    database = await createTestDatabase();
    store = await openStore({ kind: 'postgres', url: database.url });
    await seedExperiments(store.db, 40, { now: new Date() });
    seeded = await seedPromotions(store.db);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    await store.close();
    await database.drop();
    work.remove();
  });

  test("comes first, with each promotion's search, robustness and lockbox Sharpe, and a link to the trials per family (shown once, in their own section)", async () => {
    const result = await runCli(['report', '--out', out], { HOME: work.path, DATABASE_URL: database.url });
    assert.equal(result.code, 0, result.stderr);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const requests: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) requests.push(request.url());
    });
    await page.goto(`file://${out}`);

    const headings = await page.$$eval('h2', (nodes) => nodes.map((n) => n.textContent));
    assert.equal(headings[0], 'Strategies that held up');
    const rows = await page.$$eval('#held-up tbody tr', (trs) => trs.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
    assert.equal(rows.length, 2 + seeded.pending.length);
    // Promoted first, then pending, then rejected; the columns: id, strategy, market, promotion, search, robustness, lockbox, PSR.
    assert.deepEqual(rows[0]!.slice(0, 1).concat(rows[0]!.slice(3, 4), rows[0]!.slice(5, 8)), [
      `#${seeded.promoted}`,
      'promoted',
      '0.60 / 0.40',
      '0.50',
      '0.950',
    ]);
    assert.equal(rows.at(-1)![0], `#${seeded.rejected}`);
    assert.equal(rows.at(-1)![3], 'rejected');
    assert.ok(rows.slice(1, -1).every((r) => r[3] === 'pending' && r[6] === '—'));
    // Trials per family are shown once, in their own section; this one links to it.
    assert.equal(await page.locator('#strategies-that-held-up a[href="#trials"]').count(), 1);
    assert.equal(await page.locator('#held-up-families').count(), 0);
    const families = await page.$$eval('#family-trials li', (items) => items.map((li) => li.textContent ?? ''));
    assert.deepEqual(families.map((line) => line.split(':')[0]).sort(), ['EURUSD 1h', 'GBPUSD 1h', 'USDJPY 1h']);
    assert.ok(
      families.every((line) => /: [1-9]\d* trials?; /.test(line)),
      JSON.stringify(families),
    );

    for (const selector of ['#held-up', '#strategies-that-held-up']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box && box.width > 300 && box.width <= 1400 && box.height > 20, `${selector} laid out: ${JSON.stringify(box)}`);
    }
    const first = await page.locator('#held-up tbody tr').first().boundingBox();
    const summary = await page.locator('section#summary').boundingBox();
    assert.ok(first && summary && first.y < summary.y, 'the section sits above the summary');
    assert.deepEqual(requests, []);
    await page.close();
  });
});
