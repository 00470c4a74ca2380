import { cell, emptyState, scrollTable } from './html.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';

function render(report: ReportData): string {
  if (report.hypotheses.length === 0) {
    return emptyState(
      'Nothing yet: no hypothesis has been recorded. The designer proposes them as it assesses results; add your own with `ktrdr-agent hypotheses add "<text>"`.',
    );
  }
  const rows = report.hypotheses.map(
    (h) =>
      `<tr>${cell(`H${h.id}`)}${cell(h.retiredAt ? 'retired' : h.status)}${cell(h.text)}${cell(h.source)}${cell(h.proposedByExperimentId === null ? null : `#${h.proposedByExperimentId}`)}</tr>`,
  );
  return scrollTable('hypotheses', ['id', 'status', 'text', 'source', 'proposed by'], rows);
}

export const hypothesesSection = defineSection({ id: 'hypotheses', title: 'Hypotheses', render });
