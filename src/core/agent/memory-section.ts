// The research memory as the designer reads it: built deterministically from the experiments and hypotheses, in a
// fixed order of importance, and cut to a token budget line by line so it never exceeds it, at 10 experiments or
// at 100,000. Every query is an index range (the counts come from the running tallies); none returns more than a few
// dozen rows.
import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { countExperiments, queryExperiments, SCORE_DESCRIPTION, type Experiment } from '../db/repositories/experiments.ts';
import { topTallies } from '../db/repositories/experiment-tallies.ts';
import { openHypotheses } from '../db/repositories/hypotheses.ts';
import { deflatedSharpesNow, type DeflatedSharpeNow } from '../db/read-models/trials.ts';
import { DSR_MEANINGFUL_TRIALS } from '../research/deflated-sharpe.ts';
import { DESIGN_FAILURE_WORDS, designFailureKinds, type DesignFailureKind } from '../research/design-failure.ts';
import { promptLine } from './model-text.ts';
import { regionCoverageLines } from './search-directive.ts';

/**
 * Tokens estimated as ⌈characters / 3⌉: Claude's tokenizer averages about 3.5–4 characters a token on English
 * with numbers, so this over-counts and the real prompt stays inside the budget.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

function pct(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

function num(value: number | null, digits = 2): string {
  return value === null ? 'n/a' : value.toFixed(digits);
}

/**
 * One line per experiment: what it was, where, what came of it. A design that never reached training says why (the
 * experiment it repeats, its first error). A DSR is shown only over the family's trials now, with their count, once
 * there are DSR_MEANINGFUL_TRIALS of them.
 */
export function experimentLine(e: Experiment, dsrNow: DeflatedSharpeNow | null = null): string {
  const lineage = [e.hypothesisId !== null ? `tests H${e.hypothesisId}` : null, e.parentExperimentId !== null ? `child of #${e.parentExperimentId}` : null]
    .filter(Boolean)
    .join(', ');
  if (e.designFailure || (e.outcome === 'failed_design' && e.indicatorKey === null)) {
    const why = e.designFailure?.detail ?? e.failureReason?.replace(/\s+/g, ' ').slice(0, 200) ?? 'no reason recorded';
    const what = e.indicatorKey ? ` [${e.indicatorKey}] ${e.symbol ?? '?'} ${e.timeframe ?? '?'}` : '';
    return `- #${e.id} design failed${what}: ${why}${lineage ? ` {${lineage}}` : ''}`;
  }
  const design = [
    e.indicatorKey ?? '(no indicators)',
    e.labelSource ? `${e.labelSource}${e.labelThreshold !== null ? ` ${e.labelThreshold}` : ''}` : null,
    e.architecture ? `mlp ${e.architecture}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const dsr = dsrNow && dsrNow.trials >= DSR_MEANINGFUL_TRIALS ? `, DSR ${num(dsrNow.dsr)} of ${dsrNow.trials} trials` : '';
  const results =
    e.sharpe !== null
      ? `sharpe ${num(e.sharpe)}${dsr}, win ${pct(e.winRate)}, dd ${pct(e.maxDrawdown)}`
      : e.accuracy !== null
        ? `accuracy ${pct(e.accuracy)}, loss ${num(e.finalLoss, 3)}`
        : '';
  const why = e.outcome !== 'success' && e.failedChecks.length > 0 ? ` on ${e.failedChecks.join(',')}` : '';
  return `- #${e.id} ${e.strategyName ?? '(unsaved)'} [${design}] ${e.symbol ?? '?'} ${e.timeframe ?? '?'}: ${e.outcome}${why}${results ? ` (${results})` : ''}${lineage ? ` {${lineage}}` : ''}`;
}

interface Section {
  title: string;
  lines: string[];
  empty: string;
}

async function failureGroups(db: Kysely<Database>): Promise<string[]> {
  return (await topTallies(db, 'failure', 12)).map((t) => {
    const [gate, checks, indicators] = t.value.split('|');
    const plural = t.tried === 1 ? '' : 's';
    if (gate === 'design') {
      const kind = (designFailureKinds as readonly string[]).includes(checks ?? '') ? (checks as DesignFailureKind) : 'refused';
      return `- ${t.tried} design${plural} never trained: ${DESIGN_FAILURE_WORDS[kind]}`;
    }
    return `- ${t.tried} design${plural} failed the ${gate} gate on ${checks || 'unknown checks'} with ${indicators || '(no indicators)'}`;
  });
}

async function coverage(db: Kysely<Database>): Promise<string[]> {
  const [pairs, labels, architecture] = await Promise.all([topTallies(db, 'pairs', 12), topTallies(db, 'labels', 4), topTallies(db, 'architecture', 5)]);
  // Interleaved by rank, so a tight budget still shows the most tried of each dimension.
  const ranked = (
    [
      ['indicator pair', pairs],
      ['labels', labels],
      ['architecture', architecture],
    ] as const
  ).map(([dimension, entries]) =>
    entries.map((e) => `- ${dimension} ${e.value}: ${e.passed}/${e.tried} passed${e.best !== null ? ` (best ${e.best.toFixed(2)})` : ''}`),
  );
  const lines: string[] = [];
  for (let rank = 0; ranked.some((list) => rank < list.length); rank++) for (const list of ranked) if (rank < list.length) lines.push(list[rank]!);
  return lines;
}

/** The memory section and its estimated size; `tokenBudget` bounds the whole of it. */
export async function buildMemorySection(
  db: Kysely<Database>,
  options: { tokenBudget: number; recentCount: number },
): Promise<{ text: string; estimatedTokens: number; experiments: number }> {
  const total = await countExperiments(db);
  if (total === 0) {
    const text = '(no experiments yet: this is the first cycle)';
    return { text, estimatedTokens: estimateTokens(text), experiments: 0 };
  }
  const [best, recent, failures, covered, hypotheses, regions] = await Promise.all([
    queryExperiments(db, { sort: 'score', limit: 8 }),
    queryExperiments(db, { sort: 'completed_at', limit: Math.max(1, options.recentCount) }),
    failureGroups(db),
    coverage(db),
    openHypotheses(db, 10),
    regionCoverageLines(db),
  ]);
  // One grouped query for the families of the experiments shown: their DSR over every trial so far.
  const dsrNow = await deflatedSharpesNow(db, [...best.experiments, ...recent.experiments]);
  const line = (e: Experiment) => experimentLine(e, dsrNow.get(e.id) ?? null);
  const sections: Section[] = [
    { title: `### Best so far (score: ${SCORE_DESCRIPTION})`, lines: best.experiments.map(line), empty: '- none has passed both gates yet' },
    { title: '### Most recent', lines: recent.experiments.map(line), empty: '- none' },
    { title: '### Failures by reason (count, why: gate and checks with indicators, or why a design never trained)', lines: failures, empty: '- no failures' },
    { title: '### Coverage (passed both gates / tried)', lines: covered, empty: '- nothing tried yet' },
    {
      title: '### Open hypotheses (test one with save_strategy_config tests_hypothesis)',
      lines: hypotheses.map((h) => `- H${h.id} [${h.status}]${h.source === 'operator' ? ' (operator)' : ''} ${h.text.replace(/\s+/g, ' ').slice(0, 240)}`),
      empty: '- none open: propose some in save_assessment hypotheses_proposed',
    },
    { title: '### Search regions (tried of known, and never tried)', lines: regions, empty: '- nothing tried yet' },
  ];
  const header = `${total} experiment${total === 1 ? '' : 's'} so far. Use query_experiments to dig deeper.`;
  const cost = (line: string) => estimateTokens(`\n${line}`);
  let used = estimateTokens(header);
  // First each section's heading and first line, in order of importance, so no part vanishes while another grows;
  // then the remaining lines, section by section, while they fit. The sum of per-line estimates bounds the whole.
  // Every line is data from the store (names, hypotheses the model wrote): one line each, whatever it holds.
  const bodies = sections.map((section) => (section.lines.length > 0 ? section.lines : [section.empty]).map(promptLine));
  const kept = sections.map(() => 0);
  sections.forEach((section, index) => {
    const block = cost(section.title) + cost(bodies[index]![0]!);
    if (used + block <= options.tokenBudget) {
      kept[index] = 1;
      used += block;
    }
  });
  sections.forEach((_, index) => {
    if (kept[index] === 0) return;
    for (const line of bodies[index]!.slice(1)) {
      if (used + cost(line) > options.tokenBudget) break;
      kept[index]! += 1;
      used += cost(line);
    }
  });
  const out = [header, ...sections.flatMap((section, index) => (kept[index]! > 0 ? [section.title, ...bodies[index]!.slice(0, kept[index])] : []))];
  const text = out.join('\n');
  return { text, estimatedTokens: estimateTokens(text), experiments: total };
}
