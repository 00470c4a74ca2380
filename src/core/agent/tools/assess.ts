import { z } from 'zod';
import { completeAssessment } from '../../session/end.ts';
import {
  findHypothesis,
  HYPOTHESES_PER_CALL_MAX,
  HYPOTHESIS_EVIDENCE_MAX,
  HYPOTHESIS_RATIONALE_MAX,
  HYPOTHESIS_TEXT_MAX,
  MODEL_VERDICT_STATUSES,
  statusVerdictWasMadeOn,
} from '../../db/repositories/hypotheses.ts';
import { verdicts, type HypothesisStatus } from '../../session/model.ts';
import { phaseModel } from '../../config/model-checks.ts';
import type { ToolDefinition } from '../tool-dispatch.ts';
import { defineTool, validHypothesisIds, type ToolContext } from './define.ts';

export function assessTools(context: ToolContext): ToolDefinition[] {
  const listOfPoints = z.array(z.string().min(1).max(1000)).min(1).max(8);
  return [
    defineTool(context, {
      name: 'save_assessment',
      effect: true,
      description: 'Record your assessment of the strategy. This completes the research cycle.',
      input: z
        .object({
          verdict: z.enum(verdicts),
          explanation: z.string().min(10).max(8000),
          strengths: listOfPoints,
          weaknesses: listOfPoints,
          suggestions: listOfPoints,
          hypotheses_proposed: z
            .array(z.object({ text: z.string().min(10).max(HYPOTHESIS_TEXT_MAX), rationale: z.string().max(HYPOTHESIS_RATIONALE_MAX).optional() }).strict())
            .max(
              HYPOTHESES_PER_CALL_MAX,
              `propose at most ${HYPOTHESES_PER_CALL_MAX} hypotheses per assessment: keep the ones this result most directly suggests`,
            )
            .optional(),
          hypothesis_verdict: z
            .object({
              id: z.number().int().positive(),
              // An in-sample result supports or refutes; only a promotion (the lockbox) validates.
              status: z.enum(MODEL_VERDICT_STATUSES),
              evidence: z.string().min(10).max(HYPOTHESIS_EVIDENCE_MAX),
            })
            .strict()
            .optional(),
        })
        .strict(),
      run: async (input, session) => {
        if (session.phase !== 'assessing') return { ok: false, error: `save_assessment is only allowed while assessing (phase is ${session.phase})` };
        const { hypotheses_proposed: proposed, hypothesis_verdict: verdict, ...assessment } = input;
        let shownStatus: HypothesisStatus | null = null;
        if (verdict) {
          const hypothesis = await findHypothesis(context.db, verdict.id);
          if (!hypothesis || hypothesis.retiredAt)
            return { ok: false, error: `hypothesis_verdict names #${verdict.id}, which is not an open hypothesis; ${await validHypothesisIds(context)}` };
          shownStatus = (await statusVerdictWasMadeOn(context.db, session.id, verdict.id)) ?? hypothesis.status;
        }
        await completeAssessment(
          context.db,
          session.id,
          // The assessment is written by the assess phase's model (AGENT_MODEL_ASSESS), not the designer's.
          { ...assessment, author: session.designer === 'claude' ? phaseModel(context.config.settings, 'assess') : session.designer },
          context.now(),
          {
            proposed: (proposed ?? []).map((p) => ({ text: p.text, rationale: p.rationale ?? null })),
            verdict: verdict && shownStatus ? { ...verdict, shownStatus } : null,
            via: 'save_assessment',
          },
        );
        return {
          ok: true,
          content: {
            saved: true,
            outcome: 'success',
            hypotheses_proposed: proposed?.length ?? 0,
            hypothesis_verdict: verdict ? `#${verdict.id} ${verdict.status}` : null,
          },
        };
      },
    }),
  ];
}
