import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import { App } from '../../src/core/cli/tui/app.ts';
import { BudgetGauge } from '../../src/core/cli/tui/budget-gauge.ts';
import { Dashboard } from '../../src/core/cli/tui/dashboard.ts';
import { LastTick } from '../../src/core/cli/tui/last-tick.ts';
import { PauseBanner } from '../../src/core/cli/tui/pause-banner.ts';
import { ProgressBar } from '../../src/core/cli/tui/progress-bar.ts';
import { RecentOutcomes } from '../../src/core/cli/tui/recent-outcomes.ts';
import { SessionCard } from '../../src/core/cli/tui/session-card.ts';
import {
  statusViewSchema,
  type ActiveCycle,
  type LastTick as LastTickView,
  type RecentCycle,
  type StatusView,
  type TodayBudget,
} from '../../src/core/cli/views/schemas.ts';

const h = React.createElement;
const NOW = new Date('2026-01-15T14:30:00.000Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function trainingCycle(overrides: Partial<ActiveCycle> = {}): ActiveCycle {
  return {
    id: 42,
    batch: null,
    phase: 'training',
    strategyName: 'momentum_breakout_20240115_143022',
    designer: 'claude',
    createdAt: minutesAgo(15),
    phaseStartedAt: minutesAgo(12),
    secondsInPhase: 720,
    secondsSinceStart: 900,
    operation: {
      kind: 'training',
      id: 'op_abc123',
      status: 'running',
      percentage: 67,
      currentStep: 'Epoch 34/50',
      seenAt: minutesAgo(1),
      progressChangedAt: minutesAgo(1),
      stalled: false,
    },
    invocation: null,
    costUsd: 0.04,
    ...overrides,
  };
}

function recentCycle(overrides: Partial<RecentCycle> = {}): RecentCycle {
  return {
    id: 41,
    strategyName: 'momentum_ema_cross',
    outcome: 'success',
    createdAt: minutesAgo(165),
    completedAt: minutesAgo(120),
    durationSeconds: 2700,
    sharpe: 0.82,
    failedGate: null,
    failureReason: null,
    verdict: 'promising',
    costUsd: 0.08,
    ...overrides,
  };
}

const gateFailure = recentCycle({
  id: 40,
  strategyName: 'mean_reversion_rsi',
  outcome: 'failed_backtest_gate',
  completedAt: minutesAgo(240),
  sharpe: -0.12,
  failedGate: { gate: 'backtest', reason: 'win_rate 41.2% < 45%' },
  verdict: null,
});

function budget(overrides: Partial<TodayBudget> = {}): TodayBudget {
  return {
    date: '2026-01-15',
    limitUsd: 5,
    limitSource: 'config',
    usedUsd: 1.24,
    reservedUsd: 0,
    remainingUsd: 3.76,
    usedFraction: 0.248,
    invocations: 18,
    cyclesStarted: 4,
    cyclesCompleted: 3,
    cyclesActive: 1,
    ...overrides,
  };
}

function progressDecision(sessionId: number) {
  return {
    sessionId,
    trigger: 'operation_still_running',
    action: 'record_progress',
    invoked: false,
    skipReason: 'operation_still_running',
    outcome: null,
    detail: 'Epoch 34/50',
  };
}

function tick(overrides: Partial<LastTickView> = {}): LastTickView {
  return {
    id: 'tick-1',
    startedAt: minutesAgo(2),
    finishedAt: minutesAgo(2),
    secondsAgo: 120,
    host: 'host-1',
    status: 'ok',
    errorMessage: null,
    decisions: [progressDecision(42)],
    sessionsCreated: [],
    ...overrides,
  };
}

function statusView(overrides: Partial<StatusView> = {}): StatusView {
  return statusViewSchema.parse({
    generatedAt: NOW.toISOString(),
    paused: false,
    pausedAt: null,
    active: [trainingCycle()],
    activeTotal: 1,
    recent: [recentCycle(), gateFailure],
    budget: budget(),
    lastTick: tick(),
    bestExperiment: null,
    ...overrides,
  });
}

function frameOf(element: React.ReactElement): string {
  const instance = render(element);
  const frame = instance.lastFrame() ?? '';
  instance.unmount();
  return frame;
}

const count = (text: string, char: string) => [...text].filter((c) => c === char).length;

describe('ProgressBar', () => {
  test('fills its width in proportion and always shows the percentage', () => {
    const frame = frameOf(h(ProgressBar, { percentage: 67, width: 30, color: false }));
    assert.match(frame, /^\[█+░+\]  67%$/);
    // 30 columns minus "[", "] " and " 67%": 23 cells, 67% of them filled.
    assert.equal(count(frame, '█'), 15);
    assert.equal(count(frame, '█') + count(frame, '░'), 23);
  });

  test('shows an empty bar and ?% before KTRDR reports progress', () => {
    const frame = frameOf(h(ProgressBar, { percentage: null, width: 20, color: false }));
    assert.equal(count(frame, '█'), 0);
    assert.match(frame, /\?%$/);
  });

  test('a full bar at 100%, an empty one at 0%', () => {
    assert.equal(count(frameOf(h(ProgressBar, { percentage: 100, width: 20, color: false })), '░'), 0);
    assert.equal(count(frameOf(h(ProgressBar, { percentage: 0, width: 20, color: false })), '█'), 0);
  });
});

describe('SessionCard', () => {
  test('shows the session, its phase, strategy, time in phase and the running operation with a progress bar', () => {
    const frame = frameOf(h(SessionCard, { cycle: trainingCycle(), now: NOW, width: 80, color: false }));
    assert.match(frame, /#42 TRAINING {2}momentum_breakout_20240115_143022/);
    assert.match(frame, /in phase 12m 0s · started 15 minutes ago · \$0\.04 so far/);
    assert.match(frame, /Training op_abc123 \(running, 67% complete\) · Epoch 34\/50/);
    assert.match(frame, /\[█+░+\] {2}67%/);
    assert.match(frame, /╭─+╮/, 'drawn as a card');
  });

  test('warns when the operation has stalled', () => {
    const stalled = trainingCycle({ operation: { ...trainingCycle().operation!, stalled: true, progressChangedAt: minutesAgo(75) } });
    const frame = frameOf(h(SessionCard, { cycle: stalled, now: NOW, width: 100, color: false }));
    assert.match(frame, /no progress for 1h 15m/);
    assert.match(frame, /Stalled: the next tick will resume or fail it\./);
  });

  test('a designing session shows the agent at work instead of an operation', () => {
    const designing = trainingCycle({
      phase: 'designing',
      strategyName: null,
      operation: null,
      invocation: { owner: 'host-1:4242', expiresAt: minutesAgo(-10) },
    });
    const frame = frameOf(h(SessionCard, { cycle: designing, now: NOW, width: 80, color: false }));
    assert.match(frame, /#42 DESIGNING {2}\(being designed\)/);
    assert.match(frame, /Agent working \(host-1:4242\)/);
    assert.doesNotMatch(frame, /█/);
  });

  test('compact mode is one line with the progress bar', () => {
    const frame = frameOf(h(SessionCard, { cycle: trainingCycle(), now: NOW, width: 100, color: false, compact: true, nameWidth: 34 }));
    assert.equal(frame.split('\n').length, 1);
    assert.match(frame, /^#42 TRAINING +12m 0s {2}momentum_breakout_20240115_143022 +\[█+░+\] {2}67%/);
  });
});

describe('RecentOutcomes', () => {
  test('one line per cycle: outcome, strategy, Sharpe or gate reason, and when', () => {
    const frame = frameOf(h(RecentOutcomes, { cycles: [recentCycle(), gateFailure], now: NOW, width: 100, color: false }));
    const lines = frame.split('\n');
    assert.equal(lines[0], 'Recent cycles');
    assert.match(lines[1]!, /^#41 SUCCESS +momentum_ema_cross +Sharpe: 0\.82 \(promising\) +2 hours ago$/);
    assert.match(lines[2]!, /^#40 FAILED +mean_reversion_rsi +Gate: backtest, win_rate 41\.2% < 45% +4 hours ago$/);
  });

  test('cuts lines to a narrow terminal instead of wrapping them', () => {
    const frame = frameOf(h(Dashboard, { view: statusView(), now: NOW, width: 40, color: false }));
    assert.ok(frame.split('\n').length > 5);
    const narrow = frameOf(h(RecentOutcomes, { cycles: [gateFailure], now: NOW, width: 40, color: false }));
    assert.equal(narrow.split('\n').length, 2, 'one line per cycle even when it does not fit');
  });

  test('says so when nothing has finished yet', () => {
    assert.match(frameOf(h(RecentOutcomes, { cycles: [], now: NOW, width: 80, color: false })), /No finished cycles yet/);
  });
});

describe('BudgetGauge', () => {
  test("shows today's spend against the limit as a gauge with invocations and cycles", () => {
    const frame = frameOf(h(BudgetGauge, { budget: budget(), width: 100, color: false }));
    assert.match(frame, /Budget today \(2026-01-15 UTC\)/);
    assert.match(frame, /\[█+░+\] \$1\.24 \/ \$5\.00 \(24\.8%\)/);
    assert.match(frame, /\$3\.76 left · 18 invocations · 3 completed, 1 active/);
    // The bar is 40 cells at this width; 24.8% of 40 rounds to 10.
    assert.equal(count(frame, '█'), 10);
  });

  test('a spent budget fills the gauge and shows money in flight', () => {
    const frame = frameOf(h(BudgetGauge, { budget: budget({ usedUsd: 6, usedFraction: 1.2, remainingUsd: 0, reservedUsd: 0.3 }), width: 100, color: false }));
    assert.equal(count(frame, '░'), 0);
    assert.match(frame, /\$6\.00 \/ \$5\.00 \(120\.0%\)/);
    assert.match(frame, /\$0\.00 left · \$0\.30 in flight/);
  });
});

describe('PauseBanner', () => {
  test('draws nothing while running', () => {
    assert.equal(frameOf(h(PauseBanner, { paused: false, pausedAt: null, now: NOW, color: false })), '');
  });

  test('is impossible to miss while paused and says how to resume', () => {
    const frame = frameOf(h(PauseBanner, { paused: true, pausedAt: minutesAgo(10), now: NOW, color: false }));
    assert.match(frame, /Automatic triggering is PAUSED since 10 minutes ago/);
    assert.match(frame, /Run `ktrdr-agent resume` to restart\./);
    assert.match(frame, /╔═+╗/);
  });
});

describe('LastTick', () => {
  test('when the last tick ran and what it decided', () => {
    const frame = frameOf(
      h(LastTick, {
        tick: tick({
          decisions: [
            progressDecision(42),
            { sessionId: null, trigger: 'start_new_cycle', action: 'skip', invoked: false, skipReason: 'budget_exceeded', outcome: null, detail: null },
          ],
          sessionsCreated: [43],
        }),
        now: NOW,
        color: false,
      }),
    );
    assert.match(frame, /Last tick 2 minutes ago \(ok on host-1\)/);
    assert.match(frame, /#42 operation_still_running → progress recorded · Epoch 34\/50/);
    assert.match(frame, /start_new_cycle → skipped \(budget_exceeded\)/);
    assert.match(frame, /created #43/);
  });

  test('shows a failed tick with its error and counts decisions beyond the limit', () => {
    const decisions = Array.from({ length: 5 }, (_, i) => progressDecision(i + 1));
    const frame = frameOf(
      h(LastTick, { tick: tick({ status: 'error', errorMessage: 'KTRDR unreachable\nstack', decisions }), now: NOW, color: false, maxDetails: 3 }),
    );
    assert.match(frame, /\(error on host-1\)/);
    assert.match(frame, /… 3 more/);
    assert.doesNotMatch(frame, /stack/);
  });

  test('flags a tick so old that cron is probably not running', () => {
    const frame = frameOf(h(LastTick, { tick: tick({ startedAt: minutesAgo(120), finishedAt: minutesAgo(120), secondsAgo: 7200 }), now: NOW, color: false }));
    assert.match(frame, /2 hours ago/);
    assert.match(frame, /is the cron job running\?/);
  });

  test('says how to start when no tick has run', () => {
    assert.match(frameOf(h(LastTick, { tick: null, now: NOW, color: false })), /No tick has run yet: schedule `ktrdr-agent tick` from cron\./);
  });
});

describe('Dashboard', () => {
  test('composes the pause banner, the session, recent outcomes, the budget and the last tick', () => {
    const frame = frameOf(h(Dashboard, { view: statusView({ paused: true, pausedAt: minutesAgo(5) }), now: NOW, width: 100, color: false }));
    const order = ['PAUSED', 'Current cycle', '#42 TRAINING', 'Recent cycles', 'Budget today', 'Last tick'].map((text) => frame.indexOf(text));
    assert.ok(
      order.every((index) => index >= 0),
      frame,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'sections in reading order',
    );
  });

  test('switches to one line per session when the cards do not fit, and counts the rest', () => {
    const active = Array.from({ length: 12 }, (_, i) => trainingCycle({ id: 100 + i }));
    const frame = frameOf(h(Dashboard, { view: statusView({ active, activeTotal: 30 }), now: NOW, width: 100, height: 30, color: false }));
    assert.doesNotMatch(frame, /╭/);
    assert.match(frame, /Current cycles \(30\)/);
    assert.match(frame, /^#100 TRAINING/m);
    const shown = frame.split('\n').filter((line) => /^#1\d\d TRAINING/.test(line)).length;
    assert.match(frame, new RegExp(`\\+ ${30 - shown} more active`));
    assert.ok(frame.split('\n').length <= 30 - 3, 'leaves room for the header and footer');
  });

  test('at 40×12 the frame fits the rows left by the header and footer, and the current cycle is on it', () => {
    const stale = {
      kind: 'tick_stale' as const,
      since: minutesAgo(54),
      message: 'The last tick was 2026-01-15 13:36:00 UTC (54 minutes ago), over twice the 5-minute schedule.',
      advice: 'Is the cron job or systemd timer still running? `ktrdr-agent schedule` prints the line to install.',
    };
    const views = [
      statusView(),
      statusView({ paused: true, pausedAt: minutesAgo(5) }),
      statusView({ active: Array.from({ length: 6 }, (_, i) => trainingCycle({ id: 60 + i })), activeTotal: 6 }),
      // A banner too long for the rows shows as one cut line instead of pushing the cycle off screen.
      statusView({ banners: [stale] }),
    ];
    for (const view of views) {
      const frame = frameOf(h(Box, { width: 40 }, h(Dashboard, { view, now: NOW, width: 40, height: 12, color: false })));
      const lines = frame.split('\n');
      assert.ok(lines.length <= 12 - 3, `${lines.length} lines:\n${frame}`);
      assert.ok(
        lines.every((line) => line.length <= 40),
        frame,
      );
      assert.match(frame, /^#(42|60) +TRAINING/m, frame);
    }
  });

  test('every section shows when the terminal has the rows', () => {
    const frame = frameOf(h(Dashboard, { view: statusView(), now: NOW, width: 100, height: 40, color: false }));
    for (const part of ['Current cycle', '╭', 'Recent cycles', 'Budget today', 'Last tick']) assert.ok(frame.includes(part), `${part}:\n${frame}`);
    assert.ok(frame.split('\n').length <= 40 - 3);
  });

  test("shows KTRDR's training workers and what limits new cycles under the title", () => {
    const utilization = {
      asOf: minutesAgo(2),
      tickId: 'tick_1',
      mode: 'auto' as const,
      trainingWorkers: { total: 2, busy: 2, idle: 0 },
      busyFraction: 1,
      workersError: null,
      activeSessions: 3,
      maxActive: 3,
      newCyclesStarted: 0,
      limitedBy: 'workers' as const,
      costPerCycleUsd: null,
      affordableCycles: null,
    };
    const frame = frameOf(h(Dashboard, { view: statusView({ utilization }), now: NOW, width: 160, color: false }));
    const lines = frame.split('\n');
    const title = lines.findIndex((line) => line.startsWith('Current cycle'));
    assert.match(lines[title + 1] ?? '', /^2\/2 training workers busy · 1 session\(s\) · new cycles limited by no idle worker$/);
  });

  test('an idle system says what happens next', () => {
    const frame = frameOf(h(Dashboard, { view: statusView({ active: [], activeTotal: 0 }), now: NOW, width: 100, color: false }));
    assert.match(frame, /No active cycle/);
    assert.match(frame, /The next tick starts a cycle if the budget allows\./);
  });
});

describe('App', () => {
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  async function until(predicate: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (predicate()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  test('loads the view, draws it with a footer, refreshes on r and stops on q', async () => {
    let loads = 0;
    const load = async () => {
      loads += 1;
      return statusView();
    };
    const instance = render(h(App, { load, intervalMs: 3_600_000, color: false, clock: () => NOW }));
    try {
      await until(() => (instance.lastFrame() ?? '').includes('#42 TRAINING'), 'the first frame');
      const frame = instance.lastFrame()!;
      assert.match(frame, /ktrdr-agent status {2}14:30:00 UTC/);
      assert.match(frame, /Refreshed 14:30:00 UTC · every 3600s · q quit · r refresh/);
      assert.equal(loads, 1);

      instance.stdin.write('r');
      await until(() => loads === 2, 'a refresh on r');

      instance.stdin.write('q');
      await settle();
      instance.stdin.write('r');
      await settle();
      assert.equal(loads, 2, 'no refresh after q: the app has exited');
    } finally {
      instance.unmount();
    }
  });

  test('keeps the last good frame and shows the error when a refresh fails', async () => {
    let calls = 0;
    const load = async () => {
      calls += 1;
      if (calls === 1) return statusView();
      throw new Error('The embedded database in /data is in use by another ktrdr-agent process (waited 1 s).\nmore');
    };
    const instance = render(h(App, { load, intervalMs: 3_600_000, color: false, clock: () => NOW }));
    try {
      await until(() => (instance.lastFrame() ?? '').includes('#42 TRAINING'), 'the first frame');
      instance.stdin.write('r');
      await until(() => (instance.lastFrame() ?? '').includes('Refresh failed'), 'the error line');
      const frame = instance.lastFrame()!;
      assert.match(frame, /Refresh failed \(showing the last good data\): The embedded database in \/data is in use/);
      assert.match(frame, /#42 TRAINING/);
      // The error's second line ("more") is not drawn: one line of error, whatever else the frame says.
      assert.doesNotMatch(frame, /^\s*more$/m);
    } finally {
      instance.unmount();
    }
  });
});
