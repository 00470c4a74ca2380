// agent_metrics: one row for each finished session (durations, results, tokens); only this file writes it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SessionOutcome } from '../../session/model.ts';
import type { Session } from './sessions.ts';

type Db = Kysely<Database> | Transaction<Database>;

function secondsBetween(from: string | Date | undefined, to: string | Date | undefined): number | null {
  if (!from || !to) return null;
  return Math.max(0, Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000));
}

/** Seconds spent in each phase, from the session's phase history (a phase entered twice adds up). */
export function phaseDurations(session: Pick<Session, 'phaseHistory'>, endedAt: Date): Record<string, number> {
  const durations: Record<string, number> = {};
  const history = session.phaseHistory;
  history.forEach((change, index) => {
    if (change.phase === 'idle') return;
    const next = history[index + 1]?.at ?? endedAt.toISOString();
    durations[change.phase] = (durations[change.phase] ?? 0) + (secondsBetween(change.at, next) ?? 0);
  });
  return durations;
}

/** The one metrics row of a finished session, written in the same transaction that finishes it. */
export async function recordSessionMetrics(
  db: Db,
  session: Session,
  input: { outcome: SessionOutcome; gateFailed: string | null; gateReason: string | null; completedAt: Date },
): Promise<void> {
  const durations = phaseDurations(session, input.completedAt);
  const training = (session.trainingResults ?? {}) as Record<string, number | boolean | null | undefined>;
  const backtest = (session.backtestResults ?? {}) as Record<string, number | null | undefined>;
  const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  await db
    .insertInto('agent_metrics')
    .values({
      session_id: session.id,
      cycle_started_at: session.createdAt,
      cycle_completed_at: input.completedAt,
      cycle_duration_seconds: secondsBetween(session.createdAt, input.completedAt) ?? 0,
      designing_seconds: durations.designing ?? null,
      training_seconds: durations.training ?? null,
      backtesting_seconds: durations.backtesting ?? null,
      assessing_seconds: durations.assessing ?? null,
      training_accuracy: num(training.accuracy),
      training_final_loss: num(training.finalLoss),
      training_loss_reduction: num(training.lossReduction),
      training_epochs_completed: num(training.epochsTrained),
      training_early_stopped: typeof training.earlyStopped === 'boolean' ? training.earlyStopped : null,
      backtest_sharpe: num(backtest.sharpe),
      backtest_win_rate: num(backtest.winRate),
      backtest_max_drawdown: num(backtest.maxDrawdown),
      backtest_total_trades: num(backtest.totalTrades),
      backtest_profit_factor: num(backtest.profitFactor),
      total_tokens_input: session.tokensInput,
      total_tokens_output: session.tokensOutput,
      total_tokens_cache_read: session.tokensCacheRead,
      total_tokens_cache_write: session.tokensCacheWrite,
      estimated_cost_usd: session.costUsd,
      outcome: input.outcome,
      gate_failed: input.gateFailed,
      gate_reason: input.gateReason,
    })
    .onConflict((oc) => oc.column('session_id').doNothing())
    .execute();
}
