import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import { findLineage, findSession, recordStatusShown, type Session } from '../db/repositories/sessions.ts';
import { findExperiment } from '../db/repositories/experiments.ts';
import { findHypothesis } from '../db/repositories/hypotheses.ts';
import { buildMemorySection, experimentLine } from './memory-section.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { stringifyStrategy } from '../strategy/yaml.ts';
import type { InvocationPurpose } from '../session/model.ts';
import { formatBoundedIndicatorTable } from '../strategy/bounded-indicators.ts';
import { renderPrompt } from './prompts.ts';
import { searchPeriodEndOf, type LockboxContext } from './lockbox-boundary.ts';
import { shiftDay } from '../research/lockbox.ts';
import { promptBlock, promptLine, promptValue } from './model-text.ts';
import { directiveSection } from './search-directive.ts';

const promptOfPurpose: Record<InvocationPurpose, string> = {
  design: 'start_new_cycle',
  backtest: 'training_completed',
  assess: 'backtest_completed',
};

function compactJson(value: unknown): string {
  return value === null || value === undefined ? '(none)' : promptBlock(JSON.stringify(value, null, 1), 'json');
}

async function symbolsSection(ktrdr: KtrdrClient, lockbox: LockboxContext | null): Promise<string> {
  try {
    const symbols = (await ktrdr.listSymbols()).slice(0, 12);
    // The data ranges are independent reads: asked together, not one after another.
    const lines = await Promise.all(
      symbols.map(async (symbol) => {
        const timeframes = symbol.available_timeframes ?? [];
        const data = timeframes.includes('1h') ? await ktrdr.getDataRange(symbol.symbol, '1h').catch(() => null) : null;
        const searchEnd = data && lockbox ? await searchPeriodEndOf(lockbox, symbol.symbol, '1h').catch(() => null) : null;
        const range = data
          ? searchEnd
            ? ` — 1h search period ${String(data.start_date).slice(0, 10)}..${searchEnd} (data from ${shiftDay(searchEnd, 1)} on is the lockbox: any window reaching into it is refused)`
            : ` — 1h data ${String(data.start_date).slice(0, 10)}..${String(data.end_date).slice(0, 10)}`
          : '';
        return promptLine(`- ${symbol.symbol}: ${timeframes.join(', ')}${range}`);
      }),
    );
    return lines.length > 0 ? lines.join('\n') : '(KTRDR lists no symbols)';
  } catch (error) {
    return `(symbols unavailable: ${(error as Error).message}; use get_available_symbols)`;
  }
}

/** The hypothesis the design tests and the experiment it builds on, so the verdict compares child to parent. */
async function lineageSection(db: Kysely<Database>, sessionId: number): Promise<string> {
  const lineage = await findLineage(db, sessionId);
  const hypothesis = lineage.testsHypothesisId ? await findHypothesis(db, lineage.testsHypothesisId) : null;
  const parent = lineage.parentExperimentId ? await findExperiment(db, lineage.parentExperimentId) : null;
  // The verdict is applied only if the status is still the one shown here (an operator may change it meanwhile).
  if (hypothesis) await recordStatusShown(db, sessionId, hypothesis.status);
  const lines = [
    hypothesis
      ? `- Hypothesis under test: H${hypothesis.id} [${hypothesis.status}] ${promptLine(hypothesis.text)}. Give your verdict on it in \`hypothesis_verdict\`.`
      : lineage.exploration
        ? '- Hypothesis under test: none (exploration).'
        : '- Hypothesis under test: none named.',
    parent ? `- Parent experiment (compare this result with it):\n  ${promptLine(experimentLine(parent))}` : '- Parent experiment: none.',
  ];
  return lines.join('\n');
}

function strategySection(session: Session): string {
  if (!session.strategyConfig) return '(none)';
  // Strings the model wrote go on one line inside the block, and the fence outlasts any backticks among them.
  return promptBlock(stringifyStrategy(promptValue(session.strategyConfig)), 'yaml');
}

/** The backtest phase's bound: the training symbol's search period ends before its lockbox. */
async function searchPeriodLine(lockbox: LockboxContext | null, session: Session): Promise<string> {
  const symbol = session.trainingParams?.symbols[0];
  const timeframe = session.trainingParams?.timeframes[0];
  if (!lockbox || !symbol || !timeframe) return '';
  const end = await searchPeriodEndOf(lockbox, symbol, timeframe).catch(() => null);
  return end
    ? `\nSearch period of ${symbol} ${timeframe} ends ${end}: the backtest window must end by then (later data is the lockbox, held back; a window reaching into it is refused).`
    : '';
}

export function systemPrompt(): string {
  return renderPrompt('system', {
    bounded_indicators: formatBoundedIndicatorTable()
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n'),
  });
}

/** Everything the phase needs, up front in the first message: no discovery round trips. */
export async function firstMessage(input: {
  db: Kysely<Database>;
  ktrdr: KtrdrClient;
  sessionId: number;
  purpose: InvocationPurpose;
  recentCount: number;
  today: string;
  memoryTokenBudget?: number;
  /** AGENT_LOCKBOX_MONTHS: the prompt states each symbol's search period, which ends before its lockbox. */
  lockboxMonths?: number;
  now?: () => Date;
}): Promise<string> {
  const session = await findSession(input.db, input.sessionId);
  if (!session) throw new Error(`session ${input.sessionId} not found`);
  const lockbox: LockboxContext | null =
    input.lockboxMonths === undefined ? null : { db: input.db, ktrdr: input.ktrdr, months: input.lockboxMonths, now: input.now ?? (() => new Date()) };
  const common = { session_id: String(session.id), today: input.today };
  switch (input.purpose) {
    case 'design':
      return renderPrompt(promptOfPurpose.design, {
        ...common,
        saved_strategy: session.strategyName
          ? `This session already saved \`${session.strategyName}\` (an earlier attempt was interrupted). Unless it needs fixing, call \`start_training\` for it now: starting it again finds the same KTRDR operation rather than a second one.\n\n${strategySection(session)}`
          : '(none yet in this session)',
        research_memory: (await buildMemorySection(input.db, { tokenBudget: input.memoryTokenBudget ?? 1500, recentCount: input.recentCount })).text,
        search_directive: await directiveSection(input.db, session.id),
        symbols: await symbolsSection(input.ktrdr, lockbox),
      });
    case 'backtest':
      return renderPrompt(promptOfPurpose.backtest, {
        ...common,
        strategy: strategySection(session),
        training_params: `${compactJson(session.trainingParams)}${await searchPeriodLine(lockbox, session)}`,
        training_results: compactJson(session.trainingResults),
        training_gate: session.trainingGate
          ? `passed (${session.trainingGate.checks.map((c) => `${c.metric} ${c.value} ${c.comparison} ${c.threshold}`).join(', ')})`
          : '(none)',
      });
    case 'assess':
      return renderPrompt(promptOfPurpose.assess, {
        ...common,
        strategy: strategySection(session),
        training_results: compactJson(session.trainingResults),
        backtest_params: compactJson(session.backtestParams),
        backtest_results: compactJson(session.backtestResults),
        lineage: await lineageSection(input.db, session.id),
        gates: [session.trainingGate, session.backtestGate]
          .filter(Boolean)
          .map((g) => `- ${g!.gate}: ${g!.passed ? 'passed' : `failed (${g!.reason})`}`)
          .join('\n'),
      });
  }
}
