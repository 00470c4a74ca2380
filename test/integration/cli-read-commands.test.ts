// Runs the built CLI (`node bin/run.js ...`) against seeded databases, PostgreSQL and PGlite, the way an operator
// or a script would: human output, --json checked against the published schemas, and exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { openStore, type StoreTarget } from '../../src/core/db/connect.ts';
import {
  budgetSetResultSchema,
  budgetViewSchema,
  errorResultSchema,
  historyViewSchema,
  sessionViewSchema,
  statusViewSchema,
} from '../../src/core/cli/views/schemas.ts';
import { everyPhaseAndOutcome, seedDatabase, type SeededData } from '../support/seed.ts';
import { repoRoot, runCli as runChild, type CliResult } from '../support/cli.ts';
import { createTestDatabase } from '../support/databases.ts';

/** The built CLI with exactly this environment (cleanEnv below builds it). */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const { PATH: _path, ...rest } = env;
  return runChild(args, Object.fromEntries(Object.entries(rest).filter((entry): entry is [string, string] => entry[1] !== undefined)));
}

const root = repoRoot;

function parseJson<S extends z.ZodType>(schema: S, result: Pick<CliResult, 'stdout'>): z.output<S> {
  const parsed = schema.safeParse(JSON.parse(result.stdout));
  assert.ok(parsed.success, `--json output does not match its schema: ${parsed.success ? '' : JSON.stringify(parsed.error.issues, null, 2)}`);
  return parsed.data;
}

before(() => {
  if (!existsSync(join(root, 'dist/commands/status.js'))) execFileSync(process.execPath, [join(root, 'scripts/build.ts')], { cwd: root, stdio: 'inherit' });
});

interface Backend {
  name: string;
  setUp(): Promise<{ target: StoreTarget; env: NodeJS.ProcessEnv }>;
  tearDown(): Promise<void>;
}

/** An environment with only what the CLI needs: no developer env files, no colours, no stray DATABASE_URL. */
function cleanEnv(home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), NO_COLOR: '1', AGENT_LOCK_WAIT_SECONDS: '60', ...extra };
}

function postgresBackend(): Backend {
  const home = mkdtempSync(join(tmpdir(), 'ktrdr-cli-home-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  return {
    name: 'PostgreSQL',
    async setUp() {
      database = await createTestDatabase('ktrdr_cli_read');
      return { target: { kind: 'postgres', url: database.url }, env: cleanEnv(home, { DATABASE_URL: database.url }) };
    },
    async tearDown() {
      await database?.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function pgliteBackend(): Backend {
  const dataDir = mkdtempSync(join(tmpdir(), 'ktrdr-cli-pglite-'));
  return {
    name: 'PGlite',
    async setUp() {
      return { target: { kind: 'pglite', dataDir: join(dataDir, 'pgdata') }, env: cleanEnv(dataDir, { KTRDR_AGENT_DATA_DIR: dataDir }) };
    },
    async tearDown() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

for (const backend of [postgresBackend(), pgliteBackend()]) {
  describe(`read commands on ${backend.name}`, () => {
    let env: NodeJS.ProcessEnv;
    let target: StoreTarget;
    let seeded: SeededData;
    const cli = (...args: string[]) => runCli(args, env);
    const setPaused = async (paused: boolean) => {
      const store = await openStore(target);
      try {
        await store.db
          .updateTable('agent_control')
          .set({ paused, paused_at: paused ? new Date() : null })
          .where('id', '=', 1)
          .execute();
      } finally {
        await store.close();
      }
    };

    before(async () => {
      ({ target, env } = await backend.setUp());
      const store = await openStore(target);
      try {
        seeded = await seedDatabase(store.db, { ...everyPhaseAndOutcome(1), actionsPerSession: 6, paused: false });
      } finally {
        await store.close();
      }
    });

    after(() => backend.tearDown());

    test('status shows the active cycles with their operations, recent outcomes, the budget and the last tick', async () => {
      const result = await cli('status');
      assert.equal(result.code, 0, result.stderr);
      const out = result.stdout;
      assert.match(out, /=== Current Cycles \(4\) ===/);
      for (const phase of ['DESIGNING', 'TRAINING', 'BACKTESTING', 'ASSESSING']) assert.match(out, new RegExp(`#\\d+ +${phase}`));
      assert.match(out, new RegExp(`#${seeded.active.training[0]} +TRAINING .*op_training_\\d+ \\(running, 67% complete\\) · Epoch 34/50`));
      assert.match(out, /op_backtest_\d+ \(running, 40% complete\)/);
      assert.match(out, /=== Recent Cycles ===/);
      assert.match(
        out,
        new RegExp(`#${seeded.finished.failed_backtest_gate[0]} +\\S+ +FAILED +Gate: backtest, win_rate 41\\.2% < 45% +\\(\\d+ (hours?|days?) ago\\)`),
      );
      assert.match(out, new RegExp(`#${seeded.finished.cancelled[0]} +\\S+ +CANCELLED +Cancelled: Cancelled by the operator`));
      assert.match(out, /=== Today's Budget ===\nUsed: \$\d+\.\d\d \/ \$5\.00 \(\d+\.\d%\)/);
      assert.match(out, /Cycles: \d+ completed, 4 active/);
      assert.match(
        out,
        new RegExp(
          `=== Last Tick ===\n\\d+ minutes? ago \\(ok on seed-host\\)\n  #${seeded.active.training[0]} operation_still_running → progress recorded · Epoch 34/50\n  start_new_cycle → skipped \\(budget_exceeded\\)`,
        ),
      );
      assert.doesNotMatch(out, /PAUSED/);
      assert.doesNotMatch(out, /\u001b\[/, 'no colour codes with NO_COLOR and no TTY');
    });

    test('status --json matches its schema and carries the same facts', async () => {
      const result = await cli('status', '--json');
      assert.equal(result.code, 0, result.stderr);
      const view = parseJson(statusViewSchema, result);
      assert.equal(view.paused, false);
      assert.equal(view.activeTotal, 4);
      assert.deepEqual(view.active.map((c) => c.phase).sort(), ['assessing', 'backtesting', 'designing', 'training']);
      const training = view.active.find((c) => c.phase === 'training')!;
      assert.equal(training.id, seeded.active.training[0]);
      assert.deepEqual(
        {
          kind: training.operation?.kind,
          percentage: training.operation?.percentage,
          status: training.operation?.status,
          stalled: training.operation?.stalled,
        },
        { kind: 'training', percentage: 67, status: 'running', stalled: false },
      );
      assert.equal(view.active.find((c) => c.phase === 'designing')?.invocation?.owner, 'seed-host:4242');
      assert.equal(view.recent.length, 5);
      const newestFirst = view.recent.map((c) => Date.parse(c.completedAt));
      assert.deepEqual(
        newestFirst,
        [...newestFirst].sort((a, b) => b - a),
      );
      assert.deepEqual(view.recent.find((c) => c.outcome === 'failed_backtest_gate')?.failedGate, { gate: 'backtest', reason: 'win_rate 41.2% < 45%' });
      assert.equal(view.budget.limitUsd, 5);
      assert.equal(view.budget.cyclesActive, 4);
      assert.equal(view.lastTick?.id, seeded.lastTickId);
      assert.equal(result.stderr, '');
    });

    test('history lists active sessions first, then finished ones with figures, gate reasons, assessment and cost', async () => {
      const result = await cli('history', '--limit', '20');
      assert.equal(result.code, 0, result.stderr);
      const blocks = result.stdout.split('\n\n');
      assert.equal(blocks.length, 12);
      assert.ok(blocks.slice(0, 4).every((b) => /Status: [A-Z]+ \(in progress\)/.test(b)));
      const block = (id: number) => blocks.find((b) => b.startsWith(`Session #${id} - `)) ?? assert.fail(`no block for #${id}`);
      const gate = block(seeded.finished.failed_backtest_gate[0]!);
      assert.match(gate, /Status: FAILED \(backtest_gate\)/);
      assert.match(gate, /Duration: (\d+h \d+m|\d+m \d+s)/);
      assert.match(gate, /Training: accuracy=\d+\.\d%, loss=\d\.\d\d, epochs=47\/50 \(early stop\)/);
      assert.match(gate, /Backtest: sharpe=-0\.12, win_rate=41\.2%, drawdown=\d+\.\d%, trades=\d+/);
      assert.match(gate, /Gate Reason: backtest gate, win_rate 41\.2% < 45%/);
      assert.match(gate, /Cost: \$0\.\d\d/);
      assert.match(block(seeded.finished.success[0]!), /Assessment: (promising|neutral|poor), "Strategy shows consistent edge in trending markets\."/);
      assert.match(block(seeded.finished.failed_training[0]!), /Reason: Training: KTRDR training operation failed: CUDA out of memory/);
      assert.match(block(seeded.active.training[0]!), /Training: op_training_\d+ \(running, 67% complete\)/);
    });

    test('history --json pages through every session exactly once with --cursor', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const result = await cli('history', '--json', '--limit', '5', ...(cursor ? ['--cursor', cursor] : []));
        assert.equal(result.code, 0, result.stderr);
        const view = parseJson(historyViewSchema, result);
        seen.push(...view.sessions.map((s) => s.id));
        cursor = view.nextCursor;
        if (!cursor) break;
      }
      assert.equal(cursor, null);
      const all = [...Object.values(seeded.active).flat(), ...Object.values(seeded.finished).flat()];
      assert.equal(seen.length, all.length);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [...all].sort((a, b) => a - b),
      );
    });

    test('history filters by outcome (failed = every failure) and by --since', async () => {
      const gate = parseJson(historyViewSchema, await cli('history', '--json', '--outcome', 'failed_backtest_gate'));
      assert.deepEqual(
        gate.sessions.map((s) => s.id),
        seeded.finished.failed_backtest_gate,
      );
      assert.deepEqual(gate.sessions[0]?.failedGate, { gate: 'backtest', reason: 'win_rate 41.2% < 45%' });

      const failed = parseJson(historyViewSchema, await cli('history', '--json', '--outcome', 'failed', '--limit', '50'));
      assert.equal(failed.sessions.length, 6);
      assert.ok(failed.sessions.every((s) => s.outcome?.startsWith('failed_')));

      const two = parseJson(historyViewSchema, await cli('history', '--json', '--outcome', 'success', '--outcome', 'cancelled'));
      assert.deepEqual(two.sessions.map((s) => s.outcome).sort(), ['cancelled', 'success']);

      const recent = parseJson(historyViewSchema, await cli('history', '--json', '--limit', '50', '--since', '1d'));
      const cutoff = Date.now() - 86_400_000 - 60_000;
      const finished = recent.sessions.filter((s) => !s.active);
      assert.ok(finished.length > 0 && finished.length < 8);
      assert.ok(finished.every((s) => Date.parse(s.completedAt!) >= cutoff));
      assert.equal(recent.sessions.filter((s) => s.active).length, 4, 'active sessions always show');
    });

    test('history rejects an unknown outcome and an unreadable --since with exit 1', async () => {
      const outcome = await cli('history', '--outcome', 'failed_everything');
      assert.equal(outcome.code, 1);
      assert.match(outcome.stderr, /Expected --outcome=failed_everything to be one of: success, failed_design/);
      const since = await cli('history', '--since', 'last tuesday');
      assert.equal(since.code, 1);
      assert.match(since.stderr, /Invalid --since 'last tuesday': use a day \(2026-01-15\)/);
    });

    test('session shows strategy, results, gates with thresholds, assessment, cost, phases and actions', async () => {
      const id = seeded.finished.success[0]!;
      const result = await cli('session', String(id));
      assert.equal(result.code, 0, result.stderr);
      const out = result.stdout;
      assert.match(out, new RegExp(`^=== Session #${id} ===\nStrategy: \\S+\nStatus: SUCCESS`));
      assert.match(out, /=== Strategy Config ===\nHypothesis: "[^"]+"/);
      assert.match(out, /Indicators: \w+ \(\w+\)/);
      assert.match(out, /Symbols: \w+ \(training\), \w+ \(backtest\)/);
      assert.match(out, /Timeframe: (1h|4h|1d)/);
      assert.match(out, /=== Training Results ===\nOperation: op_training_\d+\nAccuracy: \d+\.\d%/);
      assert.match(out, /Epochs: 47\/50 \(early stopped\)/);
      assert.match(
        out,
        /=== Backtest Results ===\nOperation: op_backtest_\d+\nSharpe Ratio: -?\d\.\d\d\nWin Rate: \d+\.\d%\nMax Drawdown: \d+\.\d%\nTotal Trades: \d+\nProfit Factor: \d\.\d\d/,
      );
      // total_return_pct is a fraction as KTRDR reports it: shown x100 (-0.0013 reads -0.13%, never -0.00%).
      const store = await openStore(target);
      const stored = await store.db
        .selectFrom('agent_sessions')
        .select('backtest_results')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
        .finally(() => store.close());
      const fraction = (typeof stored.backtest_results === 'string' ? JSON.parse(stored.backtest_results) : stored.backtest_results).totalReturnPct as number;
      assert.match(out, new RegExp(`Total Return: ${(fraction * 100).toFixed(2).replace('.', '\\.')}%\n`));
      assert.match(out, /=== Gates ===\nTraining gate: PASSED\n {2}accuracy +\d+\.\d% +needs >= 45\.0% +pass/);
      assert.match(out, /Backtest gate: PASSED/);
      assert.match(out, /=== Assessment ===\nPassed: Yes\nVerdict: (promising|neutral|poor) \(by claude\)/);
      assert.match(out, /=== Cost ===\nTokens: [\d,]+ input \/ [\d,]+ output/);
      assert.match(out, /=== Phases ===\n.*DESIGNING/);
      assert.match(out, /=== Actions \(UTC\) ===\n\d\d:\d\d:\d\d {2}get_recent_strategies\(n=5\)/);
      assert.match(out, /save_strategy_config\(name="\w+", config=\{\.\.\.\}\)/);

      const gated = await cli('session', `#${seeded.finished.failed_backtest_gate[0]}`);
      assert.match(gated.stdout, /Backtest gate: FAILED \(win_rate 41\.2% < 45%\)\n {2}win_rate +41\.2% +needs >= 45\.0% +FAIL/);
    });

    test('session --json matches its schema; --actions bounds the timeline', async () => {
      const id = seeded.active.training[0]!;
      const view = parseJson(sessionViewSchema, await cli('session', String(id), '--json'));
      assert.equal(view.id, id);
      assert.equal(view.active, true);
      assert.equal(view.operation?.percentage, 67);
      assert.equal(view.actions.total, 6);
      assert.equal(view.actions.items.length, 6);
      assert.ok(view.strategy && view.strategy.indicators.length > 0);

      const bounded = parseJson(sessionViewSchema, await cli('session', String(id), '--json', '--actions', '2'));
      assert.equal(bounded.actions.shown, 2);
      assert.equal(bounded.actions.total, 6);
      const text = await cli('session', String(id), '--actions', '2');
      assert.match(text.stdout, /… 4 more \(showing the first 2; use --actions 6\)/);
    });

    test('session: an unknown id exits 4, a non-numeric id exits 1, both say what to do', async () => {
      const missing = await cli('session', '99999');
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, /No session #99999\. `ktrdr-agent history` lists the sessions there are\./);
      const missingJson = await cli('session', '99999', '--json');
      assert.equal(missingJson.code, 4);
      assert.deepEqual(parseJson(errorResultSchema, missingJson).error, {
        code: 'session_not_found',
        message: 'No session #99999. `ktrdr-agent history` lists the sessions there are.',
        exitCode: 4,
      });
      const huge = await cli('session', '99999999999');
      assert.equal(huge.code, 4);
      const word = await cli('session', 'latest');
      assert.equal(word.code, 1);
      assert.match(word.stderr, /Invalid session id 'latest': give the number shown by `ktrdr-agent status` or `history`/);
    });

    test('budget shows today and the last 7 days; --days changes the window', async () => {
      const result = await cli('budget');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^=== Today \(\d{4}-\d\d-\d\d\) ===\nLimit: \$5\.00 \(AGENT_BUDGET_DAILY_USD\)\nUsed: \$\d+\.\d\d \/ \$5\.00/);
      assert.match(result.stdout, /=== This Week ===/);
      assert.match(result.stdout, /(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d: \$\d+\.\d\d \/ \$5\.00 \(\d+ cycles, \d+ successful\) <- today/);

      const view = parseJson(budgetViewSchema, await cli('budget', '--json'));
      // The seeded week ends two hours before now: shortly after midnight UTC today has no invocation yet, and the
      // average is a dash rather than $0.00 (nothing was spent per nothing).
      assert.match(result.stdout, view.today.avgCostPerInvocationUsd === null ? /Avg cost\/invocation: —/ : /Avg cost\/invocation: \$\d+\.\d\d/);
      assert.equal(view.days.length, 7);
      assert.equal(view.days.at(-1)?.today, true);
      assert.equal(view.today.limitUsd, 5);
      assert.equal(
        view.totals.cyclesCompleted,
        view.days.reduce((sum, d) => sum + d.cyclesCompleted, 0),
      );

      const month = parseJson(budgetViewSchema, await cli('budget', '--json', '--days', '30'));
      assert.equal(month.days.length, 30);
      assert.equal(month.totals.cyclesCompleted, 8, 'every seeded cycle finished within the window');
      assert.equal(month.totals.successful, 1);
    });

    test('budget set validates the amount (exit 1) and persists a valid one', async () => {
      for (const bad of ['-1', '0', '100001', 'ten']) {
        const result = await cli('budget', 'set', bad);
        assert.equal(result.code, 1, `budget set ${bad}`);
        assert.match(result.stderr, new RegExp(`Invalid budget '${bad}': give a positive dollar amount up to 100000`));
      }
      const badJson = await cli('budget', 'set', '-1', '--json');
      assert.equal(badJson.code, 1);
      assert.equal(parseJson(errorResultSchema, badJson).error.code, 'invalid_budget');

      const set = await cli('budget', 'set', '12.50');
      assert.equal(set.code, 0, set.stderr);
      assert.equal(set.stdout.split('\n')[0], 'Budget limit updated to $12.50/day');

      const json = parseJson(budgetSetResultSchema, await cli('budget', 'set', '10', '--json'));
      assert.equal(json.limitUsd, 10);
      assert.equal(json.previousLimitUsd, 12.5);

      const budget = parseJson(budgetViewSchema, await cli('budget', '--json'));
      assert.equal(budget.today.limitUsd, 10);
      assert.equal(budget.today.limitSource, 'override');
      const status = parseJson(statusViewSchema, await cli('status', '--json'));
      assert.equal(status.budget.limitUsd, 10);
    });

    test('status shows a clear banner while paused', async () => {
      await setPaused(true);
      try {
        const text = await cli('status');
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout.split('\n')[0]!, /^⚠️ {2}Automatic triggering is PAUSED \(since .*\)\. Run `ktrdr-agent resume` to restart\.$/);
        const view = parseJson(statusViewSchema, await cli('status', '--json'));
        assert.equal(view.paused, true);
        assert.ok(view.pausedAt);
      } finally {
        await setPaused(false);
      }
      const resumed = parseJson(statusViewSchema, await cli('status', '--json'));
      assert.equal(resumed.paused, false);
      assert.equal(
        resumed.banners.some((banner) => banner.kind === 'paused'),
        false,
      );
    });

    test('status --watch cannot be combined with --json', async () => {
      const result = await cli('status', '--watch', '--json');
      assert.equal(result.code, 1);
      assert.match(parseJson(errorResultSchema, result).error.message, /--watch draws a live screen and cannot be combined with --json/);
    });
  });
}
