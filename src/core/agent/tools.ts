import { z } from 'zod';
import type { Session } from '../db/repositories/sessions.ts';
import type { InvocationPurpose } from '../session/model.ts';
import type { ToolDefinition } from './tool-dispatch.ts';
import { defineTool, type ToolContext } from './tools/define.ts';
import { designTools } from './tools/design.ts';
import { backtestTools, startTrainingTool } from './tools/start.ts';
import { assessTools } from './tools/assess.ts';

// What a caller of toolsFor needs, from the files that declare them.
export type { ToolContext } from './tools/define.ts';
export type { ToolDefinition } from './tool-dispatch.ts';

function agentState(session: Session) {
  return {
    session_id: session.id,
    phase: session.phase,
    strategy_name: session.strategyName,
    training_operation_id: session.trainingOperationId,
    backtest_operation_id: session.backtestOperationId,
    training_params: session.trainingParams,
    backtest_params: session.backtestParams,
    training_results: session.trainingResults,
    training_gate: session.trainingGate,
    backtest_results: session.backtestResults,
    backtest_gate: session.backtestGate,
  };
}

function getAgentStateTool(context: ToolContext): ToolDefinition {
  return defineTool(context, {
    name: 'get_agent_state',
    description: 'Read the current research session: phase, strategy, operations, results and gate evaluations. Read-only.',
    input: z.object({}).strict(),
    run: async (_input, session) => ({ ok: true, content: agentState(session) }),
  });
}

/** The model sees only the tools of its current phase. */
export function toolsFor(purpose: InvocationPurpose, context: ToolContext): ToolDefinition[] {
  const phaseTools =
    purpose === 'design' ? [...designTools(context), startTrainingTool(context)] : purpose === 'backtest' ? backtestTools(context) : assessTools(context);
  return [getAgentStateTool(context), ...phaseTools];
}
