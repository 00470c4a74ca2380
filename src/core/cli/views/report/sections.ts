// The report's sections, in page order. To add one: write `section-<name>.ts` exporting `defineSection({...})`
// (see section.ts and docs/report.md), import it here, and put it in this list.
import { activitySection } from './section-activity.ts';
import { designersSection } from './section-designers.ts';
import { experimentsSection } from './section-experiments.ts';
import { heldUpSection } from './section-held-up.ts';
import { hypothesesSection } from './section-hypotheses.ts';
import { progressSection } from './section-progress.ts';
import { searchSection } from './section-search.ts';
import { summarySection } from './section-summary.ts';
import { topSection } from './section-top.ts';
import { trialsSection } from './section-trials.ts';
import type { ReportSection } from './section.ts';

export const reportSections: readonly ReportSection<unknown>[] = [
  // First (issue #20): what held up once selection among many trials is paid for.
  heldUpSection,
  summarySection,
  progressSection,
  activitySection,
  designersSection,
  trialsSection,
  topSection,
  experimentsSection,
  hypothesesSection,
  searchSection,
];
