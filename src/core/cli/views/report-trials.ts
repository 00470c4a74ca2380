// The report's trial accounting: one line per family (symbol, timeframe) with its trials, the Sharpe the best of that
// many no-edge trials would be expected to reach, and the best found; and the DSR of the top experiments over their
// families now, with the trial count beside it. Search-wide whatever `--since` says: every trial ever run counts.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database-schema.ts';
import type { Experiment } from '../../db/repositories/experiments.ts';
import { deflatedSharpesNow, familyTrials, type DeflatedSharpeNow, type FamilyTrials } from '../../db/repositories/trials.ts';

export interface ReportTrials {
  families: FamilyTrials[];
  /** By experiment id: the DSR over its family now, or null. */
  dsrNow: Map<number, DeflatedSharpeNow | null>;
}

export async function readReportTrials(db: Kysely<Database>, shown: Experiment[]): Promise<ReportTrials> {
  const [families, dsrNow] = await Promise.all([familyTrials(db), deflatedSharpesNow(db, shown)]);
  return { families, dsrNow };
}

/** `0.42 (17 trials)`, or null (the table shows a dash). */
export function dsrNowText(trials: ReportTrials, experimentId: number): string | null {
  const now = trials.dsrNow.get(experimentId);
  return now ? `${now.dsr.toFixed(2)} (${now.trials} trials)` : null;
}

/** One line per family, in plain words: the expected best of luck next to the best found is the point. */
export function familyLine(f: FamilyTrials): string {
  const luck = f.trials < 2 ? 'too few trials to say what luck alone would reach' : `the best of ${f.trials} no-edge trials would be expected to reach Sharpe ${f.expectedMaxSharpe.toFixed(2)}`;
  const best = f.bestSharpe === null ? 'no backtest Sharpe yet' : `best found ${f.bestSharpe.toFixed(2)}${f.bestExperimentId !== null ? ` (#${f.bestExperimentId})` : ''}`;
  const passed = f.bestScore === null ? '' : `; best that passed both gates ${f.bestScore.toFixed(2)}`;
  return `${f.symbol} ${f.timeframe}: ${f.trials} trial${f.trials === 1 ? '' : 's'}; ${luck}; ${best}${passed}`;
}

/** The section, already escaped by `escape` (the report's own escaper, passed in so there is one). */
export function renderTrialsSection(trials: ReportTrials, escape: (text: string) => string): string {
  const lines = trials.families.map((f) => `<li>${escape(familyLine(f))}</li>`).join('');
  return `<h2>Trials per family</h2>
<p class="note">Every backtest is one trial of its family (symbol and timeframe). Among N trials with no edge, the best Sharpe is expected to reach the figure shown (Bailey &amp; López de Prado, 2014): a best found near it is what luck alone gives.</p>
<ul id="family-trials">${lines || '<li>No backtest yet.</li>'}</ul>`;
}
