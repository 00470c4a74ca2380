import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AgentConfig } from '../../config/load.ts';
import type { Database } from '../../db/database-schema.ts';
import { recordAction } from '../../db/repositories/actions.ts';
import { findSession, type Session } from '../../db/repositories/sessions.ts';
import { openHypotheses } from '../../db/repositories/hypotheses.ts';
import type { KtrdrClient } from '../../ktrdr/client.ts';
import { KtrdrError, ktrdrFaultIn } from '../../ktrdr/errors.ts';
import type { StrategyStore } from '../../strategy/store.ts';
import { isInfrastructureFault } from '../../kernel/faults.ts';
import type { ToolErrorKind } from '../../session/model.ts';
import { runEffect } from '../operator-control.ts';
import { storedToolInput } from '../model-text.ts';
import type { ToolDefinition, ToolOutcome } from '../tool-dispatch.ts';

/** What every tool runs against: the store, KTRDR, the strategies directory, the settings and the turn being logged. */
export interface ToolContext {
  db: Kysely<Database>;
  sessionId: number;
  ktrdr: KtrdrClient;
  strategies: StrategyStore;
  config: AgentConfig;
  now: () => Date;
  /** The current model turn and its tokens, for the action log. */
  turn: { index: number; tokensInput: number | null; tokensOutput: number | null; requestId?: string | null; tokensThinking?: number | null };
  /** Set when a tool could not reach KTRDR: the invocation then waits instead of failing the session. */
  ktrdrUnreachable: boolean;
}

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'not a real calendar date');

function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`).join('; ');
}

async function currentSession(context: ToolContext): Promise<Session> {
  const session = await findSession(context.db, context.sessionId);
  if (!session) throw new Error(`session ${context.sessionId} no longer exists`);
  return session;
}

export function defineTool<S extends z.ZodType>(
  context: ToolContext,
  spec: {
    name: string;
    description: string;
    input: S;
    /** The tool starts compute or changes the session: it runs under the operator's control (operator-control.ts). */
    effect?: true;
    run: (input: z.output<S>, session: Session, ktrdr: KtrdrClient) => Promise<ToolOutcome>;
  },
): ToolDefinition {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(spec.input, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    name: spec.name,
    description: spec.description,
    inputSchema,
    async run(raw: unknown, options: { signal?: AbortSignal } = {}): Promise<ToolOutcome> {
      const started = Date.now();
      const session = await currentSession(context);
      const parsed = spec.input.safeParse(raw ?? {});
      let outcome: ToolOutcome;
      if (!parsed.success) {
        outcome = { ok: false, error: `invalid input for ${spec.name}: ${describeZodError(parsed.error)}`, kind: 'invalid_input' };
      } else {
        try {
          const ktrdr = options.signal ? context.ktrdr.withSignal(options.signal) : context.ktrdr;
          outcome = spec.effect ? await runEffect(context, (locked) => spec.run(parsed.data, locked, ktrdr)) : await spec.run(parsed.data, session, ktrdr);
        } catch (error) {
          const ktrdrFault = ktrdrFaultIn(error);
          if (ktrdrFault && ktrdrFault.faultClass !== 'ktrdr_unreachable') {
            // KTRDR up but busy (429, a 503 with no free worker) or refusing our credentials (401/403): a fault of the
            // world, so the invocation ends without failing its session.
            outcome = { ok: false, error: `${spec.name} failed: ${ktrdrFault.cause}`, fault: ktrdrFault, kind: 'ktrdr_unavailable' };
          } else if (isInfrastructureFault(error)) {
            outcome = { ok: false, error: `${spec.name} could not run: ${error.fault.cause}`, fault: error.fault, kind: 'infrastructure_fault' };
          } else {
            // A call abandoned because the invocation ended says nothing about KTRDR.
            if (error instanceof KtrdrError && error.isUnreachable) {
              context.ktrdrUnreachable = true;
            }
            outcome = { ok: false, error: `${spec.name} failed: ${(error as Error).message}`, kind: thrownKind(error) };
          }
        }
      }
      await recordAction(context.db, {
        sessionId: context.sessionId,
        phase: session.phase,
        toolName: spec.name,
        args: storedToolInput(raw),
        result: outcome.ok ? outcome.content : null,
        success: outcome.ok,
        errorMessage: outcome.ok ? null : outcome.error,
        errorKind: outcome.ok ? null : (outcome.kind ?? 'rejected'),
        durationMs: Date.now() - started,
        turn: context.turn.index,
        tokensInput: context.turn.tokensInput,
        tokensOutput: context.turn.tokensOutput,
        requestId: context.turn.requestId ?? null,
        tokensThinking: context.turn.tokensThinking ?? null,
        at: context.now(),
      });
      return outcome;
    },
  };
}

/** The kind of a failure a tool threw: how KTRDR failed, or the tool's own exception. */
function thrownKind(error: unknown): ToolErrorKind {
  if (!(error instanceof KtrdrError)) return 'exception';
  if (ktrdrFaultIn(error)) return 'ktrdr_unavailable';
  return error.kind === 'invalid_response' ? 'ktrdr_invalid_response' : 'ktrdr_rejected';
}

/** Ids a tool may be given, listed when it was given another. */
export async function validHypothesisIds(context: ToolContext): Promise<string> {
  const open = await openHypotheses(context.db, 20);
  return open.length === 0
    ? 'there are no open hypotheses (propose one in save_assessment, or use "exploration")'
    : `open hypotheses: ${open.map((h) => `#${h.id} ${h.text.slice(0, 60)}`).join('; ')}`;
}
