// The report's first section, "Strategies that held up" (issue #20): each promotion's search Sharpe beside its
// robustness and lockbox Sharpe (the decay from one to the next is the point). The trials of each family, which the
// DSR at candidacy is deflated by, have their own section (section-trials.ts). Its own read, then a pure renderer.
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/database-schema.ts';
import { listPromotions, promotionsOfExperiments } from '../../../db/repositories/promotions.ts';
import { median } from '../../../research/lockbox.ts';
import { cell, emptyState, fixed, note, scrollTable } from './html.ts';
import { defineSection } from './section.ts';

export interface HeldUpRow {
  experimentId: number;
  strategyName: string | null;
  market: string;
  status: 'pending' | 'promoted' | 'rejected';
  reason: string | null;
  dsrAtDecision: number | null;
  trialsAtDecision: number | null;
  searchSharpe: number | null;
  robustnessMedian: number | null;
  robustness: (number | null)[];
  lockboxSharpe: number | null;
  lockboxPsr: number | null;
}

export interface HeldUpData {
  rows: HeldUpRow[];
}

const ROWS_SHOWN = 50;

export async function readHeldUpData(db: Kysely<Database>): Promise<HeldUpData> {
  const promotions = await listPromotions(db, ['promoted', 'pending', 'rejected'], ROWS_SHOWN, 'newest');
  const details = await promotionsOfExperiments(
    db,
    promotions.map((p) => p.experimentId),
  );
  const rows = promotions.map((p): HeldUpRow => {
    const validations = details.get(p.experimentId)?.validations ?? [];
    const robustness = validations.filter((v) => v.kind === 'robustness').map((v) => (v.status === 'completed' ? v.sharpe : null));
    const lockbox = validations.find((v) => v.kind === 'lockbox' && v.status === 'completed');
    return {
      experimentId: p.experimentId,
      strategyName: p.strategyName,
      market: `${p.symbol ?? '?'} ${p.timeframe ?? '?'}`,
      status: p.status as HeldUpRow['status'],
      reason: p.reason,
      dsrAtDecision: p.dsrAtDecision,
      trialsAtDecision: p.trialsAtDecision,
      searchSharpe: p.searchSharpe,
      robustnessMedian: median(robustness.filter((s): s is number => s !== null)),
      robustness,
      lockboxSharpe: lockbox?.sharpe ?? null,
      lockboxPsr: lockbox?.psr ?? null,
    };
  });
  // Promoted first: they are what the section is about; the rest show what did not hold up, and why.
  const rank = { promoted: 0, pending: 1, rejected: 2 } as const;
  rows.sort((a, b) => rank[a.status] - rank[b.status] || b.experimentId - a.experimentId);
  return { rows };
}

function render(_report: unknown, data: HeldUpData): string {
  const promoted = data.rows.filter((r) => r.status === 'promoted').length;
  const rows = data.rows.map(
    (r) =>
      `<tr class="promotion-${r.status}">${cell(`#${r.experimentId}`)}${cell(r.strategyName)}${cell(r.market)}${cell(r.status)}${cell(fixed(r.searchSharpe), { numeric: true })}${cell(
        r.robustness.map((s) => fixed(s) ?? '—').join(' / ') || null,
        { numeric: true },
      )}${cell(fixed(r.lockboxSharpe), { numeric: true })}${cell(fixed(r.lockboxPsr, 3), { numeric: true })}${cell(
        r.dsrAtDecision === null ? null : `${r.dsrAtDecision.toFixed(3)} (${r.trialsAtDecision ?? '?'} trials)`,
      )}${cell(r.reason)}</tr>`,
  );
  const promotions = data.rows.length
    ? scrollTable(
        'held-up',
        ['id', 'strategy', 'market', 'promotion', 'search Sharpe', 'robustness Sharpe', 'lockbox Sharpe', 'lockbox PSR', 'DSR at candidacy', 'reason'],
        rows,
        { numericColumns: [4, 5, 6, 7] },
      )
    : emptyState(
        'Nothing yet: no candidate. An experiment becomes one when it passes both gates with a deflated Sharpe, over every trial of its family, at or above AGENT_PROMOTION_MIN_DSR.',
      );
  return [
    note(
      `${promoted} promoted. A candidate (both gates passed, deflated Sharpe over its family's trials at or above the bar) is backtested, without any model, on further windows of the search period and once on the lockbox, the most recent data no designer ever saw. The fall from search Sharpe to lockbox Sharpe is what selection among many trials costs.`,
    ),
    promotions,
    '<p class="note">How many trials each family holds, and the Sharpe luck alone would reach among them: <a href="#trials">Trials per family</a>.</p>',
  ].join('\n');
}

export const heldUpSection = defineSection<HeldUpData>({
  id: 'strategies-that-held-up',
  title: 'Strategies that held up',
  load: (context) => readHeldUpData(context.db),
  render,
});
