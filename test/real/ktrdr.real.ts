/**
 * `npm run test:real`: full baseline cycles against the REAL KTRDR (kpiteira/ktrdr at 2c5c7173, started with
 * /work/shared/ktrdr/real/start.sh). Not part of `npm test` or CI: it needs KTRDR's fetched source and minutes of
 * real training. Env: KTRDR_REAL_URL (e.g. http://127.0.0.1:18000/api/v1, required), KTRDR_REAL_ROOT (start.sh's
 * ROOT), KTRDR_REAL_STRATEGIES_DIR (default <root>/src/strategies), KTRDR_PORT / TRAIN_PORT / KTRDR_DB_NAME as given
 * to start.sh (for the restart checks, done with test/real/ktrdr-ctl.sh).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import pg from 'pg';
import { BaselineDesigner, type ToolCall } from '../../src/core/agent/baseline-designer.ts';
import type { ToolContext } from '../../src/core/agent/tools.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { coverageProblem } from '../../src/core/ktrdr/coverage.ts';
import { ownershipMismatch } from '../../src/core/ktrdr/ownership.ts';
import { isTerminalStatus } from '../../src/core/ktrdr/schemas.ts';
import { createTestDatabase } from '../support/databases.ts';

const url = process.env.KTRDR_REAL_URL;
if (!url) {
  throw new Error('KTRDR_REAL_URL is not set: start the real KTRDR (/work/shared/ktrdr/real/start.sh) and set it to the URL it prints');
}
const root = process.env.KTRDR_REAL_ROOT ?? `${process.env.TMPDIR ?? '/tmp'}/real-ktrdr`;
const strategiesDir = process.env.KTRDR_REAL_STRATEGIES_DIR ?? `${root}/src/strategies`;
const ctl = new URL('./ktrdr-ctl.sh', import.meta.url).pathname;
const client = new KtrdrClient({ baseUrl: url, retry: { maxAttempts: 1, backoffBaseSeconds: 0 } });
const log = (line: string) => process.stdout.write(`# real: ${line}\n`);

function control(action: string): void {
  execFileSync('bash', [ctl, action], { env: { ...process.env, ROOT: root }, stdio: 'inherit' });
}

interface Agent {
  pool: pg.Pool;
  explained: string[];
  tick(): Promise<void>;
  session(id: number): Promise<Record<string, any>>;
  drop(): Promise<void>;
}

async function agent(extra: Record<string, string> = {}): Promise<Agent> {
  const database = await createTestDatabase('ktrdr_agent_real');
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  pool.on('error', () => {});
  const explained: string[] = [];
  const env = {
    DATABASE_URL: database.url,
    KTRDR_API_URL: url!,
    KTRDR_STRATEGIES_DIR: strategiesDir,
    AGENT_DESIGNER: 'baseline',
    AGENT_RETRY_BACKOFF_BASE: '1',
    ...extra,
  };
  return {
    pool,
    explained,
    async tick() {
      const config = loadConfig({ env, ignoreEnvFiles: true });
      await runTick({ config, log: () => {}, explain: (line) => explained.push(line), lockWaitMs: 5_000 });
    },
    async session(id) {
      return (await pool.query('SELECT * FROM agent_sessions WHERE id = $1', [id])).rows[0];
    },
    async drop() {
      await pool.end();
      await database.drop();
    },
  };
}

/** Ticks every few seconds until `done`, up to `limitMs` of wall time. */
async function tickUntil(subject: Agent, done: (session: Record<string, any>) => boolean, limitMs = 8 * 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    await subject.tick().catch((error: Error) => subject.explained.push(`tick failed: ${error.message}`));
    const session = await subject.session(1);
    if (session && done(session)) {
      await cancelLaterSessions(subject);
      return session;
    }
    if (Date.now() > deadline) throw new Error(`gave up; last lines: ${subject.explained.slice(-6).join(' | ')}`);
    await delay(5_000);
  }
}

/** The pass that ends session 1 starts session 2: nobody watches it here, so its operations are cancelled. */
async function cancelLaterSessions(subject: Agent): Promise<void> {
  const later = (await subject.pool.query('SELECT training_operation_id, backtest_operation_id FROM agent_sessions WHERE id > 1')).rows;
  for (const row of later) {
    for (const id of [row.training_operation_id, row.backtest_operation_id]) {
      if (id) await client.cancelOperation(id, { reason: 'test:real watches session 1 only' }).catch(() => undefined);
    }
  }
}

const ended = (s: Record<string, any>) => s.outcome !== null;

/** The operation the session adopted really is its own, by what KTRDR itself recorded. */
async function assertOwn(session: Record<string, any>): Promise<void> {
  const operation = await client.getOperation(session.training_operation_id);
  const p = session.training_params;
  const mismatch = ownershipMismatch(operation, {
    kind: 'training',
    strategyName: p.strategyName,
    symbols: p.symbols,
    timeframes: p.timeframes,
    startDate: p.startDate,
    endDate: p.endDate,
    notBeforeMs: new Date(session.created_at).getTime(),
  });
  assert.equal(mismatch, null);
  const info = (operation.result_summary as { session_info?: { strategy_name?: string } } | null)?.session_info;
  if (operation.status === 'completed') assert.equal(info?.strategy_name, session.strategy_name);
}

function describeSession(label: string, s: Record<string, any>): void {
  const t = s.training_results ?? {};
  const b = s.backtest_results ?? {};
  log(
    `${label}: outcome=${s.outcome} strategy=${s.strategy_name} training_op=${s.training_operation_id} ` +
      `test_accuracy=${t.accuracy} test_loss=${t.testLoss} loss_reduction=${t.lossReduction} resumed_at=${t.resumedAtEpoch ?? '-'} ` +
      `backtest: trades=${b.totalTrades} bars=${b.bars} sharpe=${b.sharpe} win_rate=${b.winRate} return=${b.totalReturnPct} ` +
      `gate=${s.training_gate?.checks?.map((c: any) => `${c.metric}:${c.value}`).join(',')} reason=${s.failure_reason ?? '-'}`,
  );
}

/** Ticks until the session's training is running with some progress, so a restart lands mid-training. */
const midTraining = (s: Record<string, any>) => s.outcome !== null || (s.phase === 'training' && (s.operation_progress?.percentage ?? 0) > 0);
/**
 * Ticks until the training is a quarter done: past KTRDR's first periodic checkpoint (every 10 of the 50 epochs), so
 * the killed run has something a resume could start from, and still far from its end. A session still designing has
 * not started its training yet (KTRDR's worker may still be busy with the run A's backend restart orphaned: a 503 the
 * agent waits out), so the ticks go on; one that left training is reported by the caller.
 */
const pastFirstCheckpoint = (s: Record<string, any>) =>
  s.outcome !== null || (s.phase !== 'training' && s.phase !== 'designing') || (s.phase === 'training' && (s.operation_progress?.percentage ?? 0) >= 25);

/** How the agent got a session's operation going again (agent_triggers rows), oldest first. */
async function recoveries(subject: Agent): Promise<{ skip_reason: string; detail: string }[]> {
  const rows = (
    await subject.pool.query(
      "SELECT skip_reason, context FROM agent_triggers WHERE session_id = 1 AND skip_reason IN ('operation_resumed', 'operation_restarted') ORDER BY id",
    )
  ).rows;
  return rows.map((r) => ({ skip_reason: r.skip_reason, detail: r.context?.detail ?? '' }));
}
const researchResults = ['success', 'failed_training_gate', 'failed_backtest_gate'];

describe('the real KTRDR', () => {
  // Two cycles in all (a real training takes minutes on a shared 2-core machine): database A's survives a backend
  // restart mid-training, database B's a training worker killed mid-training.
  test('two fresh databases, a full baseline cycle each: ids unique, results their own, a backend restart and a killed worker survived', async () => {
    const a = await agent();
    const b = await agent({ AGENT_STALL_ZERO_PROGRESS_MINUTES: '2', AGENT_STALL_RESUMING_MINUTES: '2', AGENT_STALL_QUEUED_MINUTES: '3' });
    try {
      await tickUntil(a, midTraining, 5 * 60_000);
      control('kill-backend');
      await a.tick();
      log(`A while the backend is down: ${a.explained.filter((l) => /Session #1/.test(l)).slice(-1)[0]}`);
      control('start-backend');
      const first = await tickUntil(a, ended, 30 * 60_000);
      describeSession('database A session 1 (backend restarted mid-training)', first);
      log(`A recovery: ${(await recoveries(a)).map((r) => `${r.skip_reason} (${r.detail})`).join('; ') || 'none needed'}`);

      const killedAt = await tickUntil(b, pastFirstCheckpoint, 15 * 60_000);
      assert.equal(killedAt.phase, 'training', `B left training (${killedAt.phase}, ${killedAt.outcome}) before its worker could be killed mid-training`);
      const killedOp = killedAt.training_operation_id;
      log(`B: killing the training worker at ${killedAt.operation_progress?.currentStep ?? `${killedAt.operation_progress?.percentage}%`} of ${killedOp}`);
      control('kill-worker');
      await delay(3_000);
      control('start-worker');
      const second = await tickUntil(b, ended, 40 * 60_000);
      describeSession('database B session 1 (training worker killed mid-training)', second);
      const path = await recoveries(b);
      log(
        `B recovery: ${path.map((r) => `${r.skip_reason} (${r.detail})`).join('; ') || 'none'}; killed during ${killedOp}, final ${second.training_operation_id}`,
      );

      assert.notEqual(first.training_operation_id, second.training_operation_id);
      assert.notEqual(first.strategy_name, second.strategy_name);
      assert.ok(researchResults.includes(first.outcome), `A ended ${first.outcome}: ${first.failure_reason}`);
      await assertOwn(first);
      // The killed worker is survived: the cycle reaches a research result (not 'failed_training') through a recovery
      // the agent recorded (a resume from KTRDR's checkpoint, or a fresh start), on a training that is its own.
      assert.ok(researchResults.includes(second.outcome), `B ended ${second.outcome}: ${second.failure_reason}`);
      assert.ok(path.length > 0, 'B: no operation_resumed / operation_restarted recorded after its training worker was killed');
      assert.ok(second.training_results?.modelPath, 'B: no trained model recorded');
      await assertOwn(second);
      const finalOp = await client.getOperation(second.training_operation_id);
      assert.equal(finalOp.status, 'completed', `B's final training ${second.training_operation_id} is ${finalOp.status}`);
      if (second.training_operation_id !== killedOp) {
        // Started afresh: the killed run must not be left live beside the new one.
        const old = await client.getOperation(killedOp);
        assert.ok(isTerminalStatus(old.status), `the killed run ${killedOp} is still ${old.status}`);
        assert.ok(path.some((r) => r.skip_reason === 'operation_restarted' && r.detail.includes(second.training_operation_id)));
      } else {
        assert.ok(
          path.some((r) => r.skip_reason === 'operation_resumed'),
          'B kept its operation id without a recorded resume',
        );
      }
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  test('a training on data KTRDR does not have is refused before it starts, naming what is there', async () => {
    const before = (await client.listOperations({ operationType: 'training', limit: 1 })).totalCount;
    const gbp = await coverageProblem(client, { symbols: ['GBPUSD'], timeframes: ['1h'], startDate: '2020-01-01', endDate: '2021-12-31' });
    log(`GBPUSD: ${gbp}`);
    assert.match(gbp ?? '', /KTRDR has no GBPUSD 1h data at all/);
    const early = await coverageProblem(client, { symbols: ['EURUSD'], timeframes: ['1h'], startDate: '2001-01-01', endDate: '2003-12-31' });
    log(`EURUSD before its data: ${early}`);
    assert.match(early ?? '', /EURUSD 1h data covers only \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2} \(\d+ bars\)/);

    // The same refusal through the agent: a full tick with the baseline designer, whose symbol list alone is swapped
    // for one naming GBPUSD (as a designer that picks a symbol KTRDR does not have would). Everything after that (the
    // window from /data/range, save_strategy_config with KTRDR's validation, start_training, the invocation's end and
    // the session's failure) is the agent's own.
    const c = await agent();
    const proto = BaselineDesigner.prototype as unknown as { design: (this: BaselineDesigner, context: ToolContext, call: ToolCall) => Promise<void> };
    const design = proto.design;
    proto.design = function (context, call) {
      return design.call(this, context, (name, input) =>
        name === 'get_available_symbols' ? Promise.resolve([{ symbol: 'GBPUSD', timeframes: ['1h'] }]) : call(name, input),
      );
    };
    try {
      const refused = await tickUntil(c, ended, 3 * 60_000);
      log(
        `GBPUSD through the agent: outcome=${refused.outcome} strategy=${refused.strategy_name} training_op=${refused.training_operation_id ?? '-'} reason=${refused.failure_reason}`,
      );
      assert.equal(refused.outcome, 'failed_design');
      assert.equal(refused.training_operation_id, null);
      assert.equal(refused.strategy_config?.training_data?.symbols?.symbol, 'GBPUSD');
      assert.match(
        refused.failure_reason ?? '',
        /training not started: the window \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2} is not covered: KTRDR has no GBPUSD 1h data at all/,
      );
      const started = (await c.pool.query('SELECT count(*)::int AS n FROM agent_sessions WHERE training_operation_id IS NOT NULL')).rows[0].n;
      assert.equal(started, 0, 'a session of this database recorded a training operation');
    } finally {
      proto.design = design;
      await c.drop();
    }
    assert.equal(
      (await client.listOperations({ operationType: 'training', limit: 1 })).totalCount,
      before,
      'KTRDR has a training operation the refusal should have prevented',
    );
  });
});
