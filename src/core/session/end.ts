import type { Kysely } from 'kysely';
import type { Database } from '../db/database-schema.ts';
import type { SessionOutcome, Assessment, GateEvaluation, HypothesisStatus } from './model.ts';
import { recordSessionMetrics } from '../db/repositories/metrics.ts';
import { incrementBudgetCounters } from '../db/repositories/budget.ts';
import { findSession, finishSession, updateSession } from '../db/repositories/sessions.ts';
import { utcDay } from '../kernel/utc-day.ts';
import { inTransaction } from '../db/in-transaction.ts';
import { recordExperiment } from '../db/repositories/experiments.ts';
import { addHypothesis, applyModelVerdict, releaseUnjudgedTest, type HypothesisProposer, type ModelVerdictStatus } from '../db/repositories/hypotheses.ts';

/** What an assessment says about hypotheses: new ones it proposes, and its verdict on the one the design tested. */
export interface HypothesisFindings {
  proposed: { text: string; rationale: string | null }[];
  /** `shownStatus`: the status the model judged (compare-and-set: a hypothesis moved since keeps its status). */
  verdict: { id: number; status: ModelVerdictStatus; evidence: string; shownStatus: HypothesisStatus } | null;
  /** Who proposes and judges: the assessment tool (HYPOTHESIS_MOVES). */
  via: HypothesisProposer;
}

/**
 * Ends a session in one transaction: its outcome, its metrics row, its experiment (the research memory), the
 * hypotheses its assessment proposed or judged, and the day's completed-cycle count.
 * Returns false when the session had already ended (another pass got there first).
 */
export async function endSession(
  db: Kysely<Database>,
  sessionId: number,
  input: {
    outcome: SessionOutcome;
    reason: string | null;
    gate?: GateEvaluation;
    assessment?: Assessment;
    /** Results read in the same pass, stored with the outcome so the metrics row has them. */
    trainingResults?: unknown;
    backtestResults?: unknown;
    hypotheses?: HypothesisFindings;
  },
  now: Date,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    if (input.gate || input.assessment || input.trainingResults || input.backtestResults) {
      await updateSession(
        trx,
        sessionId,
        {
          ...(input.gate?.gate === 'training' ? { trainingGate: input.gate } : {}),
          ...(input.gate?.gate === 'backtest' ? { backtestGate: input.gate } : {}),
          ...(input.assessment ? { assessment: input.assessment } : {}),
          ...(input.trainingResults ? { trainingResults: input.trainingResults } : {}),
          ...(input.backtestResults ? { backtestResults: input.backtestResults } : {}),
        },
        now,
      );
    }
    const finished = await finishSession(trx, sessionId, { outcome: input.outcome, failureReason: input.reason, now });
    if (!finished) return false;
    const session = await findSession(trx, sessionId);
    if (!session) return false;
    const gateFailed = input.outcome === 'failed_training_gate' ? 'training' : input.outcome === 'failed_backtest_gate' ? 'backtest' : null;
    await recordSessionMetrics(trx, session, {
      outcome: input.outcome,
      gateFailed,
      gateReason: gateFailed ? (input.gate?.reason ?? input.reason) : null,
      completedAt: now,
    });
    const experimentId = await recordExperiment(trx, sessionId);
    if (input.hypotheses) {
      const { proposed, verdict, via } = input.hypotheses;
      for (const hypothesis of proposed) {
        await addHypothesis(trx, {
          text: hypothesis.text,
          rationale: hypothesis.rationale,
          source: session.designer === 'claude' ? 'model' : 'designer',
          proposedByExperimentId: experimentId,
          via,
          now,
        });
      }
      if (verdict)
        await applyModelVerdict(trx, verdict.id, {
          status: verdict.status,
          shownStatus: verdict.shownStatus,
          evidence: verdict.evidence,
          experimentId,
          via,
          now,
        });
    }
    await releaseUnjudgedTest(trx, {
      sessionId,
      outcome: input.outcome,
      reason: input.reason,
      judgedId: input.hypotheses?.verdict?.id ?? null,
      experimentId,
      now,
    });
    await incrementBudgetCounters(trx, utcDay(now), { cyclesCompleted: 1 });
    return true;
  });
}

export async function completeAssessment(
  db: Kysely<Database>,
  sessionId: number,
  assessment: Assessment,
  now: Date,
  hypotheses?: HypothesisFindings,
): Promise<void> {
  await endSession(db, sessionId, { outcome: 'success', reason: null, assessment, ...(hypotheses ? { hypotheses } : {}) }, now);
}
