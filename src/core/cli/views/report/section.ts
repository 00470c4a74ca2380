// What a report section is: a title, an anchor, and a pure function from data to HTML. A section that needs data
// the shared read does not hold reads it in `load` (given the store and the report's window), so rendering stays
// pure and testable without a database.
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/database-schema.ts';
import type { ReportData } from './report-data.ts';

export interface ReportContext {
  db: Kysely<Database>;
  now: Date;
  /** The report's window: only experiments finished since then (null: all of them). */
  since: Date | null;
}

export interface ReportSection<Own = undefined> {
  /** The section's HTML id (its anchor in the contents); lower-case words joined by hyphens. */
  id: string;
  title: string;
  /** Reads the section's own data; omit it when the shared ReportData is enough. */
  load?: (context: ReportContext) => Promise<Own>;
  /** The section's body (the <section> and its <h2> are drawn around it). Escape every text with escapeHtml. */
  render: (report: ReportData, own: Own) => string;
  /** CSS the section needs beyond the page's shared classes. */
  style?: string;
}

/** Lets sections with different `Own` types share one list, each still type-checked against its own. */
export function defineSection<Own = undefined>(section: ReportSection<Own>): ReportSection<unknown> {
  return section as ReportSection<unknown>;
}
