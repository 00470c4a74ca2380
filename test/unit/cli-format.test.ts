import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../src/core/kernel/errors.ts';
import { parseDailyLimit } from '../../src/core/cli/services/budget-set.ts';
import { renderBudgetSetText } from '../../src/core/cli/views/budget-text.ts';
import { decodeCursor, encodeCursor, expandOutcomeFilter, parseSince } from '../../src/core/cli/views/history-view.ts';
import { decisionText } from '../../src/core/engine/decision-record.ts';
import { cycleDetail, describeOperation, describeTick, formatMetric, truncate } from '../../src/core/cli/views/phrases.ts';
import { actionCall } from '../../src/core/cli/views/session-text.ts';
import { failedGate, firstSentence, gateEvaluation, outcomeLabel, trainingFigures } from '../../src/core/cli/views/session-facts.ts';
import { parseSessionId } from '../../src/core/cli/views/session-view.ts';
import { renderStatusText } from '../../src/core/cli/views/status-text.ts';
import { tickDecisions } from '../../src/core/db/repositories/ticks.ts';
import type { Operation, StatusView } from '../../src/core/cli/views/schemas.ts';

const NOW = new Date('2026-01-15T14:30:00.000Z');

function rejects(run: () => unknown, message: RegExp, exitCode = 1): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AgentError);
    assert.equal(error.exitCode, exitCode);
    assert.match(error.message, message);
    return true;
  });
}

describe('history --since', () => {
  test('takes a UTC day, an ISO time, a span back from now, today and yesterday', () => {
    assert.equal(parseSince('2026-01-10', NOW).toISOString(), '2026-01-10T00:00:00.000Z');
    assert.equal(parseSince('2026-01-10T08:15:00Z', NOW).toISOString(), '2026-01-10T08:15:00.000Z');
    assert.equal(parseSince('2026-01-10T08:15:00+02:00', NOW).toISOString(), '2026-01-10T06:15:00.000Z');
    assert.equal(parseSince('7d', NOW).toISOString(), '2026-01-08T14:30:00.000Z');
    assert.equal(parseSince('12h', NOW).toISOString(), '2026-01-15T02:30:00.000Z');
    assert.equal(parseSince('30m', NOW).toISOString(), '2026-01-15T14:00:00.000Z');
    assert.equal(parseSince('2w', NOW).toISOString(), '2026-01-01T14:30:00.000Z');
    assert.equal(parseSince('today', NOW).toISOString(), '2026-01-15T00:00:00.000Z');
    assert.equal(parseSince('Yesterday', NOW).toISOString(), '2026-01-14T00:00:00.000Z');
  });

  test('rejects anything else with a message that shows the accepted forms', () => {
    for (const bad of ['last week', '2026-13-01', '2026-02-30', '7', 'd7', '']) {
      rejects(() => parseSince(bad, NOW), /Invalid --since .*use a day \(2026-01-15\), an ISO time/);
    }
  });
});

describe('history cursors', () => {
  test('round-trip both kinds of position', () => {
    assert.deepEqual(decodeCursor(encodeCursor({ kind: 'active', id: 17 })), { kind: 'active', id: 17 });
    const finished = { kind: 'finished' as const, completedMicros: '1768487400123456', id: 9 };
    assert.deepEqual(decodeCursor(encodeCursor(finished)), finished);
  });

  test('a cursor that was not printed by history is refused', () => {
    for (const bad of ['nonsense', Buffer.from('f:abc:1').toString('base64url'), Buffer.from('a:-3').toString('base64url'), '']) {
      rejects(() => decodeCursor(bad), /Invalid --cursor .*nextCursor/);
    }
  });
});

test('--outcome failed stands for every failed_* outcome; duplicates collapse', () => {
  assert.deepEqual(expandOutcomeFilter(['failed']), [
    'failed_design',
    'failed_training',
    'failed_training_gate',
    'failed_backtest',
    'failed_backtest_gate',
    'failed_assessment',
  ]);
  assert.deepEqual(expandOutcomeFilter(['cancelled', 'success', 'success']), ['success', 'cancelled']);
});

describe('budget set amount', () => {
  test('accepts positive dollar amounts up to 100000', () => {
    assert.deepEqual(parseDailyLimit('10'), { limitUsd: 10, roundedFrom: null });
    assert.deepEqual(parseDailyLimit('10.00'), { limitUsd: 10, roundedFrom: null });
    assert.deepEqual(parseDailyLimit('$2.5'), { limitUsd: 2.5, roundedFrom: null });
    assert.deepEqual(parseDailyLimit('.75'), { limitUsd: 0.75, roundedFrom: null });
    assert.deepEqual(parseDailyLimit('100000'), { limitUsd: 100000, roundedFrom: null });
    assert.deepEqual(parseDailyLimit('10.1000'), { limitUsd: 10.1, roundedFrom: null });
  });

  test('rounds to the cent, half up on the decimal digits (not on a binary float), and says so', () => {
    // As a float, 10.005 is 10.00499999...: Math.round(10.005 * 100) / 100 would give 10.
    assert.deepEqual(parseDailyLimit('10.005'), { limitUsd: 10.01, roundedFrom: '10.005' });
    assert.deepEqual(parseDailyLimit('1.004'), { limitUsd: 1, roundedFrom: '1.004' });
    assert.deepEqual(parseDailyLimit('0.999'), { limitUsd: 1, roundedFrom: '0.999' });
    rejects(() => parseDailyLimit('0.004'), /Invalid budget '0\.004': give a positive dollar amount up to 100000 \(it rounds to \$0\.00\)/);
    const text = renderBudgetSetText(
      {
        limitUsd: 10.01,
        previousLimitUsd: 5,
        source: 'override',
        configuredLimitUsd: 5,
        roundedFrom: '10.005',
        date: '2026-01-15',
        usedTodayUsd: 0,
        remainingTodayUsd: 10.01,
      },
      { color: false },
    );
    assert.equal(text.split('\n')[0], 'Budget limit updated to $10.01/day (10.005 rounded to the cent)');
    assert.match(text, /Source: database override \(wins over AGENT_BUDGET_DAILY_USD=\$5\.00\); `ktrdr-agent budget set --clear` returns to the setting\./);
    const cleared = renderBudgetSetText(
      {
        limitUsd: 5,
        previousLimitUsd: 10.01,
        source: 'config',
        configuredLimitUsd: 5,
        roundedFrom: null,
        date: '2026-01-15',
        usedTodayUsd: 0,
        remainingTodayUsd: 5,
      },
      { color: false },
    );
    assert.match(cleared, /^Budget override cleared: the limit is AGENT_BUDGET_DAILY_USD, \$5\.00\/day\.\n\(was \$10\.01\/day\)/);
  });

  test('refuses zero, negatives, too much and non-numbers with the reason and an example', () => {
    for (const bad of ['-1', '0', '0.00', '100000.01', 'abc', '1e3', '10,00', 'Infinity', 'NaN', '']) {
      rejects(() => parseDailyLimit(bad), /Invalid budget '.*': give a positive dollar amount up to 100000, e\.g\. `ktrdr-agent budget set 10\.00`/);
    }
  });

  test('confirms the new limit and warns when today is already over it', () => {
    const text = renderBudgetSetText(
      {
        limitUsd: 1,
        previousLimitUsd: 5,
        source: 'override',
        configuredLimitUsd: 5,
        roundedFrom: null,
        date: '2026-01-15',
        usedTodayUsd: 1.24,
        remainingTodayUsd: 0,
      },
      { color: false },
    );
    assert.equal(text.split('\n')[0], 'Budget limit updated to $1.00/day');
    assert.match(text, /\(was \$5\.00\/day\)/);
    assert.match(text, /Today's spend \$1\.24 already reaches it/);
  });
});

describe('session id', () => {
  test('accepts a number, with or without #', () => {
    assert.equal(parseSessionId('41'), 41);
    assert.equal(parseSessionId('#41'), 41);
    assert.equal(parseSessionId(' 7 '), 7);
  });

  test('refuses what is not a positive integer', () => {
    for (const bad of ['abc', '4.2', '-3', '0', '', '12abc']) {
      rejects(() => parseSessionId(bad), /Invalid session id .*ktrdr-agent session 42/);
    }
  });
});

describe('phrases', () => {
  const operation: Operation = {
    kind: 'training',
    id: 'op_abc123',
    status: 'running',
    percentage: 66.6,
    currentStep: null,
    seenAt: null,
    progressChangedAt: '2026-01-15T13:00:00.000Z',
    stalled: false,
  };

  test('an operation reads like the reference: op id, status, percent complete', () => {
    assert.equal(describeOperation(operation, NOW), 'op_abc123 (running, 67% complete)');
    assert.equal(describeOperation({ ...operation, status: null, percentage: null }, NOW), 'op_abc123 (not polled yet)');
    assert.equal(describeOperation({ ...operation, stalled: true }, NOW), 'op_abc123 (running, 67% complete) · no progress for 1h 30m');
  });

  test('a finished cycle is summed up by its Sharpe, its gate, or its failure', () => {
    const base = { sharpe: null, failedGate: null, failureReason: null, verdict: null };
    assert.equal(cycleDetail({ ...base, outcome: 'success', sharpe: 0.8234 }), 'Sharpe: 0.82');
    assert.equal(
      cycleDetail({ ...base, outcome: 'failed_backtest_gate', failedGate: { gate: 'backtest', reason: 'win_rate 41.2% < 45%' } }),
      'Gate: backtest, win_rate 41.2% < 45%',
    );
    assert.equal(cycleDetail({ ...base, outcome: 'failed_training', failureReason: 'CUDA out of memory\ntrace' }), 'Training: CUDA out of memory');
    assert.equal(cycleDetail({ ...base, outcome: 'cancelled' }), 'Cancelled');
  });

  test('outcome labels, gate metrics and truncation', () => {
    assert.equal(outcomeLabel('failed_backtest_gate'), 'FAILED (backtest_gate)');
    assert.equal(outcomeLabel('success'), 'SUCCESS');
    assert.equal(formatMetric('win_rate', 0.412), '41.2%');
    assert.equal(formatMetric('sharpe', -0.1234), '-0.12');
    assert.equal(truncate('momentum_breakout', 8), 'momentu…');
    assert.equal(truncate('short', 8), 'short');
  });

  test('tick decisions from the free-form summary; junk is ignored', () => {
    const { decisions, sessionsCreated } = tickDecisions({
      decisions: [
        {
          sessionId: 4,
          trigger: 'operation_still_running',
          action: 'record_progress',
          invoked: false,
          skipReason: 'operation_still_running',
          detail: 'Epoch 3/50',
        },
        null,
        'junk',
        { sessionId: 'x', trigger: 'start_new_cycle', action: 'skip', skipReason: 'budget_exceeded' },
        { sessionId: 7, trigger: 'backtest_completed', action: 'fail', invoked: false, skipReason: null, outcome: 'failed_backtest_gate' },
        { sessionId: 8, trigger: 'start_new_cycle', action: 'invoke', invoked: true, skipReason: null, detail: 'design' },
      ],
      sessionsCreated: [5, 'six'],
    });
    assert.equal(decisions.length, 4);
    assert.deepEqual(decisions[1], {
      sessionId: null,
      trigger: 'start_new_cycle',
      action: 'skip',
      invoked: false,
      skipReason: 'budget_exceeded',
      outcome: null,
      detail: null,
    });
    assert.deepEqual(sessionsCreated, [5]);
    assert.deepEqual(tickDecisions(null), { decisions: [], sessionsCreated: [] });
    assert.deepEqual(decisions.map(decisionText), [
      '#4 operation_still_running → progress recorded · Epoch 3/50',
      'start_new_cycle → skipped (budget_exceeded)',
      '#7 backtest_completed → failed (failed_backtest_gate)',
      '#8 start_new_cycle → agent invoked · design',
    ]);
  });

  test('a decision phrases its action; an action stored by another version shows as written', () => {
    const base = { sessionId: 3, trigger: 'training_failed', invoked: false, skipReason: 'operation_restarted', outcome: null, detail: null };
    assert.equal(decisionText({ ...base, action: 'restart_operation' }), '#3 training_failed → operation restarted (operation_restarted)');
    assert.equal(
      decisionText({ ...base, action: 'wait', skipReason: 'waiting_for_batch', detail: 'msgbatch_1' }),
      '#3 training_failed → waiting (waiting_for_batch) · msgbatch_1',
    );
    assert.equal(decisionText({ ...base, action: 'teleport', skipReason: null }), '#3 training_failed → teleport');
  });

  test('a running tick is described as running, not by a finish it has not had', () => {
    const described = describeTick(
      {
        id: 't',
        startedAt: '2026-01-15T14:29:00.000Z',
        finishedAt: null,
        secondsAgo: 60,
        host: 'h',
        status: 'running',
        errorMessage: null,
        decisions: [],
        sessionsCreated: [],
      },
      NOW,
    );
    assert.equal(described.headline, 'running since 1 minute ago (on h)');
    assert.equal(described.stale, false);
  });

  test('action calls name their arguments and elide nested values', () => {
    assert.equal(
      actionCall({ toolName: 'save_strategy_config', args: { name: 'momentum_ema_cross', config: { a: 1 }, n: 5, ok: true, list: [] } }),
      'save_strategy_config(name="momentum_ema_cross", config={...}, n=5, ok=true, list=[])',
    );
    assert.equal(actionCall({ toolName: 'get_available_indicators', args: null }), 'get_available_indicators()');
  });
});

describe('session facts', () => {
  test('stored results are read defensively: strings become numbers, junk becomes null', () => {
    const figures = trainingFigures({ accuracy: '0.523', finalLoss: 0.42, epochsTrained: 'many', earlyStopped: 'yes' });
    assert.equal(figures?.accuracy, 0.523);
    assert.equal(figures?.finalLoss, 0.42);
    assert.equal(figures?.epochsTrained, null);
    assert.equal(figures?.earlyStopped, null);
    assert.equal(trainingFigures(null), null);
    assert.equal(trainingFigures([1, 2]), null);
  });

  test('the failed gate is the first gate that did not pass', () => {
    const passed = { gate: 'training', passed: true, reason: null, checks: [] };
    const failed = {
      gate: 'backtest',
      passed: false,
      reason: 'win_rate 41.2% < 45%',
      checks: [{ metric: 'win_rate', value: 0.412, threshold: 0.45, comparison: '>=', passed: false }],
    };
    assert.deepEqual(failedGate(passed, failed), { gate: 'backtest', reason: 'win_rate 41.2% < 45%' });
    assert.equal(failedGate(passed, null), null);
    assert.equal(gateEvaluation({ gate: 'other', passed: true }), null);
  });

  test('the first sentence of an assessment, capped', () => {
    assert.equal(firstSentence('Strategy shows an edge. It fails in ranges.'), 'Strategy shows an edge.');
    assert.equal(firstSentence('No full stop here\nsecond line'), 'No full stop here');
    assert.equal(firstSentence('x'.repeat(300), 20).length, 20);
  });
});

describe('status text', () => {
  const view: StatusView = {
    generatedAt: NOW.toISOString(),
    paused: true,
    pausedAt: '2026-01-15T14:20:00.000Z',
    banners: [
      {
        kind: 'paused',
        since: '2026-01-15T14:20:00.000Z',
        message: 'Automatic triggering is PAUSED (since 2026-01-15 14:20:00 UTC, 10 minutes ago).',
        advice: 'Run `ktrdr-agent resume` to restart.',
      },
    ],
    active: [],
    activeTotal: 0,
    recent: [],
    budget: {
      date: '2026-01-15',
      limitUsd: 5,
      limitSource: 'config',
      usedUsd: 1.24,
      reservedUsd: 0,
      remainingUsd: 3.76,
      usedFraction: 0.248,
      invocations: 18,
      cyclesStarted: 3,
      cyclesCompleted: 3,
      cyclesActive: 0,
    },
    lastTick: null,
    bestExperiment: null,
  };

  test('opens with the pause banner and reads like the reference', () => {
    const text = renderStatusText(view, { color: false });
    assert.match(
      text.split('\n')[0]!,
      /^⚠️ {2}Automatic triggering is PAUSED \(since 2026-01-15 14:20:00 UTC, 10 minutes ago\)\. Run `ktrdr-agent resume` to restart\.$/,
    );
    assert.match(text, /=== Today's Budget ===\nUsed: \$1\.24 \/ \$5\.00 \(24\.8%\)\nRemaining: \$3\.76\nInvocations: 18\nCycles: 3 completed, 0 active/);
    assert.match(text, /No tick has run yet/);
    assert.doesNotMatch(text, /\u001b\[/, 'no escape codes without colour');
  });

  test('up to three active sessions get a block each, in the reference layout', () => {
    const text = renderStatusText(
      {
        ...view,
        paused: false,
        banners: [],
        activeTotal: 1,
        active: [
          {
            id: 42,
            batch: null,
            phase: 'training',
            strategyName: 'momentum_breakout_20240115_143022',
            designer: 'claude',
            createdAt: '2026-01-15T14:15:00.000Z',
            phaseStartedAt: '2026-01-15T14:18:00.000Z',
            secondsInPhase: 720,
            secondsSinceStart: 900,
            operation: {
              kind: 'training',
              id: 'op_abc123',
              status: 'running',
              percentage: 67,
              currentStep: null,
              seenAt: null,
              progressChangedAt: null,
              stalled: false,
            },
            invocation: null,
            costUsd: 0.04,
          },
        ],
      },
      { color: false },
    );
    assert.match(
      text,
      /^=== Current Cycle ===\nSession: #42\nPhase: TRAINING \(for 12m 0s\)\nStrategy: momentum_breakout_20240115_143022\nStarted: 15 minutes ago\nTraining Operation: op_abc123 \(running, 67% complete\)\nCost so far: \$0\.04\n/,
    );
  });

  test('colours only when asked', () => {
    assert.match(renderStatusText(view, { color: true }), /\u001b\[33m⚠️/);
  });
});
