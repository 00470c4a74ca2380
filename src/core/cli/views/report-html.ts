// `report`: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched at view time). The page is
// a list of sections (report/sections.ts), each a pure function from data to HTML in a file of its own: the shared
// data is read once (report/report-data.ts), each section may read its own, then the page is rendered.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { escapeHtml, isoMinute } from './report/html.ts';
import { readReportData, type ReportData } from './report/report-data.ts';
import { reportStyle } from './report/report-style.ts';
import type { ReportContext, ReportSection } from './report/section.ts';
import { reportSections } from './report/sections.ts';

export { escapeHtml } from './report/html.ts';
export type { ReportData } from './report/report-data.ts';

export interface Report {
  data: ReportData;
  sections: { section: ReportSection<unknown>; own: unknown }[];
}

export async function readReport(
  db: Kysely<Database>,
  options: { now: Date; since: Date | null },
  sections: readonly ReportSection<unknown>[] = reportSections,
): Promise<Report> {
  const data = await readReportData(db, options);
  const context: ReportContext = { db, now: options.now, since: options.since };
  const loaded: Report['sections'] = [];
  // One after another: PGlite has one connection, and a section's read is small.
  for (const section of sections) loaded.push({ section, own: section.load ? await section.load(context) : undefined });
  return { data, sections: loaded };
}

export function renderReportHtml(report: Report): string {
  const { data } = report;
  const title = `ktrdr-agent research report — ${isoMinute(data.generatedAt)}`;
  const window = data.since ? `Experiments finished since ${isoMinute(data.since)}.` : 'Every experiment in the memory.';
  const contents = report.sections.map(({ section }) => `<a href="#${section.id}">${escapeHtml(section.title)}</a>`).join('');
  const body = report.sections
    .map(({ section, own }) => `<section id="${section.id}"><h2>${escapeHtml(section.title)}</h2>${section.render(data, own)}</section>`)
    .join('\n');
  const styles = [reportStyle, ...new Set(report.sections.map(({ section }) => section.style).filter((s): s is string => Boolean(s)))].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${styles}</style></head><body>
<header><h1>${escapeHtml(title)}</h1><p class="note">${escapeHtml(window)}</p><nav class="contents">${contents}</nav></header>
${body}
</body></html>
`;
}
