// A seeded chaos run: many ticks of the built CLI against the simulator with faults, the claude designer's API
// answering 429/529/500 now and then, processes killed with SIGKILL at random points, ticks paused with SIGSTOP
// while they hold the tick lock, the tick lock's connection and every other connection terminated mid-pass, KTRDR
// answers replaced by huge bodies, and ticks launched concurrently. After every round the invariants are checked in
// SQL and against the simulator's operations, and every tick that ran to its end must have ended with a documented
// exit code and a JSON line, never a crash.
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { formatFindings, parseStrategyYaml, validateStrategy } from '../../src/core/strategy/index.ts';
import { openStore } from '../../src/core/db/connect.ts';
import { HYPOTHESIS_MOVES } from '../../src/core/db/repositories/hypotheses.ts';
import { TICK_LOCK_KEY } from '../../src/core/db/tick-lock.ts';
import { SeededRandom } from '../../src/core/kernel/random.ts';
import { createSimulator } from '../../src/core/sim/index.ts';
import { isActive, viewAt, type SimOperation } from '../../src/core/sim/operations.ts';
import { repoRoot } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { startFakeAnthropic, text, thinking, toolUse, type RecordedRequest, type ScriptStep } from '../support/fake-anthropic.ts';
import { BATCH_EXPIRY_GRACE_MS } from '../../src/core/agent/message-batch.ts';

/** Simulated seconds per real second in a chaos run. */
const CHAOS_TIME_SCALE = 50_000;

export interface ChaosOptions {
  seed: number;
  rounds: number;
  /** Share of launched ticks killed with SIGKILL partway. */
  killRate: number;
  /** Ticks launched at once, at most. */
  maxConcurrent: number;
  /** Share of Messages API requests answered 429, 529 or 500. */
  anthropicErrorRate: number;
  dailyBudgetUsd: number;
  /** Share of ticks stopped with SIGSTOP for 0.5-2 s partway (a Ctrl-Z, a VM pause), then resumed. */
  pauseRate?: number;
  /** Share of rounds in which the tick lock's connection is terminated mid-pass (pg_terminate_backend). */
  lockDropRate?: number;
  /** Share of rounds in which every connection of the ticks is terminated mid-pass. */
  terminateRate?: number;
  /** Share of KTRDR requests answered with a 12 MiB body (more than the 8 MiB a tick reads). */
  hugeBodyRate?: number;
  /** How far the simulator's clock runs from the agent's for the whole run (negative: behind), like a skewed KTRDR host. */
  clockSkewMs?: number;
  /**
   * Share of rounds with a Message Batches fault (AGENT_BATCH_PHASES is on for claude ticks): the batches endpoint
   * answering 404 for the round, open batches ending without their result line, or left in progress past their
   * expires_at plus the grace period. Other rounds end open batches normally.
   */
  batchFaultRate?: number;
}

/**
 * Stands between the ticks and the simulator, replacing some answers with a body larger than a tick accepts, and
 * noting every operation id a tick named in a request (what the agent knew of, for the double-start invariant).
 */
async function hugeBodyProxy(
  target: string,
  shouldReplace: (seen: number) => boolean,
): Promise<{ url: string; replaced: () => number; named: ReadonlySet<string>; close(): Promise<void> }> {
  const upstream = new URL(target);
  let replaced = 0;
  let seen = 0;
  const named = new Set<string>();
  const server = createServer((req, res) => {
    const id = /\/operations\/([^/?]+)/.exec(req.url ?? '')?.[1];
    if (id) named.add(decodeURIComponent(id));
    if (shouldReplace(++seen)) {
      replaced++;
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 12 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (sent = Number.POSITIVE_INFINITY));
      pump();
      return;
    }
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
  return {
    url,
    replaced: () => replaced,
    named,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ChaosReport {
  ticks: number;
  kills: number;
  pauses: number;
  lockDrops: number;
  terminations: number;
  hugeBodies: number;
  /** Ticks that ended with exit 6 (their lock was lost) or 5 with a JSON line (their database connection was cut). */
  aborted: number;
  /** Rounds with a Message Batches fault, by kind. */
  batchFaults: { unsupported: number; missingLine: number; overstayed: number };
  faultsInjected: {
    simulatorRuns: number;
    anthropicErrors: number;
    simulatorRequests: number;
    /** Messages requests sent directly. */
    anthropicRequests: number;
    /** Messages requests sent inside Message Batches. */
    batchedRequests: number;
  };
  sessions: Record<string, number>;
  violations: string[];
}

/** A private copy of the built CLI, so a rebuild of dist/ elsewhere in the checkout during the run cannot fail ticks. */
async function snapshotBuild(): Promise<{ bin: string; remove(): void }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const root = mkdtempSync(join(tmpdir(), 'ktrdr-agent-chaos-build-'));
    try {
      for (const entry of ['bin', 'dist', 'prompts', 'package.json', 'oclif.manifest.json'])
        cpSync(join(repoRoot, entry), join(root, entry), { recursive: true });
      symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
      if (existsSync(join(root, 'dist/tick-main.js'))) return { bin: join(root, 'bin/run.js'), remove: () => rmSync(root, { recursive: true, force: true }) };
    } catch {
      // a rebuild was under way: try again
    }
    rmSync(root, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error('dist/ is missing or incomplete: run `npm run build` first');
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const build = await snapshotBuild();
  const binRun = build.bin;
  const random = new SeededRandom(options.seed);
  const work = tempDir('ktrdr-agent-chaos-');
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const database = await createTestDatabase('ktrdr_agent_chaos');
  const simulator = await createSimulator({
    strategiesDir,
    seed: options.seed,
    timeScale: CHAOS_TIME_SCALE,
    faults: { errorRate: 0.05, latencyMs: 15, dropRate: 0.02, lostRate: 0.08, stallRate: 0.08, failureRate: 0.15, clockOffsetMs: options.clockSkewMs ?? 0 },
  });
  const fake = await startFakeAnthropic();
  // Its own stream: requests arrive in no fixed order, so they must not draw from the round's sequence.
  const bodyRandom = new SeededRandom(options.seed + 1);
  // Every fault class the options ask for is injected at least once, whatever the draws: the 40th request is replaced.
  const hugeBodyRate = options.hugeBodyRate ?? 0;
  const proxy = await hugeBodyProxy(simulator.url, (seen) => bodyRandom.next() < hugeBodyRate || (hugeBodyRate > 0 && seen === 40));
  let anthropicErrors = 0;
  const templates: { config: Record<string, unknown>; params: { startDate: string; endDate: string } }[] = [];
  let designs = 0;
  const queues = new Map<string, ScriptStep[]>();
  const step = (name: string, input: unknown): ScriptStep => ({ content: [thinking(`Call ${name}.`), toolUse(name, input)], stop_reason: 'tool_use' });
  const end = (words: string): ScriptStep => ({ content: [thinking('Done.'), text(words)], stop_reason: 'end_turn' });
  const dayAfter = (date: string, days: number) => new Date(Date.parse(date) + days * 86_400_000).toISOString().slice(0, 10);
  const react = (request: RecordedRequest): ScriptStep => {
    if (random.next() < options.anthropicErrorRate) {
      anthropicErrors++;
      return { status: [429, 529, 500][Math.floor(random.next() * 3)]!, retryAfter: 0 };
    }
    const messages = (request.body?.messages as { content: unknown }[] | undefined) ?? [];
    const key = JSON.stringify(messages[0]?.content).slice(0, 400);
    const tools = (request.body?.tools as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
    const template = templates[0];
    if (messages.length === 1 || !queues.has(key)) {
      const name = `chaos_${options.seed}_${designs++}`;
      queues.set(
        key,
        !template
          ? [end('No idea yet.')]
          : tools.includes('save_strategy_config')
            ? [
                // Each design differs a little: the research memory refuses one already run.
                step('save_strategy_config', { name, config: varied(template.config, name, designs), tests_hypothesis: 'exploration' }),
                step('start_training', { strategy_name: name, start_date: template.params.startDate, end_date: template.params.endDate }),
                end('Training started.'),
              ]
            : tools.includes('start_backtest')
              ? [
                  step('start_backtest', { start_date: dayAfter(template.params.endDate, 1), end_date: dayAfter(template.params.endDate, 181) }),
                  end('Started.'),
                ]
              : [
                  step('save_assessment', {
                    verdict: 'neutral',
                    explanation: 'Middling results here.',
                    strengths: ['a'],
                    weaknesses: ['b'],
                    suggestions: ['c'],
                    hypotheses_proposed: [{ text: `chaos hypothesis ${designs}: the template generalises` }],
                  }),
                  end('Assessed.'),
                ],
      );
    }
    return queues.get(key)!.shift() ?? end('Nothing left.');
  };
  fake.script(Array.from({ length: 5000 }, () => react));

  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NO_COLOR: '1',
    HOME: work.path,
    DATABASE_URL: database.url,
    KTRDR_API_URL: proxy.url,
    KTRDR_STRATEGIES_DIR: strategiesDir,
    ANTHROPIC_API_KEY: 'sk-ant-api03-chaos',
    ANTHROPIC_BASE_URL: fake.url,
    AGENT_MAX_CONCURRENT_SESSIONS: '3',
    AGENT_BUDGET_DAILY_USD: String(options.dailyBudgetUsd),
    AGENT_RETRY_BACKOFF_BASE: '0.01',
    AGENT_RETRY_MAX_ATTEMPTS: '2',
    AGENT_LEASE_SECONDS: '10',
    AGENT_MAX_TOKENS: '1024',
    AGENT_STALL_TIMEOUT_MINUTES: '1',
    // Faults of the world back off in seconds, not minutes: the run lasts about a minute, and the Claude path must
    // keep being exercised after its first faults.
    AGENT_FAULT_BACKOFF_MINUTES: '0.05',
    KTRDR_TIMEOUT_SECONDS: '2',
    ...((options.batchFaultRate ?? 0) > 0 ? { AGENT_BATCH_PHASES: 'backtest,assess' } : {}),
    // Passes follow short work (and are killed while following), but within the run's minute.
    AGENT_PASS_FOLLOW_SECONDS: '3',
  };
  const batchFaults = { unsupported: 0, missingLine: 0, overstayed: 0 };
  let ticks = 0;
  let kills = 0;
  let pauses = 0;
  let lockDrops = 0;
  let terminations = 0;
  let aborted = 0;
  const violations: string[] = [];
  let dumps = 0;
  const failedTicks: string[] = [];
  const client = new pg.Client({ connectionString: database.url });
  const launch = (designer: string, connectionsCut: boolean, forcePause = false): Promise<void> =>
    new Promise((resolve) => {
      ticks++;
      const child = spawn(process.execPath, [binRun, 'tick'], {
        cwd: repoRoot,
        env: { ...baseEnv, AGENT_DESIGNER: designer },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (random.next() < options.killRate && !forcePause) {
        setTimeout(
          () => {
            if (child.exitCode === null && child.kill('SIGKILL')) kills++;
          },
          20 + Math.floor(random.next() * 600),
        );
      }
      if (random.next() < (options.pauseRate ?? 0) || forcePause) {
        // A forced pause comes early, while the tick is surely still running.
        const stopAfter = forcePause ? 20 : 20 + Math.floor(random.next() * 600);
        const stopFor = 500 + Math.floor(random.next() * 1500);
        setTimeout(() => {
          if (child.exitCode !== null || !child.kill('SIGSTOP')) return;
          pauses++;
          setTimeout(() => child.kill('SIGCONT'), stopFor);
        }, stopAfter);
      }
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code, signal) => {
        // A killed tick proves nothing. A finished one ends 0 (or 3, the budget), or 5 when an injected fault of the
        // world degraded it, said so by its last line; with connections cut under it, 6 (its tick lock was lost) or 5
        // (its database connection was), said in a JSON line; never a crash.
        const crashed = /Unhandled 'error' event|\n\s+at /.test(stderr);
        const degraded = code === 5 && /"event":"tick_finished"[^\n]*"status":"degraded"/.test(stderr);
        const explained = (code === 6 && stderr.includes('"tick_aborted"')) || (code === 5 && connectionsCut && stderr.includes('"tick_failed"'));
        if (signal === null && (crashed || (code !== 0 && code !== 3 && !degraded && !explained)))
          failedTicks.push(`tick exited ${code}: ${stderr.slice(-400)}`);
        if (signal === null && explained) aborted++;
        resolve();
      });
    });

  try {
    // Migrated up front: a tick killed during its first migration is another test's business.
    await (await openStore({ kind: 'postgres', url: database.url })).close();
    await client.connect();
    for (let round = 0; round < options.rounds; round++) {
      const count = 1 + Math.floor(random.next() * options.maxConcurrent);
      const drawnDesigner = templates.length === 0 || random.next() < 0.5 ? 'baseline' : 'claude';
      const cuts: Promise<void>[] = [];
      const cutLater = (statement: string) => {
        const after = 50 + Math.floor(random.next() * 700);
        return new Promise<void>((resolve) => setTimeout(resolve, after))
          .then(() => client.query(statement))
          .then(
            () => undefined,
            () => undefined,
          );
      };
      // Each fault class asked for is injected at least once: if the draws have not done it by a fixed round, it is forced.
      const forced = (rate: number | undefined, count: number, at: number) => (rate ?? 0) > 0 && count === 0 && round >= Math.floor(options.rounds * at);
      if (random.next() < (options.lockDropRate ?? 0) || forced(options.lockDropRate, lockDrops, 1 / 3)) {
        lockDrops++;
        // The tick lock's backend in this database (advisory locks are per database).
        cuts.push(
          cutLater(
            `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = ${TICK_LOCK_KEY} AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          ),
        );
      }
      if (random.next() < (options.terminateRate ?? 0) || forced(options.terminateRate, terminations, 2 / 3)) {
        terminations++;
        cuts.push(cutLater(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`));
      }
      const forcePause = forced(options.pauseRate, pauses, 1 / 2);
      // Batch faults: one kind per faulty round. Each is injected at least once: the 404 is forced from a fifth of the
      // rounds on until a tick meets it; the two faults of open batches are made at the first rounds that end with a
      // batch open (a fixed round could come after the last one, the day's budget spent: a run failed that way).
      let batchFault: keyof typeof batchFaults | null = null;
      if ((options.batchFaultRate ?? 0) > 0) {
        const kinds = ['unsupported', 'missingLine', 'overstayed'] as const;
        if (forced(options.batchFaultRate, batchFaults.unsupported, 1 / 5)) batchFault = 'unsupported';
        else if (random.next() < options.batchFaultRate!) batchFault = kinds[Math.floor(random.next() * kinds.length)]!;
      }
      // A forced 404 needs batch requests: its round's ticks design with Claude (once a template exists).
      const designer = batchFault === 'unsupported' && batchFaults.unsupported === 0 && templates.length > 0 ? 'claude' : drawnDesigner;
      if (batchFault === 'unsupported') fake.batchesAnswer(404);
      const batchCallsBefore = fake.batchRequests.length;
      await Promise.all([...Array.from({ length: count }, (_, i) => launch(designer, cuts.length > 0, forcePause && i === 0)), ...cuts]);
      fake.batchesAnswer(null);
      // Counted only when it met something: a 404 a tick was answered, a batch that was open.
      const openBatches = [...fake.batches.values()].some((batch) => batch.processing_status !== 'ended');
      if (openBatches && batchFault === null && (options.batchFaultRate ?? 0) > 0)
        batchFault = batchFaults.missingLine === 0 ? 'missingLine' : batchFaults.overstayed === 0 ? 'overstayed' : null;
      if (batchFault === 'unsupported' ? fake.batchRequests.length > batchCallsBefore : batchFault !== null && openBatches) batchFaults[batchFault!]++;
      if (batchFault === 'missingLine') await fake.endBatchesWithoutResults({ billed: random.next() < 0.5 });
      else if (batchFault === 'overstayed') fake.overstayBatches(BATCH_EXPIRY_GRACE_MS + 60_000);
      else if ((options.batchFaultRate ?? 0) > 0) await fake.endBatches();
      if (templates.length === 0) {
        const row = (
          await client.query(`SELECT strategy_config, training_params FROM agent_sessions WHERE training_params IS NOT NULL AND designer = 'baseline' LIMIT 1`)
        ).rows[0];
        if (row) templates.push({ config: row.strategy_config, params: row.training_params });
      }
      violations.push(...failedTicks.splice(0).map((f) => `round ${round}: ${f}`));
      const foundNow = await checkInvariants(client, strategiesDir, [...simulator.state.operations.values()], proxy.named);
      violations.push(...foundNow.map((v) => `round ${round}: ${v}`));
      // For the post-mortem (CHAOS_DUMP_DIR): the agent's rows and the simulator's runs (fates, cancels) at the first
      // few rounds that broke an invariant, which the violation line alone cannot tell.
      if (process.env.CHAOS_DUMP_DIR && foundNow.length > 0 && dumps++ < 5)
        await dumpRound(client, simulator.state, join(process.env.CHAOS_DUMP_DIR, `chaos-${options.seed}-round-${round}.json`));
      await new Promise((r) => setTimeout(r, 30));
    }
    const sessions = Object.fromEntries(
      (await client.query(`SELECT coalesce(outcome, phase) AS state, count(*)::int AS n FROM agent_sessions GROUP BY 1`)).rows.map((r) => [r.state, r.n]),
    );
    const simulatorRuns = [...simulator.state.operations.values()].flatMap((op) => op.runs).filter((run) => run.fate.kind !== 'complete').length;
    const batchedRequests = [...fake.batches.values()].reduce((sum, batch) => sum + batch.requests.length, 0);
    return {
      ticks,
      kills,
      pauses,
      lockDrops,
      terminations,
      hugeBodies: proxy.replaced(),
      aborted,
      batchFaults,
      faultsInjected: {
        simulatorRuns,
        anthropicErrors,
        simulatorRequests: simulator.state.requests.length,
        anthropicRequests: fake.requests.length,
        batchedRequests,
      },
      sessions,
      violations,
    };
  } finally {
    await client.end().catch(() => undefined);
    await fake.close();
    await proxy.close();
    await simulator.close();
    await database.drop();
    work.remove();
    build.remove();
  }
}

async function dumpRound(client: pg.Client, state: { operations: Map<string, SimOperation>; requests: unknown[] }, file: string): Promise<void> {
  const rows = async (table: string) => (await client.query(`SELECT * FROM ${table} ORDER BY id`)).rows;
  const dump = {
    sessions: await rows('agent_sessions'),
    triggers: await rows('agent_triggers'),
    actions: await rows('agent_actions'),
    promotions: await rows('agent_promotions'),
    validations: await rows('agent_validation_backtests'),
    operations: [...state.operations.values()].map((o) => ({ ...o, design: null, training: null, backtest: null })),
    requests: state.requests,
  };
  writeFileSync(file, JSON.stringify(dump, null, 1));
}

/** The template with its confidence threshold nudged per design: a new fingerprint each time. */
function varied(config: Record<string, unknown>, name: string, index: number): Record<string, unknown> {
  const decisions = (config.decisions ?? {}) as Record<string, unknown>;
  return { ...config, name, decisions: { ...decisions, confidence_threshold: Math.round((0.5 + (index % 45) / 100) * 100) / 100 } };
}

/**
 * Whether an operation still ran at `at` as far as any client of KTRDR could know. A run the simulator lost (404 and
 * out of every listing from then on) may still run unseen: once the agent has named it in a request it knew the run,
 * and nothing may start beside it. One lost before the agent ever named it (the tick that started it was killed
 * before it recorded the id) is invisible to every client, so a start after its loss is the adoption finding nothing,
 * not a double start. KTRDR itself does not lose a started operation: it is written to its database before it is
 * dispatched (`OperationsService.create_operation`, ktrdr/api/services/operations_service.py at 2c5c7173).
 */
function liveAt(operation: SimOperation, at: number, named: ReadonlySet<string> | null): boolean {
  const view = viewAt(operation, at, CHAOS_TIME_SCALE);
  if (!isActive(view.status)) return false;
  return !view.lost || named === null || named.has(operation.id);
}

/** `named`: the operation ids the agent named in its requests to KTRDR; null counts every lost run as live. */
export async function checkInvariants(
  client: pg.Client,
  strategiesDir: string,
  operations: SimOperation[],
  named: ReadonlySet<string> | null = null,
): Promise<string[]> {
  const found: string[] = [];
  const count = async (label: string, query: string) => {
    const rows = (await client.query(query)).rows as { id: unknown }[];
    if (rows.length > 0)
      found.push(
        `${label}: ${rows
          .map((r) => JSON.stringify(r))
          .join(', ')
          .slice(0, 500)}`,
      );
  };
  await count(
    'session not in exactly one valid phase',
    `SELECT id, phase, outcome FROM agent_sessions WHERE phase NOT IN ('idle','designing','training','backtesting','assessing') OR (outcome IS NULL) <> (phase <> 'idle')`,
  );
  // A designing or assessing session may hold no lease: an invocation that met an empty budget or an unreachable
  // KTRDR releases it and the session waits for the next pass, which invokes again (decide.ts). A session waiting on
  // KTRDR must know its operation, or be held by the invocation starting it.
  await count(
    'training or backtesting session with neither operation id nor lease',
    `SELECT id, phase FROM agent_sessions WHERE outcome IS NULL AND lease_owner IS NULL AND phase IN ('training', 'backtesting') AND NOT (
       (phase = 'training' AND training_operation_id IS NOT NULL) OR (phase = 'backtesting' AND backtest_operation_id IS NOT NULL))`,
  );
  // Faults of the world are never research results: a skewed KTRDR clock or a batch fault fails no session.
  await count(
    'session failed by a clock or batch fault',
    `SELECT id, outcome, left(failure_reason, 200) AS reason FROM agent_sessions WHERE outcome IS NOT NULL AND outcome <> 'success'
       AND (failure_reason LIKE '%before this session began%' OR failure_reason ~ '(Message Batches|batch msgbatch_|result line)')`,
  );
  await count(
    'ended batch whose reservation is still held',
    `SELECT b.id, b.result_type FROM agent_message_batches b JOIN agent_budget_reservations r ON r.id = b.reservation_id WHERE b.status = 'ended' AND r.status = 'reserved'`,
  );
  await count('spend above the daily limit', `SELECT date, budget_used_usd, budget_limit_usd FROM agent_budget WHERE budget_used_usd > budget_limit_usd`);
  await count(
    'finished session without its metrics row',
    `SELECT s.id FROM agent_sessions s LEFT JOIN agent_metrics m ON m.session_id = s.id WHERE s.outcome IS NOT NULL AND m.id IS NULL`,
  );
  await count(
    'finished session without exactly one experiment row (or an active one with any)',
    `SELECT s.id, s.outcome, count(e.id)::int AS experiments FROM agent_sessions s LEFT JOIN agent_experiments e ON e.session_id = s.id
      GROUP BY s.id, s.outcome HAVING count(e.id) <> (CASE WHEN s.outcome IS NULL THEN 0 ELSE 1 END)`,
  );
  const moves = Object.entries(HYPOTHESIS_MOVES).flatMap(([via, statuses]) => statuses.map((status) => `('${via}', '${status}')`));
  await count(
    'hypothesis event not made by a tool allowed to make it (or a first event other than the proposal)',
    `SELECT ev.id, ev.hypothesis_id, ev.via, ev.status FROM agent_hypothesis_events ev
      WHERE (ev.moved AND (ev.via, ev.status) NOT IN (VALUES ${moves.join(', ')}))
         OR (ev.id = (SELECT min(first.id) FROM agent_hypothesis_events first WHERE first.hypothesis_id = ev.hypothesis_id) AND ev.status <> 'untested')`,
  );
  await count(
    'hypothesis retired without its latest event retiring it (or the other way round)',
    `SELECT h.id, h.retired_at FROM agent_hypotheses h WHERE (h.retired_at IS NOT NULL) IS DISTINCT FROM (
       (SELECT ev.status FROM agent_hypothesis_events ev WHERE ev.hypothesis_id = h.id AND ev.moved ORDER BY ev.id DESC LIMIT 1) = 'retired')`,
  );
  await count(
    'hypothesis status not set by its latest tool event',
    `SELECT h.id, h.status FROM agent_hypotheses h WHERE h.status IS DISTINCT FROM (
       SELECT ev.status FROM agent_hypothesis_events ev WHERE ev.hypothesis_id = h.id AND ev.moved AND ev.status <> 'retired' ORDER BY ev.id DESC LIMIT 1)`,
  );
  // Trial accounting: a design trained to an answer on a symbol, timeframe and window is never trained to one again
  // there (the claim refuses it in flight, the memory after).
  await count(
    'design trained twice on the same symbol, timeframe and training window',
    `SELECT fingerprint, symbol, timeframe, training_start, training_end, array_agg(id ORDER BY id) AS experiments FROM agent_experiments
      WHERE fingerprint IS NOT NULL AND training_gate IS NOT NULL AND training_start IS NOT NULL
      GROUP BY fingerprint, symbol, timeframe, training_start, training_end HAVING count(*) > 1`,
  );
  // A second start of the same strategy is a fresh start after a stall only when the first had ended (cancelled or
  // failed) by then; two live at once is the double start this invariant is about.
  const starts = new Map<string, SimOperation[]>();
  for (const op of operations) {
    if (op.retryOf) continue;
    const key = `${op.type}:${op.strategyName}`;
    starts.set(key, [...(starts.get(key) ?? []), op]);
  }
  for (const [key, ops] of starts) {
    const ordered = [...ops].sort((a, b) => a.createdAt - b.createdAt);
    for (let i = 1; i < ordered.length; i++) {
      const later = ordered[i]!;
      const live = ordered.slice(0, i).filter((earlier) => liveAt(earlier, later.createdAt, named));
      if (live.length > 0)
        found.push(`KTRDR operation started twice: ${key} (${[...live, later].map((o) => `${o.id} ${o.startDate}..${o.endDate}`).join(', ')})`);
    }
  }
  for (const file of readdirSync(strategiesDir)) {
    if (!file.endsWith('.yaml')) continue;
    // Whole means the complete strategy the agent saved: it parses, and it validates with its name equal to the file's.
    const parsed = parseStrategyYaml(readFileSync(join(strategiesDir, file), 'utf8'));
    if (!parsed.ok) {
      found.push(`strategy file ${file} does not parse: ${parsed.error}`);
      continue;
    }
    const validation = validateStrategy(parsed.value, { expectedName: file.replace(/\.yaml$/, ''), nameMismatch: 'error' });
    if (!validation.valid) found.push(`strategy file ${file} is not a whole strategy: ${formatFindings(validation.findings).slice(0, 300)}`);
  }
  return found;
}

export function printReport(report: ChaosReport): void {
  console.log(
    `chaos: ${report.ticks} ticks run, ${report.kills} killed with SIGKILL, ${report.pauses} paused with SIGSTOP, ` +
      `${report.lockDrops} tick-lock connections and ${report.terminations} rounds of connections terminated (${report.aborted} ticks stopped cleanly by them), ` +
      `${report.hugeBodies} huge KTRDR bodies, batch faults ${JSON.stringify(report.batchFaults)}, faults injected: ${report.faultsInjected.simulatorRuns} simulator runs failed/lost/stalled, ` +
      `${report.faultsInjected.anthropicErrors} Messages API errors of ${report.faultsInjected.anthropicRequests} direct Messages requests, ${report.faultsInjected.batchedRequests} batched (simulator saw ${report.faultsInjected.simulatorRequests} requests); ` +
      `sessions ${JSON.stringify(report.sessions)}; invariant violations: ${report.violations.length}`,
  );
  for (const violation of report.violations.slice(0, 20)) console.log(`  ${violation}`);
}
