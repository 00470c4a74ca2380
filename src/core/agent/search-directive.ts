// The allocation policy's directive as the designers see it: assigned when a cycle starts (inside the transaction
// that creates its session, so racing ticks never claim one exploit target twice), read back by every designer (an
// exploit target that no longer exists falls back to exploring, with the reason recorded), shown to Claude as one
// short section of its design message, and enforced on near-copies at save time.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { designsWithIndicators, findExperiment, type Experiment } from '../db/repositories/experiments.ts';
import { loadSearchHistory } from '../db/read-models/search.ts';
import {
  claimedSearchTargets,
  findSessionSearch,
  recordSearchDecline,
  recordSearchDirective,
  recordSearchFallback,
  type SessionSearch,
} from '../db/repositories/sessions.ts';
import { decideSearch, describeRegion, regionPosteriors, type SearchDimension, type SearchDirective } from '../research/search-policy.ts';
import { findNearCopy } from '../research/near-copy.ts';
import { strategyFeatures } from '../research/fingerprint.ts';
import { BOUNDED_INDICATORS } from '../strategy/bounded-indicators.ts';
import type { DesignerKind } from './designer.ts';

/** Zigzag thresholds and network sizes the no-LLM designers build; Claude's other choices join once tried. */
export const SEARCH_LABEL_THRESHOLDS = [0.01, 0.015, 0.02, 0.025, 0.03];
export const SEARCH_ARCHITECTURES = [[8], [16, 8], [24, 12], [32, 16], [48, 24], [64, 32]];

/** The regions a cycle may be sent to before any design was tried in them. */
export function searchCatalogue(symbols: readonly string[]): Partial<Record<SearchDimension, string[]>> {
  const types = [...new Set(BOUNDED_INDICATORS.map((fact) => fact.type))].sort();
  const pairs: string[] = [];
  for (let i = 0; i < types.length; i++) for (let j = i + 1; j < types.length; j++) pairs.push(`${types[i]}+${types[j]}`);
  return {
    indicators: pairs,
    labels: SEARCH_LABEL_THRESHOLDS.map((threshold) => `zigzag ${threshold}`),
    network: SEARCH_ARCHITECTURES.map((layers) => layers.join('x')),
    timeframe: ['1h'],
    symbol: [...symbols],
  };
}

/**
 * Decides and records the new cycle's directive. Runs inside the cycle-creation transaction (its advisory lock
 * serialises racing ticks), so the claimed targets it reads are every other active session's.
 */
export async function assignSearchDirective(
  trx: Transaction<Database>,
  sessionId: number,
  input: { designer: DesignerKind; symbols: readonly string[] },
): Promise<SearchDirective> {
  const [history, claimed] = await Promise.all([loadSearchHistory(trx), claimedSearchTargets(trx)]);
  const directive = decideSearch({
    history,
    catalogue: searchCatalogue(input.symbols),
    seed: `cycle:${sessionId}`,
    claimed,
    // The random control keeps the same bookkeeping but draws its regions uniformly and never exploits.
    policy: input.designer === 'baseline' ? 'uniform' : 'thompson',
  });
  await recordSearchDirective(trx, sessionId, directive);
  return directive;
}

/** The directive in force for a session, with its exploit target; null for a session started before the policy. */
export async function directiveInForce(db: Kysely<Database>, sessionId: number): Promise<{ search: SessionSearch; parent: Experiment | null } | null> {
  const search = await findSessionSearch(db, sessionId);
  if (!search) return null;
  if (search.mode !== 'exploit' || search.targetExperimentId === null) return { search, parent: null };
  const parent = await findExperiment(db, search.targetExperimentId);
  if (parent?.strategy) return { search, parent };
  const reason = parent
    ? `experiment #${search.targetExperimentId} has no stored design to refine: exploring instead`
    : `experiment #${search.targetExperimentId} no longer exists: exploring instead`;
  return { search: await recordSearchFallback(db, sessionId, search, reason), parent: null };
}

/**
 * Why the design may not be saved under the cycle's directive, or null. An explore directive refuses a near-copy of
 * an earlier experiment (same indicators, labels and network, every number within `tolerance`), naming it; an exploit
 * directive allows it. A stated decline is recorded first (never an error) and lifts the refusal.
 */
export async function searchRefusal(
  db: Kysely<Database>,
  sessionId: number,
  config: Record<string, unknown>,
  options: { tolerance: number; declined?: string | undefined },
): Promise<string | null> {
  if (options.declined) await recordSearchDecline(db, sessionId, options.declined);
  const search = await findSessionSearch(db, sessionId);
  if (!search || search.mode !== 'explore' || options.declined) return null;
  const features = strategyFeatures(config);
  const earlier = await designsWithIndicators(db, { indicatorKey: features.indicatorKey, exceptSessionId: sessionId, limit: 200 });
  const copy = findNearCopy(config, earlier, options.tolerance);
  if (!copy) return null;
  return `strategy not saved: this cycle explores, and the design is a near-copy of experiment #${copy.id} (${copy.strategyName ?? 'unnamed'}${copy.score === null ? '' : `, score ${Number(copy.score).toFixed(2)}`}): same indicators, labels and network, every number within ${Math.round(options.tolerance * 100)}%. Explore elsewhere (the directive names a region), or, if refining #${copy.id} is the better use of the cycle, say why in declines_directive.`;
}

/** The directive as one short section of Claude's design message. */
export async function directiveSection(db: Kysely<Database>, sessionId: number): Promise<string> {
  const inForce = await directiveInForce(db, sessionId);
  if (!inForce) return '(no directive for this cycle: design freely)';
  const { search, parent } = inForce;
  const directive = search.directive;
  const lines: string[] = [];
  if (search.mode === 'exploit' && parent) {
    const weakness = parent.assessment?.weaknesses[0] ?? parent.failureReason ?? null;
    lines.push(
      `This cycle refines experiment #${parent.id} (${parent.strategyName ?? 'unnamed'}, score ${parent.score === null ? 'n/a' : parent.score.toFixed(2)}): change a few of its settings and pass parent_experiment ${parent.id}.${weakness ? ` Its weakness was: ${weakness}` : ''}`,
    );
  } else {
    lines.push(
      `This cycle explores: ${describeRegion(directive.region)}. Design something in this region that the memory shows was not tried; a near-copy of an earlier experiment is refused.`,
    );
  }
  if (directive.fallback) lines.push(`(${directive.fallback}.)`);
  lines.push(`Why: ${directive.reason}.`);
  lines.push('You may decline with a stated reason in save_strategy_config `declines_directive`; it is recorded, never held against you.');
  return lines.join('\n');
}

/** The memory's coverage per region: how much of each dimension was tried, and what never was. */
export async function regionCoverageLines(db: Kysely<Database>, symbols: readonly string[] = []): Promise<string[]> {
  const history = await loadSearchHistory(db);
  const catalogue = searchCatalogue(symbols);
  const lines: string[] = [];
  for (const dimension of ['indicators', 'labels', 'network'] as const) {
    const posteriors = regionPosteriors({ history, catalogue, seed: 'coverage' }, dimension);
    const untried = posteriors
      .filter((p) => p.tried === 0)
      .map((p) => p.value)
      .sort();
    const tried = posteriors.length - untried.length;
    const shown = untried.slice(0, 8).join(', ');
    lines.push(
      `- ${dimension}: ${tried} of ${posteriors.length} regions tried${untried.length > 0 ? `; never tried: ${shown}${untried.length > 8 ? `, and ${untried.length - 8} more` : ''}` : ''}`,
    );
  }
  return lines;
}
