import { updateSession, type Session, type SessionChanges } from '../db/repositories/sessions.ts';
import { deflatedSharpeInFamily } from '../db/repositories/experiments.ts';
import type { BacktestResult } from '../ktrdr/results.ts';
import type { GateEvaluation } from '../session/model.ts';
import { decide, type Decision } from './decide.ts';
import { decisionInputFor, whilePaused } from './decision-input.ts';
import type { ExplainFacts } from './decision-record.ts';
import { recordHold, strategiesDirFaulted } from './invocation-guards.ts';
import { explainRecord, failSession, record, type PassContext } from './pass-context.ts';
import { noteFault } from './pass-ledger.ts';
import type { Polled } from './poll-session.ts';
import { recoverSession } from './recover-session.ts';
import { invokeSession } from './run-invocation.ts';
import { locate } from './tick-location.ts';

/**
 * Takes a polled session's next step: decide() says what it is, this carries it out (progress, a recovery, a gate
 * that ends the session, an invocation). Once the pass knows of a pause (the ledger), only progress is recorded
 * (whilePaused, the one rule of a pause). An error that escapes is located at its session: its own writes sit in no
 * span that would say so.
 */
export async function advanceSession(context: PassContext, item: Polled): Promise<void> {
  try {
    await advance(context, item);
  } catch (error) {
    locate(error, { stage: 'pass', step: 'advance_session', sessionId: item.session.id });
    throw error;
  }
}

async function decideFor(context: PassContext, item: Polled): Promise<Decision> {
  const { env } = context;
  const day = await context.budget.day();
  const { session } = item;
  return decide(
    decisionInputFor({
      session,
      observation: item.observation,
      trainingResult: item.training,
      backtestResult: item.backtest && (await withDeflatedSharpe(context, session, item.backtest)),
      waitingForBatch: context.batchWaiting.has(session.id),
      canInvoke: context.budget.canInvoke(day),
      now: env.now(),
      settings: env.config.settings,
    }),
  );
}

/** The backtest with its deflated Sharpe among its family's trials, computed only when the DSR gate is on. */
async function withDeflatedSharpe(
  context: PassContext,
  session: Session,
  backtest: BacktestResult,
): Promise<BacktestResult & { deflatedSharpe?: number | null }> {
  if (context.env.config.settings.GATE_BACKTEST_MIN_DSR === undefined) return backtest;
  const params = session.backtestParams;
  const dsr = await deflatedSharpeInFamily(context.env.store.db, {
    symbol: params?.symbol ?? null,
    timeframe: params?.timeframe ?? null,
    sharpe: backtest.sharpe,
    bars: backtest.bars,
    startDate: params?.startDate ?? null,
    endDate: params?.endDate ?? null,
  });
  return { ...backtest, deflatedSharpe: dsr?.dsr ?? null };
}

async function advance(context: PassContext, item: Polled): Promise<void> {
  const { env, ledger } = context;
  const db = env.store.db;
  const { session } = item;
  const decided = await decideFor(context, item);
  const decision: Decision = ledger.paused ? whilePaused(decided) : decided;
  const now = env.now();
  const base = { sessionId: session.id, trigger: decision.trigger, action: decision.action };
  const facts: ExplainFacts = { phase: session.phase };
  switch (decision.action) {
    case 'skip': {
      if (decision.skipReason === 'budget_exceeded') ledger.budgetExceeded = true;
      const fault =
        (decision.skipReason === 'ktrdr_unreachable' || decision.skipReason === 'ktrdr_busy') && item.observation.kind === 'unreachable'
          ? noteFault(ledger, { faultClass: item.observation.faultClass ?? 'ktrdr_unreachable', cause: item.observation.error })
          : undefined;
      await record(context, { ...base, invoked: false, skipReason: decision.skipReason, ...(fault ? { fault } : {}) }, facts);
      return;
    }
    case 'record_progress': {
      await updateSession(
        db,
        session.id,
        {
          operationProgress: { ...decision.progress, seenAt: now.toISOString() },
          ...(decision.changed ? { progressChangedAt: now } : {}),
        },
        now,
      );
      await record(
        context,
        { ...base, invoked: false, skipReason: 'operation_still_running', detail: decision.progress.currentStep ?? undefined },
        { ...facts, progress: decision.progress },
      );
      return;
    }
    case 'resume_operation':
    case 'restart_operation':
      await recoverSession(context, session, decision);
      return;
    case 'fail': {
      if (decision.cancelOperationId) {
        await env.ktrdr.cancelOperation(decision.cancelOperationId, { reason: decision.reason }).catch(() => undefined);
      }
      await gateSpan(context, decision.gate);
      await failSession(context, session, {
        trigger: decision.trigger,
        outcome: decision.outcome,
        reason: decision.reason,
        gate: decision.gate,
        trainingResults: item.training,
        backtestResults: item.backtest,
      });
      return;
    }
    case 'enter_assessing': {
      await gateSpan(context, decision.gate);
      const changes: SessionChanges = { backtestResults: item.backtest, backtestGate: decision.gate, phase: 'assessing' };
      if (!decision.invoke) {
        await updateSession(db, session.id, changes, now);
        ledger.budgetExceeded = true;
        await record(context, { ...base, invoked: false, skipReason: 'budget_exceeded' });
        return;
      }
      explainRecord(context, { ...base, invoked: false, skipReason: null });
      if (ledger.hold.held) {
        await updateSession(db, session.id, changes, now);
        await recordHold(context, session.id, 'backtest_completed');
        return;
      }
      await invokeSession(context, session, 'assess', 'backtest_completed', false, changes);
      return;
    }
    case 'invoke': {
      await gateSpan(context, decision.gate);
      const changes: SessionChanges =
        decision.purpose === 'backtest' && item.training ? { trainingResults: item.training, ...(decision.gate ? { trainingGate: decision.gate } : {}) } : {};
      if (ledger.hold.held) {
        await recordHold(context, session.id, decision.trigger);
        return;
      }
      if (decision.purpose === 'design' && (await strategiesDirFaulted(context, session.id, decision.trigger))) return;
      await invokeSession(context, session, decision.purpose, decision.trigger, decision.retry, changes);
      return;
    }
  }
}

async function gateSpan(context: PassContext, gate: GateEvaluation | undefined): Promise<void> {
  if (!gate) return;
  await context.env.tracer.span('evaluate_gate', {}, async (span) => {
    const attrs: Record<string, string | number | boolean> = { 'gate.type': gate.gate, 'gate.passed': gate.passed };
    for (const check of gate.checks) {
      if (check.value !== null) attrs[`gate.${check.metric}`] = check.value;
      attrs[`gate.threshold_${check.metric}`] = check.threshold;
    }
    if (gate.reason) attrs['gate.reason'] = gate.reason;
    span.setAttributes(attrs);
  });
}
