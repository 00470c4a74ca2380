// Trial accounting in the report: one line per family (symbol, timeframe) with its trials, the Sharpe the best of that
// many no-edge trials would be expected to reach, and the best found; and how every section writes a DSR: over the
// family's trials now, with their count. Search-wide whatever `--since` says: every trial ever run counts.
import { familyTrials, type DeflatedSharpeNow, type FamilyTrials } from '../../../db/read-models/trials.ts';
import { emptyState, escapeHtml, note } from './html.ts';
import type { ReportData } from './report-data.ts';
import { defineSection } from './section.ts';

/** `0.42 (17 trials)`: the DSR over the family now, or null (a dash) without a backtest. */
export function dsrNowText(report: Pick<ReportData, 'dsrNow'>, experimentId: number): string | null {
  const now: DeflatedSharpeNow | null | undefined = report.dsrNow.get(experimentId);
  return now ? `${now.dsr.toFixed(2)} (${now.trials} trials)` : null;
}

/** One line per family, in plain words: the expected best of luck next to the best found is the point. */
export function familyLine(f: FamilyTrials): string {
  const luck =
    f.trials < 2
      ? 'too few trials to say what luck alone would reach'
      : `the best of ${f.trials} no-edge trials would be expected to reach Sharpe ${f.expectedMaxSharpe.toFixed(2)}`;
  const best =
    f.bestSharpe === null ? 'no backtest Sharpe yet' : `best found ${f.bestSharpe.toFixed(2)}${f.bestExperimentId !== null ? ` (#${f.bestExperimentId})` : ''}`;
  const passed = f.bestScore === null ? '' : `; best that passed both gates ${f.bestScore.toFixed(2)}`;
  return `${f.symbol} ${f.timeframe}: ${f.trials} trial${f.trials === 1 ? '' : 's'}; ${luck}; ${best}${passed}`;
}

function render(_report: ReportData, families: FamilyTrials[]): string {
  if (families.length === 0) return emptyState('Nothing yet: no experiment has reached a backtest. Each backtest is one trial of its symbol and timeframe.');
  const lines = families.map((f) => `<li>${escapeHtml(familyLine(f))}</li>`).join('');
  return `<ul id="family-trials">${lines}</ul>${note(
    'Every backtest is one trial of its family (symbol and timeframe), whatever the report window. Among N trials with no edge, the best Sharpe is expected to reach the figure shown (Bailey and López de Prado, 2014): a best found near it is what luck alone gives. Every DSR in this report is computed over the trials of its family now, with their count.',
  )}`;
}

export const trialsSection = defineSection({ id: 'trials', title: 'Trials per family', load: ({ db }) => familyTrials(db), render });
