import { createSessionWithinCap } from '../db/transactions/create-cycle.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { ktrdrFaultOf } from '../ktrdr/errors.ts';
import { remainingUsd, spentTodayUsd } from '../budget/daily-limit.ts';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import type { InfrastructureFault } from '../kernel/faults.ts';
import { assignSearchDirective } from '../agent/search-directive.ts';
import { afterNewCycles, capacityReport, readResearchSlots, refillsFirst, workersWarning, type SlotsReading } from './capacity.ts';
import { pausedSince, quotaHeld, recordHold, strategiesDirFaulted } from './invocation-guards.ts';
import { explain, record, type PassContext } from './pass-context.ts';
import { noteFault } from './pass-ledger.ts';
import { runInvocation } from './run-invocation.ts';

/** KTRDR's training workers, the active sessions and the budget, read once for the new cycles of this pass. */
export async function readSlots(context: PassContext, options: { quiet?: boolean } = {}): Promise<SlotsReading> {
  const { env } = context;
  const { settings } = env.config;
  const day = await context.budget.day();
  const reading = await readResearchSlots({
    db: env.store.db,
    ktrdr: env.ktrdr,
    setting: settings.AGENT_MAX_CONCURRENT_SESSIONS,
    cap: settings.AGENT_MAX_SESSIONS_CAP,
    budgetBinds: env.designerKind === 'claude' && settings.AGENT_BUDGET_ENFORCEMENT,
    spendableUsd: context.budget.spendableUsd(day),
    ktrdrKnownDown: context.ledger.ktrdrUnreachable,
  });
  const warning = options.quiet ? null : workersWarning(reading);
  if (warning) {
    env.warn?.('workers_unreadable', { warning });
    explain(context, warning);
  }
  return reading;
}

/** Starts as many new cycles as the slots allow and notes in the ledger what limits new cycles now. */
export async function startNewCycles(context: PassContext, given?: SlotsReading): Promise<void> {
  const { ledger } = context;
  const reading = given ?? (await readSlots(context));
  const before = ledger.sessionsCreated.length;
  await startCyclesWithin(context, reading.active, reading.slots.maxActive);
  const seen = ledger.sessionsCreated.length > before ? await afterNewCycles(reading, context.env.ktrdr) : reading;
  ledger.capacity = capacityReport(seen, {
    started: ledger.sessionsCreated.length - before,
    startedThisPass: ledger.sessionsCreated.length,
    paused: false,
    budgetExceeded: ledger.budgetExceeded,
    ktrdrUnreachable: ledger.ktrdrUnreachable,
    held: ledger.hold.held || ledger.faultThisPass,
  });
}

/**
 * `auto`: a training worker KTRDR lists idle takes its new cycle before the sessions' own steps, whose invocations
 * need no training worker (capacity.ts, refillsFirst). Quiet unless a cycle starts: the pass's usual look for new
 * cycles, after the sessions' steps, records and warns as before.
 */
export async function refillIdleWorkers(context: PassContext): Promise<void> {
  if (context.env.config.settings.AGENT_MAX_CONCURRENT_SESSIONS !== 'auto' || context.ledger.hold.held) return;
  const reading = await readSlots(context, { quiet: true });
  if (refillsFirst(reading)) await startNewCycles(context, reading);
}

/** Symbols with hourly data, the search's symbol regions; none when KTRDR does not list them (the history still counts). */
export function searchSymbolsOnce(ktrdr: KtrdrClient): () => Promise<string[]> {
  let symbols: Promise<string[]> | undefined;
  return () => {
    symbols ??= ktrdr.listSymbols().then(
      (listed) => listed.filter((entry) => (entry.available_timeframes ?? []).includes('1h')).map((entry) => entry.symbol),
      () => [],
    );
    return symbols;
  };
}

async function startCyclesWithin(context: PassContext, activeNow: number, max: number): Promise<void> {
  const { env, ledger } = context;
  const { settings } = env.config;
  let active = activeNow;
  if (active >= max) return;
  if (env.designerKind === 'claude' && !settings.ANTHROPIC_API_KEY) {
    throw new AgentError(
      'ANTHROPIC_API_KEY is not set, so the claude designer cannot start a cycle. Set it (env or env file), or set AGENT_DESIGNER=baseline.',
      ExitCode.NotConfigured,
      'not_configured',
    );
  }
  // A new cycle needs KTRDR: when it is down, wait rather than create a session bound to fail.
  let healthFault: InfrastructureFault | null = null;
  if (!ledger.ktrdrUnreachable) {
    healthFault = await env.ktrdr.health().then(
      () => {
        ledger.ktrdrReached = true;
        return null;
      },
      (error: unknown) => ktrdrFaultOf(error),
    );
  }
  if (ledger.ktrdrUnreachable || healthFault) {
    if (healthFault) noteFault(ledger, healthFault);
    await record(context, {
      sessionId: null,
      trigger: 'start_new_cycle',
      action: 'skip',
      invoked: false,
      skipReason: 'ktrdr_unreachable',
      ...(healthFault ? { fault: healthFault } : {}),
    });
    return;
  }
  if (ledger.hold.held) {
    await recordHold(context, null, 'start_new_cycle');
    return;
  }
  while (active < max && !ledger.budgetExceeded && !ledger.faultThisPass) {
    const day = await env.tracer.span('check_budget', {}, async (span) => {
      const current = await context.budget.day();
      span.setAttributes({ 'trigger.budget_remaining_usd': remainingUsd(current), 'budget.limit_usd': current.limitUsd });
      return current;
    });
    if (!context.budget.canInvoke(day)) {
      ledger.budgetExceeded = true;
      const budget = {
        activeSessions: active,
        usedUsd: spentTodayUsd(day),
        limitUsd: day.limitUsd,
        bufferUsd: settings.AGENT_BUDGET_BUFFER_USD,
      };
      await record(context, { sessionId: null, trigger: 'start_new_cycle', action: 'skip', invoked: false, skipReason: 'budget_exceeded' }, { budget });
      return;
    }
    if (await strategiesDirFaulted(context, null, 'start_new_cycle')) return;
    if (await pausedSince(context, null, 'start_new_cycle')) return;
    if (await quotaHeld(context, null, 'start_new_cycle')) return;
    const now = env.now();
    const symbols = await context.searchSymbols();
    const session = await createSessionWithinCap(env.store.db, {
      maxActive: max,
      designer: env.designerKind,
      now,
      leaseOwner: env.tickId,
      leaseExpiresAt: new Date(now.getTime() + settings.AGENT_LEASE_SECONDS * 1000),
      onCreated: async (trx, created) => void (await assignSearchDirective(trx, created.id, { designer: env.designerKind, symbols })),
    });
    if (!session) return;
    context.budget.changed();
    ledger.sessionsCreated.push(session.id);
    await runInvocation(context, session.id, 'design', 'start_new_cycle', { newCycle: { activeBefore: active } });
    active += 1;
  }
}
