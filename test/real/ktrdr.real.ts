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
import { loadConfig } from '../../src/core/config/load.ts';
import { runTick } from '../../src/core/engine/runtime.ts';
import { KtrdrClient } from '../../src/core/ktrdr/client.ts';
import { coverageProblem } from '../../src/core/ktrdr/coverage.ts';
import { ownershipMismatch } from '../../src/core/ktrdr/ownership.ts';
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

      await tickUntil(b, midTraining, 5 * 60_000);
      const killedOp = (await b.session(1)).training_operation_id;
      control('kill-worker');
      await delay(3_000);
      control('start-worker');
      const second = await tickUntil(b, ended, 40 * 60_000);
      describeSession('database B session 1 (training worker killed mid-training)', second);
      const path = (await b.pool.query("SELECT skip_reason, context FROM agent_triggers WHERE session_id = 1 AND skip_reason IN ('operation_resumed', 'operation_restarted') ORDER BY id")).rows;
      log(`B recovery: ${path.map((r) => `${r.skip_reason} (${r.context?.detail ?? ''})`).join('; ') || 'none needed'}; killed during ${killedOp}, final ${second.training_operation_id}`);

      assert.notEqual(first.training_operation_id, second.training_operation_id);
      assert.notEqual(first.strategy_name, second.strategy_name);
      assert.ok(['success', 'failed_training_gate', 'failed_backtest_gate'].includes(first.outcome), first.failure_reason);
      await assertOwn(first);
      if (second.outcome === 'success' || second.training_results?.modelPath) await assertOwn(second);
      else assert.match(second.failure_reason ?? '', /\S/);
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
    assert.equal((await client.listOperations({ operationType: 'training', limit: 1 })).totalCount, before);
  });
});
