// `npm run bench`: start-up, scale, in-flight and token figures of the built CLI. Medians and ratios, never single
// times; results in bench/results/latest.json and a table on stdout. `--quick` shrinks every size.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { loadBudgetView } from '../src/core/cli/views/budget-view.ts';
import { loadHistoryView } from '../src/core/cli/views/history-view.ts';
import { loadSessionView } from '../src/core/cli/views/session-view.ts';
import { loadStatusView } from '../src/core/cli/views/status-view.ts';
import { openStore } from '../src/core/db/connect.ts';
import type { Database } from '../src/core/db/database-schema.ts';
import { createSimulator, type Simulator } from '../src/core/sim/index.ts';
import { repoRoot, type CliResult } from '../test/support/cli.ts';
import { createTestDatabase, tempDir } from '../test/support/databases.ts';
import { startFakeAnthropic, text, thinking, toolUse, type RecordedRequest, type ScriptStep } from '../test/support/fake-anthropic.ts';
import { realisticOutcomes, seedDatabase } from '../test/support/seed.ts';
import { researchArms, researchMemory } from './research.ts';
import { integrityBench } from './integrity.ts';
import { searchWorlds } from './search.ts';
import { nodeMemory } from './node-memory.ts';
import { pruneBench } from './prune.ts';
import { nightBench } from './night.ts';
import { reportBench } from './report.ts';

const quick = process.argv.includes('--quick');
const sizes = quick
  ? { startupRuns: 5, sessions: 10_000, actionsPerSession: 10, triggers: 30_000, scaleRuns: 3, inFlight: [50, 200], inFlightRuns: 3 }
  : { startupRuns: 15, sessions: 100_000, actionsPerSession: 10, triggers: 300_000, scaleRuns: 7, inFlight: [200, 1000], inFlightRuns: 5 };

/**
 * A private copy of the built CLI: other work in the checkout may rebuild dist/ (which deletes it first) while the
 * bench runs, so every child runs this snapshot instead.
 */
function snapshotBuild(): { bin: string; remove(): void } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const root = mkdtempSync(join(tmpdir(), 'ktrdr-agent-bench-build-'));
    try {
      for (const entry of ['bin', 'dist', 'prompts', 'package.json', 'oclif.manifest.json'])
        cpSync(join(repoRoot, entry), join(root, entry), { recursive: true });
      symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
      if (existsSync(join(root, 'dist/tick-main.js')) && existsSync(join(root, 'dist/commands/status.js'))) {
        return { bin: join(root, 'bin/run.js'), remove: () => rmSync(root, { recursive: true, force: true }) };
      }
    } catch {
      // a rebuild was under way: try again
    }
    rmSync(root, { recursive: true, force: true });
    const wait = Date.now() + 1000;
    while (Date.now() < wait);
  }
  throw new Error('dist/ is missing or incomplete: run `npm run build` first');
}
const build = snapshotBuild();
const binRun = build.bin;

function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binRun, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const results: Record<string, unknown> = { generatedAt: new Date().toISOString(), quick, node: process.version, sizes };
const tables: string[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** The built CLI runs as cron runs it, through its shebang (which carries Node's flags); anything else is a Node script. */
function childCommand(args: string[]): { file: string; args: string[]; path: string } {
  // The shebang's `env node` must find this Node, not an older one earlier on PATH.
  const path = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  return args[0] === binRun ? { file: binRun, args: args.slice(1), path } : { file: process.execPath, args, path };
}

/** One child's cost: wall ms, CPU ms (user + sys) and peak resident memory in MiB (null without /usr/bin/time). */
interface ChildCost {
  wallMs: number;
  cpuMs: number | null;
  peakMiB: number | null;
}

const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
let costFiles = 0;

/** Runs one child process under GNU time (when present) and returns its cost; fails loudly on a non-zero exit. */
function measureChild(args: string[], env: Record<string, string>): Promise<ChildCost> {
  const command = childCommand(args);
  const costFile = join(tmpdir(), `ktrdr-agent-bench-cost-${process.pid}-${costFiles++}`);
  const [file, argv] = gnuTime ? [gnuTime, ['-f', '%U %S %M', '-o', costFile, command.file, ...command.args]] : [command.file, command.args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd: repoRoot, env: { NO_COLOR: '1', ...env, PATH: command.path }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      if (!gnuTime) return resolve({ wallMs, cpuMs: null, peakMiB: null });
      const [user, sys, maxKb] = readFileSync(costFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      rmSync(costFile, { force: true });
      resolve({ wallMs, cpuMs: (user! + sys!) * 1000, peakMiB: maxKb! / 1024 });
    });
  });
}

/** Wall time of one child process, in ms; fails loudly on a non-zero exit. */
async function timeChild(args: string[], env: Record<string, string>): Promise<number> {
  return (await measureChild(args, env)).wallMs;
}

/** Runs every case once per round, rounds interleaved so drift hits all cases alike. */
async function interleaved(cases: Record<string, () => Promise<number>>, rounds: number): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(cases)) samples[name]!.push(await run());
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

function table(title: string, header: string[], rows: (string | number)[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  tables.push([`\n${title}`, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n'));
  console.log(tables.at(-1));
}

/** A strategy the simulator accepts, written by the baseline designer: its YAML and the training params it chose. */
async function baselineStrategy(strategiesDir: string): Promise<{ name: string; config: Record<string, unknown>; trainingParams: Record<string, unknown> }> {
  const database = await createTestDatabase('ktrdr_agent_bench');
  mkdirSync(strategiesDir, { recursive: true });
  const simulator = await createSimulator({ strategiesDir, seed: 11, timeScale: 1 });
  try {
    const env = {
      HOME: strategiesDir,
      DATABASE_URL: database.url,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: 'baseline',
    };
    const tick = await runCli(['tick'], env);
    if (tick.code !== 0) throw new Error(`baseline tick failed: ${tick.stderr}`);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const row = (await client.query('SELECT strategy_name, training_params FROM agent_sessions WHERE training_operation_id IS NOT NULL LIMIT 1')).rows[0];
    await client.end();
    if (!row) throw new Error(`the baseline tick started no training: ${tick.stderr}`);
    const config = parseYaml(readFileSync(join(strategiesDir, `${row.strategy_name}.yaml`), 'utf8')) as Record<string, unknown>;
    return { name: row.strategy_name, config, trainingParams: row.training_params };
  } finally {
    await simulator.close();
    await database.drop();
  }
}

/** A bare PGlite: open the data dir, one query, close. What a PGlite tick is measured against. */
const BARE_PGLITE = `const { PGlite } = await import(process.env.PGLITE_URL);
const db = new PGlite(process.argv[2]);
await db.waitReady;
await db.query('SELECT 1');
await db.close();
`;

/** Like `interleaved`, but keeps every sample of every cost. */
async function interleavedCosts(cases: Record<string, () => Promise<ChildCost>>, rounds: number): Promise<Record<string, ChildCost[]>> {
  const samples: Record<string, ChildCost[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(cases)) samples[name]!.push(await run());
  }
  return samples;
}

interface StartupFigure {
  medianMs: number;
  ratio: number;
  cpuMs: number | null;
  cpuRatio: number | null;
  peakMiB: number | null;
}

function startupFigures(samples: Record<string, ChildCost[]>): {
  figures: Record<string, StartupFigure>;
  noise: { minMs: number; p25Ms: number; medianMs: number; p75Ms: number; maxMs: number };
} {
  const wall = (name: string) => samples[name]!.map((cost) => cost.wallMs);
  const cpu = (name: string) => (samples[name]!.every((cost) => cost.cpuMs !== null) ? median(samples[name]!.map((cost) => cost.cpuMs!)) : null);
  const base = median(wall('node -e 0'));
  const baseCpu = cpu('node -e 0');
  const figures = Object.fromEntries(
    Object.keys(samples).map((name) => {
      const cpuMs = cpu(name);
      const peaks = samples[name]!.map((cost) => cost.peakMiB);
      return [
        name,
        {
          medianMs: round(median(wall(name)), 1),
          ratio: round(median(wall(name)) / base),
          cpuMs: cpuMs === null ? null : round(cpuMs, 0),
          cpuRatio: cpuMs === null || !baseCpu ? null : round(cpuMs / baseCpu),
          peakMiB: peaks.every((peak) => peak !== null) ? round(Math.max(...(peaks as number[])), 0) : null,
        },
      ];
    }),
  );
  const sorted = wall('node -e 0').sort((x, y) => x - y);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 1);
  return { figures, noise: { minMs: round(sorted[0]!, 1), p25Ms: at(0.25), medianMs: round(base, 1), p75Ms: at(0.75), maxMs: round(sorted.at(-1)!, 1) } };
}

async function startup(): Promise<void> {
  const work = tempDir('ktrdr-agent-bench-startup-');
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const bareScript = join(work.path, 'bare-pglite.mjs');
  writeFileSync(bareScript, BARE_PGLITE);
  const pgliteUrl = new URL('../node_modules/@electric-sql/pglite/dist/index.js', import.meta.url).href;
  const simulator = await createSimulator({ strategiesDir, seed: 3, timeScale: 1 });
  const databases: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
  const figures: Record<string, Record<string, StartupFigure>> = {};
  const noise: Record<string, unknown> = {};
  let fresh = 0;
  try {
    for (const store of ['postgres', 'pglite'] as const) {
      const base = { HOME: work.path, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir, AGENT_DESIGNER: 'baseline' };
      const envFor = async (name: string): Promise<Record<string, string>> => {
        if (store === 'pglite') return { ...base, KTRDR_AGENT_DATA_DIR: join(work.path, `${store}-${name}`) };
        const database = await createTestDatabase('ktrdr_agent_bench');
        databases.push(database);
        return { ...base, DATABASE_URL: database.url };
      };
      const idle = await envFor('idle');
      const running = await envFor('running');
      // Not paused, and nothing to decide: a new cycle is due, but the day's budget (zero) pays for no call.
      const unpaused = { ...(await envFor('unpaused')), AGENT_DESIGNER: 'claude', ANTHROPIC_API_KEY: 'sk-ant-api03-bench-key', AGENT_BUDGET_DAILY_USD: '0' };
      if ((await runCli(['pause'], idle)).code !== 0) throw new Error('pause failed');
      const first = await runCli(['tick'], running);
      if (first.code !== 0 || !/"sessionsCreated":\[1\]/.test(first.stderr)) throw new Error(`the first tick started nothing: ${first.stderr}`);
      const quiet = await runCli(['tick'], unpaused);
      if (quiet.code !== 0 || !/"skipReason":"budget/.test(quiet.stderr)) throw new Error(`the unpaused tick was not skipped for its budget: ${quiet.stderr}`);
      const cases: Record<string, () => Promise<ChildCost>> = {
        'node -e 0': () => measureChild(['-e', '0'], {}),
        '--version': () => measureChild([binRun, '--version'], idle),
        'tick (paused)': () => measureChild([binRun, 'tick'], idle),
        'tick (idle, not paused)': () => measureChild([binRun, 'tick'], unpaused),
        'tick (training running)': () => measureChild([binRun, 'tick'], running),
      };
      if (store === 'pglite') {
        const bareEnv = { PGLITE_URL: pgliteUrl };
        // `node bin/run.js` skips the shebang's flags: what the flags save.
        cases['tick (paused), node bin/run.js'] = () => measureChild(['--', binRun, 'tick'], idle);
        cases['status --json'] = () => measureChild([binRun, 'status', '--json'], idle);
        cases['history --json'] = () => measureChild([binRun, 'history', '--json'], running);
        cases['session 1 --json'] = () => measureChild([binRun, 'session', '1', '--json'], running);
        cases['budget --json'] = () => measureChild([binRun, 'budget', '--json'], running);
        cases['bare PGlite open'] = () => measureChild([bareScript, join(idle.KTRDR_AGENT_DATA_DIR!, 'pgdata')], bareEnv);
        cases['bare PGlite open (--liftoff-only)'] = () => measureChild(['--liftoff-only', bareScript, join(idle.KTRDR_AGENT_DATA_DIR!, 'pgdata')], bareEnv);
        // A first run creates and migrates the database: each sample gets a data dir of its own.
        cases['tick (first run)'] = () => measureChild([binRun, 'tick'], { ...base, KTRDR_AGENT_DATA_DIR: join(work.path, `first-${fresh++}`) });
        cases['bare PGlite first open'] = () => measureChild([bareScript, join(work.path, `bare-first-${fresh++}`)], bareEnv);
      }
      const samples = await interleavedCosts(cases, sizes.startupRuns);
      ({ figures: figures[store], noise: noise[store] } = startupFigures(samples));
    }
  } finally {
    await simulator.close();
    for (const database of databases) await database.drop();
    work.remove();
  }
  results.startup = figures;
  results.startupNoise = noise;
  const cell = (store: string, name: string) => {
    const figure = figures[store]![name];
    return figure ? [figure.medianMs, figure.ratio, figure.cpuRatio ?? '-', figure.peakMiB ?? '-'] : ['', '', '', ''];
  };
  const names = [...new Set([...Object.keys(figures.postgres!), ...Object.keys(figures.pglite!)])];
  table(
    `start-up (median of ${sizes.startupRuns} interleaved runs; wall and CPU (user+sys) as ratios to node -e 0, peak RSS the max; ` +
      `node -e 0 wall min/p25/median/p75/max: postgres ${Object.values(noise.postgres as object).join('/')} ms, pglite ${Object.values(noise.pglite as object).join('/')} ms)`,
    ['command', 'pg ms', 'wall', 'cpu', 'MiB', 'pglite ms', 'wall', 'cpu', 'MiB'],
    names.map((n) => [n, ...cell('postgres', n), ...cell('pglite', n)]),
  );
}

/** The SQL a view runs, captured through Kysely's log hook, then EXPLAINed with its parameters. */
async function explainViews(url: string, sessionId: number): Promise<Record<string, { sql: string; plan: string[]; seqScansOnLargeTables: string[] }[]>> {
  const captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  const now = new Date();
  const settings = { configuredLimitUsd: 5, stallAfterSeconds: 3600, faultBackoffMinutes: 5 };
  const views: Record<string, () => Promise<unknown>> = {
    status: () => loadStatusView(db, { now, recentLimit: 5, ...settings }),
    history: () => loadHistoryView(db, { now, limit: 20, outcomes: null, since: null, cursor: null } as Parameters<typeof loadHistoryView>[1]),
    session: () => loadSessionView(db, sessionId, { now, actionLimit: 200, stallAfterSeconds: 3600 }),
    budget: () => loadBudgetView(db, { now, days: 30, configuredLimitUsd: 5, bufferUsd: 0.1, enforcement: true }),
  };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const plans: Record<string, { sql: string; plan: string[]; seqScansOnLargeTables: string[] }[]> = {};
  try {
    for (const [name, load] of Object.entries(views)) {
      captured.length = 0;
      await load();
      plans[name] = [];
      for (const query of [...captured]) {
        const rows = (await client.query(`EXPLAIN ${query.sql}`, [...query.parameters])).rows as { 'QUERY PLAN': string }[];
        const plan = rows.map((r) => r['QUERY PLAN']);
        const seqScansOnLargeTables = plan.filter((line) => /Seq Scan on (agent_sessions|agent_actions|agent_triggers|agent_metrics)\b/.test(line));
        plans[name].push({ sql: query.sql, plan, seqScansOnLargeTables });
      }
    }
  } finally {
    await client.end();
    await db.destroy();
  }
  return plans;
}

async function scale(): Promise<void> {
  const work = tempDir('ktrdr-agent-bench-scale-');
  const database = await createTestDatabase('ktrdr_agent_bench');
  try {
    const store = await openStore({ kind: 'postgres', url: database.url });
    const seedStarted = Date.now();
    const active = { designing: 20, training: 20, backtesting: 20, assessing: 20 };
    const seeded = await seedDatabase(store.db, {
      active,
      finished: realisticOutcomes(sizes.sessions - 80),
      actionsPerSession: sizes.actionsPerSession,
      spreadDays: 365,
      paused: true,
      seed: 5,
      ticks: 10,
    });
    await sql`
      INSERT INTO agent_triggers (triggered_at, tick_id, trigger_reason, session_id, agent_invoked, skip_reason, budget_used_today_usd, budget_remaining_usd)
      SELECT NOW() - (g * interval '105 seconds'), 'tick_bench_' || (g / 3), (ARRAY['poll', 'design_due', 'gate', 'budget'])[1 + g % 4],
             1 + (g % ${seeded.sessionCount}), g % 7 = 0, CASE WHEN g % 5 = 0 THEN 'nothing_due' END, 1.25, 3.65
      FROM generate_series(1, ${sizes.triggers}) AS g`.execute(store.db);
    await sql`ANALYZE`.execute(store.db);
    const counts = (
      await sql<{ sessions: number; actions: number; triggers: number; budgetDays: number }>`
        SELECT (SELECT count(*)::int FROM agent_sessions) AS sessions, (SELECT count(*)::int FROM agent_actions) AS actions,
               (SELECT count(*)::int FROM agent_triggers) AS triggers, (SELECT count(*)::int FROM agent_budget) AS "budgetDays"`.execute(store.db)
    ).rows[0]!;
    await store.close();
    const seedSeconds = round((Date.now() - seedStarted) / 1000, 1);
    const sessionId = seeded.finished.success[Math.floor(seeded.finished.success.length / 2)]!;
    const env = { HOME: work.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
    const medians = await interleaved(
      {
        'tick (paused)': () => timeChild([binRun, 'tick'], env),
        'status --json': () => timeChild([binRun, 'status', '--json'], env),
        'history --json': () => timeChild([binRun, 'history', '--json'], env),
        'session <id> --json': () => timeChild([binRun, 'session', String(sessionId), '--json'], env),
        'budget --json': () => timeChild([binRun, 'budget', '--json'], env),
      },
      sizes.scaleRuns,
    );
    const idle = medians['tick (paused)']!;
    const plans = await explainViews(database.url, sessionId);
    results.scale = {
      seeded: { ...counts, seedSeconds },
      commands: Object.fromEntries(Object.entries(medians).map(([n, ms]) => [n, { medianMs: round(ms, 1), ratioToIdleTick: round(ms / idle) }])),
      plans,
    };
    table(
      `scale (${counts.sessions} sessions, ${counts.actions} actions, ${counts.triggers} triggers, ${counts.budgetDays} budget days; seeded in ${seedSeconds} s; median of ${sizes.scaleRuns})`,
      ['command', 'median ms', 'ratio to idle tick'],
      Object.entries(medians).map(([n, ms]) => [n, round(ms, 1), round(ms / idle)]),
    );
    for (const [view, queries] of Object.entries(plans)) {
      console.log(`\nEXPLAIN ${view}:`);
      for (const query of queries) {
        console.log(`  ${query.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
        for (const line of query.plan) console.log(`    ${line}`);
        if (query.seqScansOnLargeTables.length) console.log(`    !! sequential scan on a large table`);
      }
    }
  } finally {
    await database.drop();
    work.remove();
  }
}

async function inFlight(): Promise<void> {
  const work = tempDir('ktrdr-agent-bench-inflight-');
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const strategy = await baselineStrategy(strategiesDir);
  const figures: Record<string, { sessions: number; medianMs: number; msPerSession: number }> = {};
  let simulator: Simulator | null = null;
  try {
    simulator = await createSimulator({ strategiesDir, seed: 9, timeScale: 1 });
    const params = strategy.trainingParams as { symbols?: string[]; timeframes?: string[]; startDate?: string; endDate?: string };
    for (const count of sizes.inFlight) {
      const samples: number[] = [];
      for (let run = 0; run < sizes.inFlightRuns; run++) {
        const database = await createTestDatabase('ktrdr_agent_bench');
        try {
          const store = await openStore({ kind: 'postgres', url: database.url });
          const operationIds: string[] = [];
          for (let i = 0; i < count; i++) {
            const response = await fetch(`${simulator.url}/trainings/start`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                strategy_name: strategy.name,
                symbols: params.symbols,
                timeframes: params.timeframes,
                start_date: params.startDate,
                end_date: params.endDate,
              }),
            });
            const body = (await response.json()) as { task_id?: string; operation_id?: string };
            const id = body.task_id ?? body.operation_id;
            if (!response.ok || !id) throw new Error(`simulator refused a training: ${JSON.stringify(body)}`);
            operationIds.push(id);
          }
          const rows = operationIds.map((operationId) => ({
            phase: 'training',
            designer: 'baseline',
            strategy_name: strategy.name,
            strategy_config: JSON.stringify(strategy.config),
            strategy_file_path: join(strategiesDir, `${strategy.name}.yaml`),
            training_operation_id: operationId,
            training_params: JSON.stringify(strategy.trainingParams),
            progress_changed_at: new Date(),
          }));
          for (let i = 0; i < rows.length; i += 500)
            await store.db
              .insertInto('agent_sessions')
              .values(rows.slice(i, i + 500) as never)
              .execute();
          await store.close();
          const env = {
            HOME: work.path,
            DATABASE_URL: database.url,
            KTRDR_API_URL: simulator.url,
            KTRDR_STRATEGIES_DIR: strategiesDir,
            AGENT_DESIGNER: 'baseline',
            AGENT_MAX_CONCURRENT_SESSIONS: String(count),
          };
          samples.push(await timeChild([binRun, 'tick'], env));
          const client = new pg.Client({ connectionString: database.url });
          await client.connect();
          const polled = (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE phase = 'training' AND operation_progress IS NOT NULL`))
            .rows[0].n as number;
          await client.end();
          if (polled !== count) throw new Error(`one tick polled ${polled} of ${count} sessions`);
        } finally {
          await database.drop();
        }
      }
      const ms = median(samples);
      figures[String(count)] = { sessions: count, medianMs: round(ms, 1), msPerSession: round(ms / count, 3) };
    }
  } finally {
    await simulator?.close();
    work.remove();
  }
  const [small, large] = sizes.inFlight.map((n) => figures[String(n)]!);
  const timeRatio = round(large!.medianMs / small!.medianMs);
  const sizeRatio = large!.sessions / small!.sessions;
  results.inFlight = { figures, timeRatio, sizeRatio, scaling: timeRatio <= sizeRatio * 1.1 ? 'linear or better' : 'worse than linear' };
  table(
    `in flight: one tick polls every TRAINING session (median of ${sizes.inFlightRuns}); time ratio ${timeRatio} for ${sizeRatio}x sessions`,
    ['sessions', 'median ms', 'ms per session'],
    Object.values(figures).map((f) => [f.sessions, f.medianMs, f.msPerSession]),
  );
}

/**
 * One full cycle with the claude designer against the fake Messages API, prompt caching on or off, with the default
 * model and effort of each phase. The figure before per-phase models and cache placement (commit 4b907a9, all
 * phases on claude-opus-5-5, every call cached): $0.06276 with caching on, $0.11709 off.
 */
async function tokenCycle(caching: boolean, batchPhases = '', extraEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const work = tempDir('ktrdr-agent-bench-tokens-');
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const template = await baselineStrategy(join(work.path, 'template'));
  const fake = await startFakeAnthropic();
  const simulator = await createSimulator({ strategiesDir, seed: 21, timeScale: 100_000 });
  const database = await createTestDatabase('ktrdr_agent_bench');
  const firstMessageBytes: Record<string, number> = {};
  const params = template.trainingParams as { startDate: string; endDate: string };
  const dayAfter = (date: string, days: number) => new Date(Date.parse(date) + days * 86_400_000).toISOString().slice(0, 10);
  const step = (name: string, input: unknown): ScriptStep => ({ content: [thinking(`Call ${name}.`), toolUse(name, input)], stop_reason: 'tool_use' });
  const plans: Record<string, (n: number) => ScriptStep[]> = {
    design: (n) => {
      const name = `bench_claude_${n}`;
      return [
        step('get_agent_state', {}),
        step('get_available_indicators', {}),
        step('get_recent_strategies', {}),
        // A new design each time (the memory refuses one already run): the confidence threshold moves a little.
        step('save_strategy_config', {
          name,
          config: { ...template.config, name, decisions: { ...(template.config.decisions as object), confidence_threshold: 0.5 + n / 100 } },
          description: 'A benchmark design.',
        }),
        step('start_training', { strategy_name: name, start_date: params.startDate, end_date: params.endDate }),
        { content: [thinking('Done.'), text('Training started.')], stop_reason: 'end_turn' },
      ];
    },
    backtest: () => [
      step('get_agent_state', {}),
      step('start_backtest', { start_date: dayAfter(params.endDate, 1), end_date: dayAfter(params.endDate, 181) }),
      { content: [thinking('Done.'), text('Backtest started.')], stop_reason: 'end_turn' },
    ],
    assess: () => [
      step('get_agent_state', {}),
      step('save_assessment', {
        verdict: 'neutral',
        explanation: 'Results are middling on this window.',
        strengths: ['simple'],
        weaknesses: ['few trades'],
        suggestions: ['try another timeframe'],
      }),
      { content: [thinking('Done.'), text('Assessed.')], stop_reason: 'end_turn' },
    ],
  };
  let designs = 0;
  let queue: ScriptStep[] = [];
  const react = (request: RecordedRequest): ScriptStep => {
    const tools = (request.body?.tools as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
    const phase = tools.includes('save_strategy_config') ? 'design' : tools.includes('start_backtest') ? 'backtest' : 'assess';
    if ((request.body?.messages as unknown[] | undefined)?.length === 1) {
      firstMessageBytes[phase] ??= Buffer.byteLength(
        JSON.stringify({ system: request.body?.system, messages: request.body?.messages, tools: request.body?.tools }),
      );
      queue = plans[phase]!(designs++);
    }
    return queue.shift() ?? { content: [text('Nothing left.')], stop_reason: 'end_turn' };
  };
  for (let i = 0; i < 200; i++) fake.script([react]);
  const env = {
    HOME: work.path,
    DATABASE_URL: database.url,
    KTRDR_API_URL: simulator.url,
    KTRDR_STRATEGIES_DIR: strategiesDir,
    AGENT_DESIGNER: 'claude',
    ANTHROPIC_API_KEY: 'sk-ant-api03-bench-key',
    ANTHROPIC_BASE_URL: fake.url,
    AGENT_PROMPT_CACHING: String(caching),
    AGENT_BATCH_PHASES: batchPhases,
    ...extraEnv,
  };
  try {
    const client = new pg.Client({ connectionString: database.url });
    let finished: Record<string, unknown> | undefined;
    for (let tick = 0; tick < 60 && !finished; tick++) {
      const result = await runCli(['tick'], env);
      if (result.code !== 0) throw new Error(`tick failed: ${result.stderr}`);
      // A batch sent this tick ends before the next one (real batches mostly end within the hour).
      await fake.endBatches();
      if (tick === 0) await client.connect();
      finished = (
        await client.query(
          `SELECT id, outcome, tokens_input::int AS input, tokens_output::int AS output, tokens_cache_read::int AS cache_read,
                  tokens_cache_write::int AS cache_write, cost_usd::float AS cost FROM agent_sessions WHERE outcome = 'success' ORDER BY id LIMIT 1`,
        )
      ).rows[0];
      await new Promise((r) => setTimeout(r, 50));
    }
    const attempts = (await client.query(`SELECT outcome, count(*)::int AS n, min(failure_reason) AS reason FROM agent_sessions GROUP BY outcome`)).rows;
    await client.end();
    if (!finished) throw new Error(`no cycle succeeded: ${JSON.stringify(attempts)}`);
    const perPhase: Record<
      string,
      { model: string; calls: number; batchedCalls: number; input: number; cacheWrite: number; cacheRead: number; output: number }
    > = {};
    type Usage = { input_tokens: number; output_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number };
    const answered: { body: RecordedRequest['body']; usage: Usage; batched: boolean }[] = [
      ...fake.requests
        .filter((r) => r.response?.status === 200)
        .map((r) => ({ body: r.body, usage: (JSON.parse(r.response!.body) as { usage: Usage }).usage, batched: false })),
      ...[...fake.batches.values()].flatMap((batch) =>
        batch.results.flatMap((line, i) =>
          line.result.type === 'succeeded' ? [{ body: batch.requests[i]!.params, usage: (line.result.message as { usage: Usage }).usage, batched: true }] : [],
        ),
      ),
    ];
    for (const { body, usage, batched } of answered) {
      const tools = (body?.tools as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
      const phase = tools.includes('save_strategy_config') ? 'design' : tools.includes('start_backtest') ? 'backtest' : 'assess';
      const entry = (perPhase[phase] ??= { model: String(body?.model), calls: 0, batchedCalls: 0, input: 0, cacheWrite: 0, cacheRead: 0, output: 0 });
      if (batched) entry.batchedCalls += 1;
      entry.calls += 1;
      entry.input += usage.input_tokens;
      entry.cacheWrite += usage.cache_creation_input_tokens;
      entry.cacheRead += usage.cache_read_input_tokens;
      entry.output += usage.output_tokens;
    }
    return {
      caching,
      batchPhases,
      ...finished,
      requests: fake.requests.length,
      countRequests: fake.countRequests.length,
      perPhase,
      firstMessageBytes,
      sessionsByOutcome: attempts,
    };
  } finally {
    await fake.close();
    await simulator.close();
    await database.drop();
    work.remove();
  }
}

async function tokens(): Promise<void> {
  const on = await tokenCycle(true);
  const off = await tokenCycle(false);
  const batched = await tokenCycle(true, 'backtest,assess');
  const batchedAll = await tokenCycle(true, 'design,backtest,assess');
  // Today's prompts and memory with every phase on the design model: what the per-phase models save on the same context.
  const oneModel = await tokenCycle(true, '', { AGENT_MODEL_BACKTEST: 'claude-opus-5-5', AGENT_MODEL_ASSESS: 'claude-opus-5-5' });
  for (const [phase, usage] of Object.entries(on.perPhase as Record<string, Record<string, unknown>>)) console.log(`  ${phase}: ${JSON.stringify(usage)}`);
  for (const [phase, usage] of Object.entries(batched.perPhase as Record<string, Record<string, unknown>>))
    console.log(`  batched ${phase}: ${JSON.stringify(usage)}`);
  const ratio = round(Number(on.cost) / Number(off.cost), 3);
  results.tokens = {
    cachingOn: on,
    cachingOff: off,
    batched,
    batchedAll,
    oneModel,
    costRatioOnToOff: ratio,
    costRatioToOneModel: round(Number(on.cost) / Number(oneModel.cost), 3),
  };
  table(
    `tokens: one successful design/backtest/assess cycle against the fake Messages API (cost ratio on/off ${ratio})`,
    [
      'AGENT_PROMPT_CACHING',
      'AGENT_BATCH_PHASES',
      'models',
      'input',
      'output',
      'cache read',
      'cache write',
      'cache-read share',
      'cost USD',
      'first msg bytes design/backtest/assess',
    ],
    [on, off, batched, batchedAll, oneModel].map((r) => {
      const first = r.firstMessageBytes as Record<string, number>;
      const prompt = Number(r.input) + Number(r.cache_read) + Number(r.cache_write);
      const share = prompt > 0 ? `${round((100 * Number(r.cache_read)) / prompt, 1)}%` : '-';
      const models = Object.values(r.perPhase as Record<string, { model: string }>)
        .map((p) => p.model.replace('claude-', ''))
        .join('/');
      return [
        String(r.caching),
        String(r.batchPhases) || '-',
        models,
        r.input as number,
        r.output as number,
        r.cache_read as number,
        r.cache_write as number,
        share,
        round(Number(r.cost), 5),
        `${first.design}/${first.backtest}/${first.assess}`,
      ];
    }),
  );
}

/** `demo` as a user runs it first: a fresh data dir (the embedded database created), the simulator, ticks in-process. */
async function demo(): Promise<void> {
  const runs = quick ? 1 : 3;
  const samples: ChildCost[] = [];
  for (let run = 0; run < runs; run++) {
    const home = tempDir('ktrdr-agent-bench-demo-');
    try {
      samples.push(await measureChild([binRun, 'demo'], { HOME: home.path }));
    } finally {
      home.remove();
    }
  }
  const figure = {
    runs,
    medianMs: round(median(samples.map((cost) => cost.wallMs)), 0),
    cpuMs: samples.every((cost) => cost.cpuMs !== null) ? round(median(samples.map((cost) => cost.cpuMs!)), 0) : null,
    peakMiB: samples.every((cost) => cost.peakMiB !== null) ? round(Math.max(...samples.map((cost) => cost.peakMiB!)), 0) : null,
  };
  results.demo = figure;
  table(
    `demo (${runs} run(s) on a fresh data dir; peak RSS the max)`,
    ['command', 'median ms', 'cpu ms', 'MiB'],
    [['demo', figure.medianMs, figure.cpuMs ?? '-', figure.peakMiB ?? '-']],
  );
}

const helpers = { binRun, results, table, timeChild, interleaved };
const research = () => researchArms(helpers, quick ? { seeds: [1], cycles: 20 } : { seeds: [1, 2, 3], cycles: 60 });
const night = () => nightBench(helpers, { hours: quick ? 2 : 8, workerCounts: [1, 2, 4], seed: 5 });
const memory = () => researchMemory(helpers, { sizes: quick ? [10, 1_000, 10_000] : [10, 1_000, 100_000], runs: quick ? 5 : 11 });
const report = () => reportBench(helpers, { sizes: quick ? [100, 10_000] : [100, 10_000, 100_000], runs: quick ? 3 : 7 });

const integrity = () =>
  integrityBench(helpers, {
    // BENCH_INTEGRITY_SEEDS=20: more seeds, for a false-promotion rate the five default seeds cannot resolve.
    seeds: Array.from({ length: quick ? 2 : Number(process.env.BENCH_INTEGRITY_SEEDS ?? 5) }, (_, i) => i + 1),
    cycles: quick ? 30 : 60,
    designers: ['baseline', 'evolve'],
    edge: { kind: 'indicator' },
  });
const search = () => searchWorlds(helpers, quick ? { seeds: [1, 2], cycles: 30 } : { seeds: [1, 2, 3, 4, 5], cycles: 60 });

const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const nodeMemorySection = () => nodeMemory({ ...helpers, measureChild }, { rounds: quick ? 3 : 7 });
const prune = () => pruneBench(helpers, { rows: quick ? 10_000 : 100_000 });
const sections: Record<string, () => Promise<void>> = {
  startup,
  demo,
  scale,
  inFlight,
  tokens,
  research,
  memory,
  'node-memory': nodeMemorySection,
  prune,
  night,
  report,
  search,
  integrity,
};
const started = Date.now();
for (const [name, run] of Object.entries(sections)) {
  if (only && !only.includes(name)) continue;
  const sectionStarted = Date.now();
  await run();
  console.log(`(${name}: ${round((Date.now() - sectionStarted) / 1000, 1)} s)`);
}
build.remove();
results.totalSeconds = round((Date.now() - started) / 1000, 1);
const resultsDir = join(repoRoot, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten ${join(resultsDir, 'latest.json')} (${readdirSync(resultsDir).length} files in bench/results) in ${results.totalSeconds} s`);
