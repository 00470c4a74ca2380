import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decisionNote, explainDecision, type DecisionAction, type DecisionRecord, type RecordedSkipReason } from '../../src/core/engine/decision-record.ts';

/** Every action and skip reason: the compiler rejects these lists when one is added or removed. */
const actions = Object.keys({
  skip: true,
  record_progress: true,
  resume_operation: true,
  restart_operation: true,
  fail: true,
  enter_assessing: true,
  invoke: true,
  invocation_result: true,
  refund: true,
  wait: true,
} satisfies Record<DecisionAction, true>) as DecisionAction[];
const skipReasons = Object.keys({
  paused: true,
  ktrdr_unreachable: true,
  ktrdr_busy: true,
  operation_still_running: true,
  invocation_in_progress: true,
  budget_exceeded: true,
  infrastructure_fault: true,
  anthropic_auth: true,
  fault_backoff: true,
  waiting_for_batch: true,
  operation_resumed: true,
  operation_restarted: true,
  gate_failed: true,
  session_failed: true,
} satisfies Record<RecordedSkipReason, true>) as RecordedSkipReason[];

function record(overrides: Partial<DecisionRecord>): DecisionRecord {
  return { sessionId: 4, trigger: 'training_completed', action: 'skip', invoked: false, skipReason: null, ...overrides };
}

describe('explainDecision: the one wording of what the pass decided', () => {
  test('every action of a session says something, except a result the log already has', () => {
    for (const action of actions) {
      const facts = {
        phase: 'training' as const,
        progress: { status: 'running', percentage: 1 },
        recovery: { operationId: 'op_1', failure: 'worker died', resumedAtEpoch: null, reason: 'stalled', restartedAs: 'op_2' },
      };
      const lines = explainDecision(
        record({ action, skipReason: action === 'skip' ? 'invocation_in_progress' : null, outcome: 'failed_training', detail: 'why' }),
        facts,
      );
      assert.equal(lines.length, action === 'invocation_result' ? 0 : 1, action);
      for (const line of lines) assert.doesNotMatch(line, /undefined|null/, `${action}: ${line}`);
    }
  });

  test('every skip reason, of a session and of a new cycle, is one line', () => {
    const fault = { faultClass: 'anthropic_unreachable' as const, cause: 'overloaded' };
    for (const skipReason of skipReasons) {
      for (const sessionId of [4, null]) {
        const lines = explainDecision(record({ sessionId, skipReason, fault, detail: 'retrying later' }), { phase: 'designing' });
        assert.equal(lines.length, 1, `${skipReason} ${sessionId}`);
        assert.doesNotMatch(lines[0]!, /undefined|null/, String(lines[0]));
      }
    }
  });

  test('a session that waits says its phase and why', () => {
    assert.deepEqual(explainDecision(record({ skipReason: 'operation_still_running' }), { phase: 'training' }), [
      'Session #4 (training): waiting (operation_still_running).',
    ]);
  });

  test('progress: the status and the rounded percentage, when there is one', () => {
    const progress = record({ action: 'record_progress', trigger: 'operation_still_running', skipReason: 'operation_still_running' });
    assert.deepEqual(explainDecision(progress, { phase: 'training', progress: { status: 'running', percentage: 66.6 } }), [
      'Session #4 (training): operation running, 67% complete.',
    ]);
    assert.deepEqual(explainDecision(progress, { phase: 'backtesting', progress: { status: 'pending', percentage: null } }), [
      'Session #4 (backtesting): operation pending.',
    ]);
  });

  test('a resume names the epoch it resumed at; a fresh start its new operation', () => {
    const recovery = { operationId: 'op_1', failure: 'worker died', resumedAtEpoch: 12, reason: 'no checkpoint', restartedAs: 'op_2' };
    assert.deepEqual(explainDecision(record({ action: 'resume_operation', skipReason: 'operation_resumed' }), { recovery }), [
      'Session #4: operation op_1 failed (worker died); resumed from its checkpoint at epoch 12.',
    ]);
    assert.deepEqual(
      explainDecision(record({ action: 'resume_operation', skipReason: 'operation_resumed' }), { recovery: { ...recovery, resumedAtEpoch: null } }),
      ['Session #4: operation op_1 failed (worker died); resumed from its checkpoint.'],
    );
    assert.deepEqual(explainDecision(record({ action: 'restart_operation', skipReason: 'operation_restarted' }), { recovery }), [
      'Session #4: no checkpoint; started afresh as op_2.',
    ]);
  });

  test('a recovery KTRDR did not take waits for a later pass', () => {
    const fault = { faultClass: 'ktrdr_busy' as const, cause: 'KTRDR busy: no worker' };
    assert.deepEqual(explainDecision(record({ action: 'restart_operation', skipReason: 'ktrdr_unreachable', fault })), [
      'Session #4: KTRDR did not take the fresh start (ktrdr_busy: KTRDR busy: no worker); it is tried again on a later pass.',
    ]);
  });

  test('a failure gives the outcome and the reason', () => {
    assert.deepEqual(
      explainDecision(record({ action: 'fail', skipReason: 'gate_failed', outcome: 'failed_training_gate', detail: 'training gate: accuracy 5% < 10%' })),
      ['Session #4: failed_training_gate — training gate: accuracy 5% < 10%'],
    );
  });

  test('held invocations and faults before a call name the fault', () => {
    const fault = { faultClass: 'anthropic_auth' as const, cause: 'invalid x-api-key' };
    assert.deepEqual(explainDecision(record({ skipReason: 'anthropic_auth', fault, detail: 'invocations are stopped' })), [
      'Invocations held back (anthropic_auth: invalid x-api-key); invocations are stopped.',
    ]);
    assert.deepEqual(
      explainDecision(record({ sessionId: null, skipReason: 'infrastructure_fault', fault: { faultClass: 'strategies_dir', cause: 'not writable' } })),
      ['Not invoking: not writable.'],
    );
  });

  test('a new cycle: paused, KTRDR down, the budget spent, or created and designed', () => {
    const cycle = record({ sessionId: null, trigger: 'start_new_cycle' });
    assert.match(explainDecision({ ...cycle, trigger: 'paused', skipReason: 'paused' })[0]!, /^Automatic triggering is PAUSED: .*`ktrdr-agent resume`\.$/);
    assert.deepEqual(explainDecision({ ...cycle, skipReason: 'ktrdr_unreachable' }), ['Found: a free slot, but KTRDR is unreachable: no new cycle this pass.']);
    assert.deepEqual(
      explainDecision({ ...cycle, skipReason: 'budget_exceeded' }, { budget: { activeSessions: 0, usedUsd: 4.999, limitUsd: 5, bufferUsd: 0.5 } }),
      ['Found: no active session, but the budget is spent ($5.00 of $5.00, buffer $0.50).'],
    );
    assert.deepEqual(explainDecision({ ...cycle, skipReason: 'budget_exceeded' }, { budget: { activeSessions: 2, usedUsd: 1, limitUsd: 5, bufferUsd: 0.5 } }), [
      'Found: 2 active, but the budget is spent ($1.00 of $5.00, buffer $0.50).',
    ]);
    const invoked = record({ sessionId: 9, trigger: 'start_new_cycle', action: 'invoke', invoked: true, detail: 'design' });
    assert.deepEqual(explainDecision(invoked, { newCycle: { activeBefore: 0 } }), [
      'Found: no active session, budget available',
      "Action: Invoking agent with reason 'start_new_cycle'",
      'Session #9 created',
    ]);
    assert.equal(explainDecision(invoked, { newCycle: { activeBefore: 1 } })[0], 'Found: 1 active session(s), budget available');
  });

  test('an invocation, a retry, a batch, a refund', () => {
    const invoke = record({ action: 'invoke', invoked: true, trigger: 'training_completed', detail: 'backtest' });
    assert.deepEqual(explainDecision(invoke), ['Session #4: invoking the agent (training_completed).']);
    assert.deepEqual(explainDecision(invoke, { retry: true }), ['Session #4: invoking the agent (training_completed, retry after a lost invocation).']);
    assert.deepEqual(explainDecision(record({ action: 'wait', skipReason: 'waiting_for_batch', detail: 'msgbatch_1 processing' })), [
      'Session #4: waiting for batch (msgbatch_1 processing).',
    ]);
    assert.deepEqual(explainDecision(record({ action: 'refund', skipReason: 'budget_exceeded' })), [
      'Session #4: the budget ran out during the invocation; it resumes on a later pass.',
    ]);
    assert.deepEqual(
      explainDecision(
        record({
          action: 'refund',
          skipReason: 'infrastructure_fault',
          fault: { faultClass: 'ktrdr_busy', cause: 'KTRDR busy: No training workers available' },
        }),
      ),
      ['Session #4: ktrdr_busy during the invocation (KTRDR busy: No training workers available); the session keeps its phase and is retried on a later pass.'],
    );
    assert.deepEqual(explainDecision(record({ action: 'enter_assessing', trigger: 'backtest_completed' })), [
      'Session #4: backtest passed its gate; assessing.',
    ]);
  });
});

describe("decisionNote: the demo's short note of a decision", () => {
  test('a session that moved on or ended says so; an invocation names its trigger (a new cycle by its id); a skip its reason', () => {
    assert.equal(
      decisionNote(record({ action: 'invocation_result', outcome: 'achieved', detail: 'the design invocation moved the session to training' }), undefined),
      '#4 the design invocation moved the session to training',
    );
    assert.equal(
      decisionNote(record({ action: 'fail', outcome: 'failed_backtest_gate', detail: `backtest gate: ${'x'.repeat(100)}` }), undefined),
      `#4 failed_backtest_gate (backtest gate: ${'x'.repeat(55)})`,
    );
    assert.equal(decisionNote(record({ sessionId: null, action: 'invoke', invoked: true, trigger: 'start_new_cycle' }), 9), '#9 start_new_cycle');
    assert.equal(decisionNote(record({ skipReason: 'budget_exceeded' }), undefined), '#4 budget_exceeded');
    assert.equal(decisionNote(record({ action: 'wait' }), undefined), '#4 wait');
  });
});
