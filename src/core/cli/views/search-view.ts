// The search policy's figures in the read commands: a cycle's directive in `session` and `experiments show`, the
// search at large (regions tried, the best per region, the share of cycles exploring, the last posterior) in `status`
// and in the report. Loaders, schemas and renderers of this one concern, hooked into each view with one line.
import { z } from 'zod';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { loadSearchSummary, type SearchSummary } from '../../db/read-models/search.ts';
import { findSessionSearch } from '../../db/repositories/sessions.ts';
import { describeRegion, searchDimensions } from '../../research/search-policy.ts';
import { cell, emptyState, note, scrollTable } from './report/html.ts';

type Db = Kysely<Database> | Transaction<Database>;

const regionSchema = z.object(
  Object.fromEntries(searchDimensions.map((dimension) => [dimension, z.string().nullable()])) as Record<
    (typeof searchDimensions)[number],
    z.ZodNullable<z.ZodString>
  >,
);

/** A cycle's directive as `session --json` and `experiments show --json` give it. */
export const sessionSearchSchema = z.object({
  mode: z.enum(['explore', 'exploit']),
  region: regionSchema,
  targetExperimentId: z.int().nullable(),
  reason: z.string(),
  policy: z.enum(['thompson', 'uniform']),
  /** Why the directive could not be followed as given (its experiment is gone). */
  fallback: z.string().nullable(),
  /** The designer's stated reason for declining it. */
  declined: z.string().nullable(),
});
export type SessionSearchView = z.infer<typeof sessionSearchSchema>;

const posteriorSchema = z.object({ value: z.string(), tried: z.int(), passed: z.int(), mean: z.number(), deviation: z.number(), draw: z.number() });

/** The search at large, for `status --json`. */
export const searchSummarySchema = z.object({
  cycles: z.int(),
  exploring: z.int(),
  exploringShare: z.number().nullable(),
  declined: z.int(),
  fallbacks: z.int(),
  regions: z.array(
    z.object({ dimension: z.string(), tried: z.int(), passed: z.int(), best: z.array(z.object({ value: z.string(), best: z.number(), tried: z.int() })) }),
  ),
  last: z.object({ sessionId: z.int(), mode: z.enum(['explore', 'exploit']), reason: z.string(), posterior: z.array(posteriorSchema) }).nullable(),
});
export type SearchSummaryView = z.infer<typeof searchSummarySchema>;

export async function loadSessionSearchView(db: Db, sessionId: number): Promise<SessionSearchView | null> {
  const search = await findSessionSearch(db, sessionId);
  if (!search) return null;
  return {
    mode: search.mode,
    region: search.directive.region,
    targetExperimentId: search.targetExperimentId,
    reason: search.directive.reason,
    policy: search.directive.policy,
    fallback: search.directive.fallback ?? null,
    declined: search.declined,
  };
}

export async function loadSearchSummaryView(db: Db): Promise<SearchSummaryView> {
  const summary: SearchSummary = await loadSearchSummary(db);
  return {
    ...summary,
    exploringShare: summary.cycles === 0 ? null : summary.exploring / summary.cycles,
    last: summary.last
      ? {
          ...summary.last,
          posterior: summary.last.posterior.map(({ value, tried, passed, mean, deviation, draw }) => ({ value, tried, passed, mean, deviation, draw })),
        }
      : null,
  };
}

/** Lines under a `Search` heading of `session` and `experiments show`. */
export function sessionSearchLines(search: SessionSearchView | null | undefined): string[] {
  if (!search) return [];
  const lines = [
    `Directive: ${search.mode}${search.targetExperimentId !== null ? ` (refine experiment #${search.targetExperimentId})` : ''}, ${search.policy === 'uniform' ? 'random control' : 'Thompson sampling'}`,
    `Region: ${describeRegion(search.region) || '(none)'}`,
    `Why: ${search.reason}`,
  ];
  if (search.fallback) lines.push(`Fallback: ${search.fallback}`);
  if (search.declined) lines.push(`Declined by the designer: ${search.declined}`);
  return lines;
}

function share(summary: SearchSummaryView): string {
  return summary.exploringShare === null ? '—' : `${Math.round(summary.exploringShare * 100)}%`;
}

/** Lines under a `Search` heading of `status`. */
export function searchStatusLines(summary: SearchSummaryView | null | undefined): string[] {
  if (!summary || summary.cycles === 0) return ['No cycle has had a search directive yet.'];
  const lines = [
    `Cycles: ${summary.cycles}, exploring ${share(summary)}${summary.declined > 0 ? `, ${summary.declined} declined` : ''}${summary.fallbacks > 0 ? `, ${summary.fallbacks} fell back to exploring` : ''}`,
  ];
  for (const region of summary.regions) {
    if (region.tried === 0) continue;
    const best = region.best.map((b) => `${b.value} ${b.best.toFixed(2)}`).join(', ');
    lines.push(`${region.dimension}: ${region.tried} tried, ${region.passed} passed${best ? `; best ${best}` : ''}`);
  }
  if (summary.last) {
    const top = summary.last.posterior
      .slice(0, 3)
      .map((p) => `${p.value} ${p.mean.toFixed(2)}±${p.deviation.toFixed(2)} (${p.tried})`)
      .join(', ');
    lines.push(`Last: session #${summary.last.sessionId} ${summary.last.mode}; posterior ${top}`);
  }
  return lines;
}

/** The report's search section: regions tried and their best, the share of cycles exploring, the last posterior. */
export function renderSearchReport(summary: SearchSummaryView | null | undefined): string {
  if (!summary || summary.cycles === 0) {
    return emptyState('Nothing yet: no cycle has had a search directive. Each new cycle gets one (explore or exploit), see docs/search.md.');
  }
  const regionRows = summary.regions.map(
    (r) =>
      `<tr>${cell(r.dimension)}${cell(r.tried, { numeric: true })}${cell(r.passed, { numeric: true })}${cell(r.best.map((b) => `${b.value} (${b.best.toFixed(2)}, ${b.tried} tried)`).join(' · ') || null)}</tr>`,
  );
  const posteriorRows = (summary.last?.posterior ?? []).map(
    (p) =>
      `<tr>${cell(p.value)}${cell(p.tried, { numeric: true })}${cell(p.passed, { numeric: true })}${cell(`${p.mean.toFixed(2)} ± ${p.deviation.toFixed(2)}`)}${cell(p.draw.toFixed(2), { numeric: true })}</tr>`,
  );
  const counts = `${summary.cycles} cycles with a directive, ${share(summary)} exploring${summary.declined > 0 ? `, ${summary.declined} declined by the designer` : ''}${summary.fallbacks > 0 ? `, ${summary.fallbacks} fell back to exploring` : ''}.`;
  const last = summary.last ? ` Last directive (session #${summary.last.sessionId}): ${summary.last.mode}: ${summary.last.reason}.` : '';
  return [
    note(counts + last),
    scrollTable('search-regions', ['dimension', 'regions tried', 'with a pass', 'best per region'], regionRows, { numericColumns: [1, 2] }),
    scrollTable('search-posterior', ['indicators (last posterior)', 'tried', 'passed', 'reward mean ± sd', 'draw'], posteriorRows, {
      numericColumns: [1, 2, 4],
    }),
  ].join('\n');
}
