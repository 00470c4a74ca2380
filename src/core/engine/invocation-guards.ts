// What may keep an invocation (or a new cycle) from starting, each checked as late as it can be and recorded once.
import { readControl } from '../db/repositories/control.ts';
import { checkStrategiesDir } from '../strategy/dir-health.ts';
import { quotaShortage } from '../agent/quota.ts';
import type { TriggerReason } from '../session/model.ts';
import { record, type PassContext } from './pass-context.ts';
import { noteFault } from './pass-ledger.ts';

/** An operator paused the agent (the ledger knows, or the store says so now): nothing more is invoked or started. */
export async function pausedSince(context: PassContext, sessionId: number | null, trigger: TriggerReason): Promise<boolean> {
  const { ledger } = context;
  if (!ledger.paused && !(await readControl(context.env.store.db)).paused) return false;
  ledger.paused = true;
  await record(context, { sessionId, trigger, action: 'skip', invoked: false, skipReason: 'paused' });
  return true;
}

/** Records that invocations are held back by a held fault (nothing when none is held). */
export async function recordHold(context: PassContext, sessionId: number | null, trigger: TriggerReason): Promise<void> {
  const { hold } = context.ledger;
  if (!hold.held) return;
  const { fault } = hold;
  const detail =
    hold.skipReason === 'anthropic_auth'
      ? 'invocations are stopped until ANTHROPIC_API_KEY changes or an operator runs `ktrdr-agent resume`'
      : `retrying after ${hold.retryAt.toISOString()} (fault ${fault.streak} in a row)`;
  await record(context, {
    sessionId,
    trigger,
    action: 'skip',
    invoked: false,
    skipReason: hold.skipReason,
    fault: { faultClass: fault.faultClass, cause: fault.cause },
    detail,
  });
}

/** The strategies directory must take a file before money is spent on a design; no session is created or failed. */
export async function strategiesDirFaulted(context: PassContext, sessionId: number | null, trigger: TriggerReason): Promise<boolean> {
  const fault = await checkStrategiesDir(context.env.config.strategiesDir);
  if (!fault) return false;
  noteFault(context.ledger, fault);
  await record(context, { sessionId, trigger, action: 'skip', invoked: false, skipReason: 'infrastructure_fault', fault });
  return true;
}

/**
 * The last answer's `anthropic-ratelimit-*` headers said the quota cannot cover one call before its reset: the pass
 * skips the invocation (a recorded fault, not a failure; nothing is sent, nothing counted against the session).
 */
export async function quotaHeld(context: PassContext, sessionId: number | null, trigger: TriggerReason): Promise<boolean> {
  const { env } = context;
  if (env.designerKind !== 'claude') return false;
  const shortage = await quotaShortage(env.store.db, env.now());
  if (shortage === null) return false;
  const fault = noteFault(context.ledger, { faultClass: 'anthropic_rate_limited', cause: shortage });
  await record(context, { sessionId, trigger, action: 'skip', invoked: false, skipReason: 'infrastructure_fault', fault });
  return true;
}
