import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import React from 'react';
import { render } from 'ink-testing-library';
import { FaultBanners } from '../../src/core/cli/tui/fault-banners.ts';
import { SessionCard } from '../../src/core/cli/tui/session-card.ts';
import { statusBanners, type BannerInput } from '../../src/core/cli/views/banners.ts';
import type { ActiveCycle, TodayBudget } from '../../src/core/cli/views/schemas.ts';
import { renderStatusText } from '../../src/core/cli/views/status-text.ts';

const h = React.createElement;
const NOW = new Date('2026-12-01T14:30:00.000Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

const budget: TodayBudget = {
  date: '2026-12-01',
  limitUsd: 5,
  limitSource: 'config',
  usedUsd: 1,
  reservedUsd: 0,
  remainingUsd: 4,
  usedFraction: 0.2,
  invocations: 3,
  cyclesStarted: 1,
  cyclesCompleted: 0,
  cyclesActive: 1,
};

function input(overrides: Partial<BannerInput> = {}): BannerInput {
  return {
    now: NOW,
    paused: false,
    pausedAt: null,
    fault: null,
    ktrdrDown: null,
    budget,
    bufferUsd: 0.1,
    budgetBinds: true,
    faultBackoffMinutes: 5,
    lastTick: {
      id: 't',
      startedAt: ago(2).toISOString(),
      finishedAt: ago(2).toISOString(),
      secondsAgo: 120,
      host: 'h',
      status: 'ok',
      errorMessage: null,
      decisions: [],
      sessionsCreated: [],
    },
    ...overrides,
  };
}

describe('status banners', () => {
  test('a healthy loop has none', () => {
    assert.deepEqual(statusBanners(input()), []);
  });

  test('Anthropic authentication failing: since when, why, and both ways out', () => {
    const [banner] = statusBanners(
      input({
        fault: {
          faultClass: 'anthropic_auth',
          cause: 'the Anthropic API answered 401 authentication_error',
          since: ago(30),
          lastAt: ago(5),
          streak: 7,
          keyFingerprint: 'sha256:abc',
        },
      }),
    );
    assert.equal(banner?.kind, 'anthropic_auth');
    assert.match(banner!.message, /^Anthropic authentication failing since 2026-12-01 14:00:00 UTC \(30 minutes ago\): the Anthropic API answered 401/);
    assert.match(banner!.advice, /ANTHROPIC_API_KEY.*ktrdr-agent resume/);
  });

  test('another held fault says when the next try is', () => {
    const [banner] = statusBanners(
      input({ fault: { faultClass: 'strategies_dir', cause: 'the disk is full', since: ago(20), lastAt: ago(1), streak: 3, keyFingerprint: null } }),
    );
    assert.equal(banner?.kind, 'fault_held');
    assert.match(banner!.message, /strategies_dir, 3 in a row\): the disk is full/);
    assert.match(banner!.advice, /next try is after 2026-12-01 14:38:30 UTC/);
  });

  test('KTRDR unreachable since T', () => {
    const [banner] = statusBanners(
      input({ ktrdrDown: { since: ago(45), cause: 'KTRDR: connect ECONNREFUSED 127.0.0.1:8000', faultClass: 'ktrdr_unreachable' } }),
    );
    assert.equal(banner?.kind, 'ktrdr_unreachable');
    assert.match(banner!.message, /^KTRDR unreachable since 2026-12-01 13:45:00 UTC \(45 minutes ago\): KTRDR: connect ECONNREFUSED 127\.0\.0\.1:8000\.$/);
    // A cause that ends its own sentence gets no second full stop.
    const [own] = statusBanners(
      input({
        ktrdrDown: { since: ago(45), cause: 'KTRDR: nothing listens at the URL, so check the process that points at it.', faultClass: 'ktrdr_unreachable' },
      }),
    );
    assert.match(own!.message, /points at it\.$/);
    assert.match(banner!.advice, /^Start KTRDR or fix KTRDR_API_URL/);
  });

  test('KTRDR refusing our credentials is not called unreachable, and the advice is about credentials', () => {
    const [banner] = statusBanners(
      input({ ktrdrDown: { since: ago(10), cause: 'KTRDR: KTRDR answered GET /health with HTTP 401 (UNAUTHORIZED)', faultClass: 'ktrdr_auth' } }),
    );
    assert.match(banner!.message, /^KTRDR refusing our credentials since .*HTTP 401/);
    assert.match(banner!.advice, /^Fix the credentials in KTRDR_API_URL/);
  });

  test('the budget counts as exhausted once only the buffer is left, and only when it binds', () => {
    const nearlySpent = { ...budget, usedUsd: 4.92, remainingUsd: 0.08, usedFraction: 0.984 };
    const [banner] = statusBanners(input({ budget: nearlySpent }));
    assert.equal(banner?.kind, 'budget_exhausted');
    assert.match(banner!.message, /\$4\.92 of \$5\.00 used, and the last \$0\.10 is the buffer .* until 2026-12-02 00:00:00 UTC \(in 10 hours\)/);
    assert.deepEqual(statusBanners(input({ budget: nearlySpent, budgetBinds: false })), []);
    assert.deepEqual(statusBanners(input({ budget: { ...budget, remainingUsd: 0.11 } })), []);
  });

  test('a last tick older than twice the schedule, and the pause', () => {
    const stale = input({
      paused: true,
      pausedAt: ago(60),
      lastTick: { ...input().lastTick!, finishedAt: ago(11).toISOString(), secondsAgo: 660 },
    });
    assert.deepEqual(
      statusBanners(stale).map((b) => b.kind),
      ['paused', 'tick_stale'],
    );
    assert.match(statusBanners(stale)[1]!.message, /over twice the 5-minute schedule/);
    assert.deepEqual(statusBanners(input({ lastTick: { ...input().lastTick!, secondsAgo: 540 } })), []);
  });

  test('status text opens with the banners; the TUI draws them in a box', () => {
    const banners = statusBanners(input({ ktrdrDown: { since: ago(45), cause: 'KTRDR: down', faultClass: 'ktrdr_unreachable' } }));
    const text = renderStatusText(
      {
        generatedAt: NOW.toISOString(),
        paused: false,
        pausedAt: null,
        banners,
        active: [],
        activeTotal: 0,
        recent: [],
        budget,
        lastTick: null,
        bestExperiment: null,
      },
      { color: false },
    );
    assert.match(text.split('\n')[0]!, /^⚠️ {2}KTRDR unreachable since .* Start KTRDR or fix KTRDR_API_URL/);
    const instance = render(h(FaultBanners, { banners, color: false }));
    assert.match(instance.lastFrame() ?? '', /KTRDR unreachable since 2026-12-01 13:45:00 UTC/);
    instance.unmount();
    const empty = render(h(FaultBanners, { banners: [], color: false }));
    assert.equal(empty.lastFrame(), '');
    empty.unmount();
  });

  test('the TUI says how fresh an operation percentage is', () => {
    const cycle: ActiveCycle = {
      id: 42,
      batch: null,
      phase: 'training',
      strategyName: 'momentum',
      designer: 'claude',
      createdAt: ago(15).toISOString(),
      phaseStartedAt: ago(12).toISOString(),
      secondsInPhase: 720,
      secondsSinceStart: 900,
      operation: {
        kind: 'training',
        id: 'op_1',
        status: 'running',
        percentage: 26,
        currentStep: null,
        seenAt: ago(2).toISOString(),
        progressChangedAt: ago(2).toISOString(),
        stalled: false,
      },
      invocation: null,
      costUsd: 0,
    };
    const instance = render(h(SessionCard, { cycle, now: NOW, width: 120, color: false }));
    assert.match(instance.lastFrame() ?? '', /26% complete\) · as of 2 minutes ago/);
    instance.unmount();
  });
});
