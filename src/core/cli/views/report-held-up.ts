// The report's first section, "Strategies that held up" (issue #20): each promotion's search Sharpe beside its
// robustness and lockbox Sharpe (the decay from one to the next is the point), and one line per family with its trial
// count and the Sharpe that luck alone would reach among that many trials. Data first, then a pure renderer.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import { listPromotions, promotionsOfExperiments } from '../../db/repositories/promotions.ts';
import { familyTrials, type FamilyTrials } from '../../db/repositories/trials.ts';
import { median } from '../../research/lockbox.ts';

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
  families: FamilyTrials[];
}

const ROWS_SHOWN = 50;

export async function readHeldUpData(db: Kysely<Database>): Promise<HeldUpData> {
  const promotions = await listPromotions(db, ['promoted', 'pending', 'rejected'], ROWS_SHOWN, 'newest');
  const details = await promotionsOfExperiments(db, promotions.map((p) => p.experimentId));
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
  return { rows, families: await familyTrials(db, 20) };
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function td(value: string | number | null): string {
  return `<td>${value === null ? '—' : escape(String(value))}</td>`;
}

function fixed(value: number | null, digits = 2): string | null {
  return value === null || !Number.isFinite(value) ? null : value.toFixed(digits);
}

export function renderHeldUpSection(data: HeldUpData | undefined): string {
  if (!data) return '';
  const promoted = data.rows.filter((r) => r.status === 'promoted').length;
  const rows = data.rows
    .map(
      (r) =>
        `<tr class="promotion-${r.status}">${td(`#${r.experimentId}`)}${td(r.strategyName)}${td(r.market)}${td(r.status)}${td(fixed(r.searchSharpe))}${td(
          r.robustness.map((s) => fixed(s) ?? '—').join(' / ') || null,
        )}${td(fixed(r.lockboxSharpe))}${td(fixed(r.lockboxPsr, 3))}${td(r.dsrAtDecision === null ? null : `${r.dsrAtDecision.toFixed(3)} (${r.trialsAtDecision ?? '?'} trials)`)}${td(r.reason)}</tr>`,
    )
    .join('');
  const families = data.families
    .map((f) => `<tr>${td(`${f.symbol} ${f.timeframe}`)}${td(f.trials)}${td(fixed(f.expectedMaxSharpe))}${td(fixed(f.bestSharpe))}${td(fixed(f.bestScore))}</tr>`)
    .join('');
  const table = data.rows.length
    ? `<table id="held-up"><thead><tr><th>id</th><th>strategy</th><th>market</th><th>promotion</th><th>search Sharpe</th><th>robustness Sharpe</th><th>lockbox Sharpe</th><th>lockbox PSR</th><th>DSR at candidacy</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="note" id="held-up-empty">No candidate yet: an experiment becomes one when it passes both gates with a deflated Sharpe, over every trial of its family, at or above AGENT_PROMOTION_MIN_DSR.</p>';
  return `<h2 id="strategies-that-held-up">Strategies that held up</h2>
<p class="note">${promoted} promoted. A candidate (both gates passed, deflated Sharpe over its family's trials at or above the bar) is backtested, without any model, on further windows of the search period and once on the lockbox, the most recent data no designer ever saw. The fall from search Sharpe to lockbox Sharpe is what selection among many trials costs.</p>
${table}
<h3>Trials per family</h3>
<table id="held-up-families"><thead><tr><th>family</th><th>trials</th><th>expected best Sharpe of that many no-edge trials</th><th>best Sharpe found</th><th>best score</th></tr></thead><tbody>${families}</tbody></table>`;
}
