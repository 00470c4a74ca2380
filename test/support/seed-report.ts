// Dresses seeded experiments (seed-experiments.ts) as a night of research the report has something to say about:
// every third one by the claude designer with a model cost (the rest by the baseline control arm), returns, gate
// evaluations with their checks, assessments and lineage on the successes.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/core/db/database-schema.ts';

export async function dressForReport(db: Kysely<Database>): Promise<void> {
  await sql`UPDATE agent_experiments SET designer = 'claude', model = 'claude-sonnet-4-5', cost_usd = 0.03 + (id % 5) / 1000.0 WHERE id % 3 = 0`.execute(db);
  await sql`UPDATE agent_experiments SET total_return_pct = sharpe * 0.07 WHERE sharpe IS NOT NULL`.execute(db);
  await sql`
    UPDATE agent_experiments SET
      training_gate = '{"gate":"training","passed":true,"reason":null,"checks":[{"metric":"accuracy","value":0.58,"threshold":0.45,"comparison":">=","passed":true},{"metric":"final_loss","value":0.71,"threshold":0.8,"comparison":"<=","passed":true}]}'::jsonb,
      backtest_gate = '{"gate":"backtest","passed":true,"reason":null,"checks":[{"metric":"sharpe","value":1.1,"threshold":-0.5,"comparison":">=","passed":true},{"metric":"max_drawdown","value":0.21,"threshold":0.4,"comparison":"<=","passed":true}]}'::jsonb,
      assessment = '{"verdict":"promising","explanation":"Momentum with a volume filter held its edge out of sample.","strengths":["steady win rate"],"weaknesses":["few trades in 2024"],"suggestions":["try the 4h timeframe"],"author":"claude"}'::jsonb,
      verdict = 'promising',
      parent_experiment_id = CASE WHEN id > 10 THEN id - 7 END
    WHERE outcome = 'success'`.execute(db);
}
