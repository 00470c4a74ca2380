import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketLabel, bucketRange, bucketStart, bucketUnitFor } from '../../src/core/cli/views/report/buckets.ts';
import { niceTicks } from '../../src/core/cli/views/report/charts.ts';
import type { ReportData } from '../../src/core/cli/views/report/report-data.ts';
import { reportSections } from '../../src/core/cli/views/report/sections.ts';
import { renderReportHtml } from '../../src/core/cli/views/report-html.ts';

const at = (iso: string) => new Date(iso);

describe('report buckets', () => {
  test('a night reads by the hour, weeks by the day, a long study by the week or month', () => {
    assert.equal(bucketUnitFor(at('2026-01-15T22:00:00Z'), at('2026-01-16T07:00:00Z')), 'hour');
    assert.equal(bucketUnitFor(at('2026-01-01T00:00:00Z'), at('2026-01-21T00:00:00Z')), 'day');
    assert.equal(bucketUnitFor(at('2026-01-01T00:00:00Z'), at('2026-09-01T00:00:00Z')), 'week');
    assert.equal(bucketUnitFor(at('2022-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z')), 'month');
  });

  test('every bucket of the span, quiet ones included, starting where date_trunc starts them', () => {
    const hours = bucketRange(at('2026-01-15T22:40:00Z'), at('2026-01-16T01:05:00Z'), 'hour');
    assert.deepEqual(
      hours.map((h) => h.toISOString()),
      ['2026-01-15T22:00:00.000Z', '2026-01-15T23:00:00.000Z', '2026-01-16T00:00:00.000Z', '2026-01-16T01:00:00.000Z'],
    );
    // 2026-01-15 is a Thursday: its week starts on Monday the 12th, as PostgreSQL's date_trunc('week') has it.
    assert.equal(bucketStart(at('2026-01-15T12:00:00Z'), 'week').toISOString(), '2026-01-12T00:00:00.000Z');
    assert.equal(bucketStart(at('2026-01-18T23:59:00Z'), 'week').toISOString(), '2026-01-12T00:00:00.000Z');
    assert.equal(bucketRange(at('2026-01-31T00:00:00Z'), at('2026-03-02T00:00:00Z'), 'month').length, 3);
    assert.equal(bucketLabel(hours[0]!, 'hour', true), '15d 22h');
    assert.equal(bucketLabel(hours[0]!, 'hour', false), '22:00');
  });
});

describe('niceTicks', () => {
  test('a few cents of spend get ticks in digits that tell them apart', () => {
    const { ticks, digits } = niceTicks(0, 0.004);
    assert.equal(ticks[0], 0);
    assert.ok(ticks[ticks.length - 1]! >= 0.004);
    assert.equal(new Set(ticks.map((t) => t.toFixed(digits))).size, ticks.length);
  });

  test('round values covering the data, and whole numbers without decimals', () => {
    assert.deepEqual(niceTicks(0, 14), { ticks: [0, 5, 10, 15], digits: 0 });
    assert.deepEqual(niceTicks(0, 1), { ticks: [0, 0.25, 0.5, 0.75, 1], digits: 2 });
    const flat = niceTicks(0, 0);
    assert.ok(flat.ticks.length >= 2, 'a flat series still gets an axis');
  });
});

function emptyData(): ReportData {
  return {
    generatedAt: at('2026-01-16T08:00:00Z'),
    since: null,
    experimentCount: 0,
    span: null,
    cycles: [],
    buckets: { unit: 'day', rows: [] },
    ledgerSpendUsd: 0,
    gateFailures: [],
    designers: [],
    top: [],
    topDetails: [],
    recent: [],
    hypotheses: [],
    dsrNow: new Map(),
  };
}

describe('report sections', () => {
  test('each has its own id and title, and says "Nothing yet" with nothing to show', () => {
    const ids = reportSections.map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, 'unique anchors');
    for (const section of reportSections) {
      if (section.load) continue;
      assert.match(section.render(emptyData(), undefined), /Nothing yet/, section.id);
    }
  });

  test('the page draws the sections in order, each under its heading, with a contents line linking them', () => {
    const html = renderReportHtml({
      data: emptyData(),
      sections: [
        { section: { id: 'first', title: 'First <one>', render: () => '<p>one</p>' }, own: undefined },
        { section: { id: 'second', title: 'Second', render: (_data, own) => `<p>${String(own)}</p>`, style: '.second{color:red}' }, own: 'its own data' },
      ],
    });
    assert.match(html, /<a href="#first">First &lt;one&gt;<\/a><a href="#second">Second<\/a>/);
    assert.match(
      html,
      /<section id="first"><h2>First &lt;one&gt;<\/h2><p>one<\/p><\/section>\n<section id="second"><h2>Second<\/h2><p>its own data<\/p><\/section>/,
    );
    assert.match(html, /\.second\{color:red\}/);
    assert.doesNotMatch(html, /<script/);
  });
});
