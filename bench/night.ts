// `npm run bench -- --only=night`: a simulated night of research. The simulator with 1, 2 and 4 training workers and
// real-looking durations (training 60–600 s, backtest 2–30 s, plus KTRDR's 5 s queue), the claude designer against the
// fake Messages API (each model call takes MODEL_CALL_SECONDS), a tick every 5 simulated minutes for 8 simulated hours,
// all on one virtual clock: a pass's waits move the clock, so a night runs in minutes and its figures do not depend
// on this machine's speed. Compared: today's defaults, following alone, and `auto` with following.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/core/config/load.ts';
import { runTick } from '../src/core/engine/runtime.ts';
import { createSimulator } from '../src/core/sim/index.ts';
import { viewAt } from '../src/core/sim/operations.ts';
import { createTestDatabase, tempDir } from '../test/support/databases.ts';
import { startFakeAnthropic, type RecordedRequest, type ScriptReaction } from '../test/support/fake-anthropic.ts';
import { modelTurn, sessionIdOf } from '../test/support/scripted-model.ts';
import type { BenchHelpers } from './research.ts';

const TICK_MS = 5 * 60_000;
/** A model call's latency on the virtual clock: a design of six calls takes 18 s, a backtest or an assessment 9 s. */
const MODEL_CALL_SECONDS = 3;
const NIGHT_START = Date.parse('2026-12-08T00:00:00Z');

class VirtualClock {
  ms = NIGHT_START;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += Math.max(0, ms);
  }
}

export interface Arm {
  name: string;
  env: Record<string, string>;
  /** Worker counts the arm runs on (all when absent). */
  only?: number[];
}

export const arms: Arm[] = [
  { name: 'the previous defaults (1 session, following 60 s)', env: { AGENT_MAX_CONCURRENT_SESSIONS: '1', AGENT_PASS_FOLLOW_SECONDS: '60' } },
  // The defaults themselves: nothing set.
  { name: 'the defaults (auto, following 150 s)', env: {} },
];

export interface NightFigures {
  arm: string;
  workers: number;
  cyclesFinished: number;
  /** Training-worker time busy over the night, over all workers' time. */
  utilization: number;
  /** Hours into the night when a pass first found the budget the limit on new cycles (null: it never did). */
  budgetBoundAtHours: number | null;
  /** Utilization until then (the whole night when the budget never bound). */
  utilizationWhileBudgetLasted: number;
  /** Median, per finished cycle, of its wall time less its KTRDR compute (training and backtest runs). */
  medianWaitSeconds: number;
  meanWaitSeconds: number;
  usdPerCycle: number;
  spentUsd: number;
  ticks: number;
  realSeconds: number;
  idle: IdleBreakdown;
}

interface ModelCall {
  sessionId: number;
  from: number;
  to: number;
}

/** Where the training workers' idle time went, in worker-hours (the categories are checked in this order). */
export interface IdleBreakdown {
  /** After the budget first limited new cycles. */
  budget: number;
  /** No pass running: waiting for the next tick. */
  betweenPasses: number;
  /** A pass running a design invocation (the next training starts when it ends). */
  design: number;
  /** A pass running another session's backtest or assessment invocation. */
  otherInvocation: number;
  /** A pass running and no model call under way (following, polling, starting). */
  passNoCall: number;
}

/** Idle worker time, second by second: what the agent was doing while a training worker had nothing to do. */
function idleBreakdown(
  input: { operations: Iterable<SimOperationLike>; trainingStart: Map<number, number>; calls: ModelCall[]; passes: { from: number; to: number }[] },
  workers: number,
  end: number,
  budgetBoundAt: number | null,
): IdleBreakdown {
  const stepMs = 1000;
  const slots = Math.ceil((end - NIGHT_START) / stepMs);
  const busy = new Int16Array(slots);
  for (const operation of input.operations) {
    if (operation.type !== 'training') continue;
    const from = Math.max(0, Math.floor((operation.createdAt - NIGHT_START) / stepMs));
    const to = Math.min(slots, Math.ceil(((operation.endedAt ?? end) - NIGHT_START) / stepMs));
    for (let i = from; i < to; i++) busy[i]! += 1;
  }
  const mark = (intervals: { from: number; to: number }[]) => {
    const marks = new Uint8Array(slots);
    for (const { from, to } of intervals)
      for (let i = Math.max(0, Math.floor((from - NIGHT_START) / stepMs)); i < Math.min(slots, Math.ceil((to - NIGHT_START) / stepMs)); i++) marks[i] = 1;
    return marks;
  };
  const designCalls = input.calls.filter((call) => call.from < (input.trainingStart.get(call.sessionId) ?? Number.POSITIVE_INFINITY));
  const inPass = mark(input.passes);
  const inDesign = mark(designCalls);
  const inCall = mark(input.calls);
  const breakdown: IdleBreakdown = { budget: 0, betweenPasses: 0, design: 0, otherInvocation: 0, passNoCall: 0 };
  for (let i = 0; i < slots; i++) {
    const idle = Math.max(0, workers - busy[i]!) * (stepMs / 3_600_000);
    if (idle === 0) continue;
    const at = NIGHT_START + i * stepMs;
    if (budgetBoundAt !== null && at >= budgetBoundAt) breakdown.budget += idle;
    else if (!inPass[i]) breakdown.betweenPasses += idle;
    else if (inDesign[i]) breakdown.design += idle;
    else if (inCall[i]) breakdown.otherInvocation += idle;
    else breakdown.passNoCall += idle;
  }
  return breakdown;
}

interface SimOperationLike {
  type: string;
  createdAt: number;
  endedAt: number | null;
}

/** The scripted model, with a design each session that no earlier one ran (the research memory refuses repeats). */
function nightModel(clock: VirtualClock, calls: ModelCall[]): ScriptReaction {
  return (request: RecordedRequest) => {
    calls.push({ sessionId: sessionIdOf(request), from: clock.ms, to: clock.ms + MODEL_CALL_SECONDS * 1000 });
    clock.advance(MODEL_CALL_SECONDS * 1000);
    const turn = modelTurn(request);
    const call = turn.content.find((block) => block.type === 'tool_use') as
      | { name?: string; input?: { config?: { indicators?: Record<string, { period: number }> } } }
      | undefined;
    const indicators = call?.name === 'save_strategy_config' ? call.input?.config?.indicators : undefined;
    if (indicators?.rsi_14 && indicators.adx_14) {
      const id = sessionIdOf(request);
      indicators.rsi_14.period = 5 + (id % 40);
      indicators.adx_14.period = 5 + (Math.floor(id / 40) % 40);
    }
    return turn;
  };
}

export async function runNight(arm: Arm, workers: number, hours: number, seed: number): Promise<NightFigures> {
  const started = Date.now();
  const work = tempDir('ktrdr-agent-bench-night-');
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const clock = new VirtualClock();
  const database = await createTestDatabase('ktrdr_agent_bench_night');
  const simulator = await createSimulator({
    strategiesDir,
    seed,
    timeScale: 1,
    now: clock.now,
    workers: { training: workers, backtesting: workers },
    durations: { trainingSeconds: [60, 600], backtestSeconds: [2, 30] },
  });
  const fake = await startFakeAnthropic();
  const calls: ModelCall[] = [];
  const passes: { from: number; to: number }[] = [];
  fake.script(Array.from({ length: 50_000 }, () => nightModel(clock, calls)));
  const config = loadConfig({
    env: {
      HOME: work.path,
      DATABASE_URL: database.url,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: 'claude',
      ANTHROPIC_API_KEY: 'sk-ant-api03-bench-night',
      ANTHROPIC_BASE_URL: fake.url,
      AGENT_RETRY_BACKOFF_BASE: '0.01',
      ...arm.env,
    },
    ignoreEnvFiles: true,
  });
  const end = NIGHT_START + hours * 3_600_000;
  const client = new pg.Client({ connectionString: database.url });
  let ticks = 0;
  try {
    for (let at = NIGHT_START; at < end; ) {
      clock.ms = Math.max(clock.ms, at);
      const passStart = clock.ms;
      const outcome = await runTick({
        config,
        log: () => undefined,
        lockWaitMs: 5000,
        now: () => new Date(clock.now()),
        sleep: async (ms) => clock.advance(ms),
      });
      ticks += 1;
      passes.push({ from: passStart, to: clock.ms });
      if (process.env.NIGHT_TIMELINE && outcome.kind === 'ran')
        console.log(
          `pass ${(passStart - NIGHT_START) / 1000}-${(clock.ms - NIGHT_START) / 1000}: faults ${JSON.stringify(outcome.summary.faults)} validation ${JSON.stringify(outcome.summary.validation)} capacity ${JSON.stringify(outcome.summary.capacity)}`,
        );
      // cron's next run after this pass ended: a pass longer than the interval makes the next one skip (the tick lock).
      at += TICK_MS;
      while (at < clock.ms) at += TICK_MS;
    }
    await client.connect();
    const rows = (
      await client.query(
        `SELECT id, created_at, completed_at, training_operation_id, backtest_operation_id, cost_usd::float AS cost
           FROM agent_sessions WHERE completed_at IS NOT NULL AND completed_at <= $1`,
        [new Date(end)],
      )
    ).rows as { created_at: Date; completed_at: Date; training_operation_id: string | null; backtest_operation_id: string | null; cost: number }[];
    const spent = (await client.query(`SELECT coalesce(sum(cost_usd), 0)::float AS spent FROM agent_sessions`)).rows[0].spent as number;
    const operations = simulator.state.operations;
    // A run holds its worker from dispatch (its queue included) until it ends or the night does.
    const computeMs = (id: string | null): number => {
      const operation = id ? operations.get(id) : undefined;
      if (!operation) return 0;
      const view = viewAt(operation, end, 1);
      return Math.max(0, (view.endedAt ?? end) - operation.createdAt);
    };
    const bound = (await client.query(`SELECT min(started_at) AS at FROM agent_ticks WHERE summary->'capacity'->>'limitedBy' = 'budget'`)).rows[0]
      .at as Date | null;
    const until = bound ? Math.min(bound.getTime(), end) : end;
    const busyUntil = (limit: number): number => {
      let busyMs = 0;
      for (const operation of operations.values()) {
        if (operation.type !== 'training') continue;
        const view = viewAt(operation, limit, 1);
        busyMs += Math.max(0, Math.min(view.endedAt ?? limit, limit) - Math.max(operation.createdAt, NIGHT_START));
      }
      return busyMs;
    };
    const waits = rows
      .map(
        (row) => (row.completed_at.getTime() - row.created_at.getTime() - computeMs(row.training_operation_id) - computeMs(row.backtest_operation_id)) / 1000,
      )
      .sort((a, b) => a - b);
    const finished = rows.length;
    const trainingStart = new Map<number, number>();
    for (const row of (await client.query(`SELECT id, training_operation_id FROM agent_sessions WHERE training_operation_id IS NOT NULL`)).rows as {
      id: number;
      training_operation_id: string;
    }[]) {
      const operation = operations.get(row.training_operation_id);
      if (operation) trainingStart.set(row.id, operation.createdAt);
    }
    if (process.env.NIGHT_TIMELINE) {
      const t = (ms: number | null | undefined) => (ms == null ? '-' : ((ms - NIGHT_START) / 1000).toFixed(0));
      const all = (
        await client.query(
          `SELECT id, created_at, completed_at, outcome, training_operation_id, backtest_operation_id, cost_usd::float AS cost FROM agent_sessions ORDER BY id`,
        )
      ).rows;
      for (const row of all) {
        const tr = row.training_operation_id ? operations.get(row.training_operation_id) : undefined;
        const bt = row.backtest_operation_id ? operations.get(row.backtest_operation_id) : undefined;
        console.log(
          `#${row.id} created ${t(row.created_at.getTime())} train ${t(tr?.createdAt)}-${t(tr ? viewAt(tr, end, 1).endedAt : null)} bt ${t(bt?.createdAt)}-${t(bt ? viewAt(bt, end, 1).endedAt : null)} done ${t(row.completed_at?.getTime())} ${row.outcome} $${row.cost.toFixed(3)}`,
        );
      }
      for (const pass of passes) console.log(`pass ${t(pass.from)}-${t(pass.to)}`);
    }
    const idle = idleBreakdown(
      {
        operations: [...operations.values()].map((operation) => ({
          type: operation.type,
          createdAt: operation.createdAt,
          endedAt: viewAt(operation, end, 1).endedAt,
        })),
        trainingStart,
        calls,
        passes,
      },
      workers,
      end,
      bound ? bound.getTime() : null,
    );
    return {
      idle,
      arm: arm.name,
      workers,
      cyclesFinished: finished,
      utilization: busyUntil(end) / (workers * hours * 3_600_000),
      budgetBoundAtHours: bound ? (bound.getTime() - NIGHT_START) / 3_600_000 : null,
      utilizationWhileBudgetLasted: until > NIGHT_START ? busyUntil(until) / (workers * (until - NIGHT_START)) : 0,
      medianWaitSeconds: finished ? waits[Math.floor(finished / 2)]! : 0,
      meanWaitSeconds: finished ? waits.reduce((sum, wait) => sum + wait, 0) / finished : 0,
      usdPerCycle: finished ? rows.reduce((sum, row) => sum + row.cost, 0) / finished : 0,
      spentUsd: spent,
      ticks,
      realSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    await client.end().catch(() => {});
    await fake.close();
    await simulator.close();
    await database.drop();
    work.remove();
  }
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export async function nightBench(helpers: BenchHelpers, options: { hours: number; workerCounts: number[]; seed: number }): Promise<void> {
  const figures: NightFigures[] = [];
  for (const workers of options.workerCounts) {
    for (const arm of arms) {
      if (arm.only && !arm.only.includes(workers)) continue;
      const night = await runNight(arm, workers, options.hours, options.seed);
      figures.push(night);
      console.log(
        `  ${workers} worker(s), ${arm.name}: ${night.cyclesFinished} cycles, ${round(100 * night.utilization, 1)}% busy (${night.realSeconds.toFixed(0)} s real)`,
      );
    }
  }
  // The virtual clock makes a night deterministic; what this machine changes is only how long it takes to run.
  const repeat = await runNight(arms[1]!, options.workerCounts[0]!, options.hours, options.seed);
  const first = figures.find((f) => f.arm === repeat.arm && f.workers === repeat.workers)!;
  const noise = { cyclesFinished: repeat.cyclesFinished - first.cyclesFinished, utilizationPoints: round(100 * (repeat.utilization - first.utilization), 2) };
  helpers.results.night = {
    hours: options.hours,
    seed: options.seed,
    tickMinutes: TICK_MS / 60_000,
    modelCallSeconds: MODEL_CALL_SECONDS,
    figures,
    repeatDifference: noise,
  };
  helpers.table(
    `night: ${options.hours} simulated hours, a tick every 5 min, budget $5/day (repeat of the first night at the defaults differs by ${noise.cyclesFinished} cycle(s), ${noise.utilizationPoints} utilization points)`,
    [
      'training workers',
      'settings',
      'cycles finished',
      'worker utilization',
      'budget bound at h',
      'utilization until then',
      'median wait/cycle s',
      'mean wait/cycle s',
      'USD per cycle',
      'USD spent',
      'real s',
    ],
    figures.map((f) => [
      f.workers,
      f.arm,
      f.cyclesFinished,
      `${round(100 * f.utilization, 1)}%`,
      f.budgetBoundAtHours === null ? '-' : round(f.budgetBoundAtHours, 1),
      `${round(100 * f.utilizationWhileBudgetLasted, 1)}%`,
      round(f.medianWaitSeconds, 0),
      round(f.meanWaitSeconds, 0),
      round(f.usdPerCycle, 4),
      round(f.spentUsd, 2),
      round(f.realSeconds, 0),
    ]),
  );
}
