// `report` figures for `npm run bench -- --only=report`: reading and rendering the HTML report as the memory grows
// (median of several runs, the page's size, the bucket its charts chose).
import { readReport, renderReportHtml } from '../src/core/cli/views/report-html.ts';
import { openStore } from '../src/core/db/connect.ts';
import { createTestDatabase } from '../test/support/databases.ts';
import { seedExperiments } from '../test/support/seed-experiments.ts';
import { dressForReport } from '../test/support/seed-report.ts';
import type { BenchHelpers } from './research.ts';

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function reportBench(helpers: Pick<BenchHelpers, 'results' | 'table'>, options: { sizes: number[]; runs: number }): Promise<void> {
  const rows: (string | number)[][] = [];
  const figures: Record<string, unknown>[] = [];
  for (const size of options.sizes) {
    const database = await createTestDatabase('ktrdr_agent_bench_report');
    const store = await openStore({ kind: 'postgres', url: database.url });
    try {
      await seedExperiments(store.db, size, { now: new Date() });
      await dressForReport(store.db);
      const read: number[] = [];
      const render: number[] = [];
      let bytes = 0;
      let unit = '';
      for (let run = 0; run < options.runs; run++) {
        const started = performance.now();
        const report = await readReport(store.db, { now: new Date(), since: null });
        const readDone = performance.now();
        bytes = Buffer.byteLength(renderReportHtml(report));
        render.push(performance.now() - readDone);
        read.push(readDone - started);
        unit = report.data.buckets.unit;
      }
      const figure = {
        experiments: size,
        runs: options.runs,
        readMs: round(median(read), 0),
        renderMs: round(median(render), 1),
        kib: round(bytes / 1024, 0),
        bucket: unit,
      };
      figures.push(figure);
      rows.push([size, figure.readMs, figure.renderMs, figure.kib, unit]);
    } finally {
      await store.close();
      await database.drop();
    }
  }
  helpers.results.report = figures;
  helpers.table(
    `report (PostgreSQL; median of ${options.runs} runs; seeded experiments five minutes apart)`,
    ['experiments', 'read ms', 'render ms', 'KiB', 'bucket'],
    rows,
  );
}
