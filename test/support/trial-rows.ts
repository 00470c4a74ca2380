// Finished sessions with experiment rows written directly (no KTRDR, no tools): the families and hypotheses the trial
// accounting and promotion tests reason about, with every number chosen by the test.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/core/db/database-schema.ts';

export interface TrialRow {
  symbol: string;
  timeframe: string;
  sharpe: number | null;
  score?: number | null;
  bars?: number;
  hypothesisId?: number | null;
  fingerprint?: string | null;
  outcome?: string;
  failureReason?: string | null;
  dsr?: number | null;
  dsrTrials?: number | null;
}

/** Inserts one finished session and its experiment; returns the experiment's id. */
export async function insertTrial(
  db: Kysely<Database>,
  row: TrialRow,
  now = new Date('2026-12-01T00:00:00Z'),
): Promise<{ experimentId: number; sessionId: number }> {
  const session = await sql<{ id: number }>`
    INSERT INTO agent_sessions (phase, designer, strategy_name, outcome, failure_reason, phase_started_at, created_at, updated_at, completed_at)
    VALUES ('idle', 'baseline', 'trial', ${row.outcome ?? 'success'}, ${row.failureReason ?? null}, ${now}, ${now}, ${now}, ${now}) RETURNING id`.execute(db);
  const sessionId = session.rows[0]!.id;
  const experiment = await sql<{ id: number }>`
    INSERT INTO agent_experiments (session_id, outcome, designer, strategy_name, fingerprint, symbol, timeframe, backtest_start, backtest_end,
      backtest_metrics, sharpe, score, hypothesis_id, failure_reason, deflated_sharpe, dsr_trials, completed_at)
    VALUES (${sessionId}, ${row.outcome ?? 'success'}, 'baseline', 'trial', ${row.fingerprint ?? null}, ${row.symbol}, ${row.timeframe}, '2024-01-02', '2025-01-01',
      ${JSON.stringify({ sharpe: row.sharpe, bars: row.bars ?? 6201 })}::jsonb, ${row.sharpe}, ${row.score === undefined ? row.sharpe : row.score},
      ${row.hypothesisId ?? null}, ${row.failureReason ?? null}, ${row.dsr ?? null}, ${row.dsrTrials ?? null}, ${now}) RETURNING id`.execute(db);
  return { experimentId: experiment.rows[0]!.id, sessionId };
}
