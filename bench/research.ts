// Research-memory figures for `npm run bench`: the evolve designer (memory, no LLM) against the random baseline on
// the simulator, and the memory section's size and build time as the experiments grow, with `experiments` timed
// against an idle tick and its queries EXPLAINed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/core/config/load.ts';
import { openStore } from '../src/core/db/connect.ts';
import type { Database } from '../src/core/db/database-schema.ts';
import { addHypothesis } from '../src/core/db/repositories/hypotheses.ts';
import { runTick } from '../src/core/engine/runtime.ts';
import { buildMemorySection } from '../src/core/agent/memory-section.ts';
import { loadExperimentsView } from '../src/core/cli/views/research-view.ts';
import { createSimulator } from '../src/core/sim/index.ts';
import { createTestDatabase, tempDir } from '../test/support/databases.ts';
import { seedExperiments } from '../test/support/seed-experiments.ts';

export interface BenchHelpers {
  binRun: string;
  results: Record<string, unknown>;
  table(title: string, header: string[], rows: (string | number)[][]): void;
  timeChild(args: string[], env: Record<string, string>): Promise<number>;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const COMMAND_ROUNDS = 15;

interface ArmRun {
  designer: string;
  seed: number;
  cycles: number;
  passedBoth: number;
  outcomes: Record<string, number>;
  /** Best score so far after each cycle (null until one passed both gates). */
  bestSoFar: (number | null)[];
  /** Mean score of the cycles that passed both gates (null when none did). */
  meanPassedScore: number | null;
  /** Where the best came from: the cycle it ended, and whether it was bred from a parent or drawn fresh. */
  best: { cycle: number; bred: boolean } | null;
  ticks: number;
  seconds: number;
}

/** One arm on one simulator seed: in-process ticks until `cycles` sessions have ended. */
async function runArm(designer: 'baseline' | 'evolve', seed: number, cycles: number): Promise<ArmRun> {
  const started = Date.now();
  const work = tempDir(`ktrdr-agent-bench-${designer}-`);
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const database = await createTestDatabase('ktrdr_agent_bench_arm');
  const simulator = await createSimulator({ strategiesDir, seed, timeScale: 1_000_000 });
  const config = loadConfig({
    env: {
      HOME: work.path,
      DATABASE_URL: database.url,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: designer,
      AGENT_MAX_CONCURRENT_SESSIONS: '1',
    },
  });
  const client = new pg.Client({ connectionString: database.url });
  let ticks = 0;
  try {
    for (; ticks < cycles * 10; ticks++) {
      await runTick({ config, log: () => undefined, lockWaitMs: 5000 });
      if (ticks === 0) await client.connect();
      const finished = (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE outcome IS NOT NULL`)).rows[0].n as number;
      if (finished >= cycles) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const rows = (await client.query(`SELECT outcome, score, parent_experiment_id FROM agent_experiments ORDER BY session_id LIMIT $1`, [cycles])).rows as {
      outcome: string;
      score: number | null;
      parent_experiment_id: number | null;
    }[];
    const outcomes: Record<string, number> = {};
    const bestSoFar: (number | null)[] = [];
    let best: number | null = null;
    let bestAt: { cycle: number; bred: boolean } | null = null;
    rows.forEach((row, index) => {
      outcomes[row.outcome] = (outcomes[row.outcome] ?? 0) + 1;
      if (row.score !== null && (best === null || row.score > best)) {
        best = row.score;
        bestAt = { cycle: index + 1, bred: row.parent_experiment_id !== null };
      }
      bestSoFar.push(best);
    });
    const passed = rows.filter((r) => r.score !== null).map((r) => r.score!);
    return {
      designer,
      seed,
      cycles: rows.length,
      passedBoth: passed.length,
      outcomes,
      bestSoFar,
      meanPassedScore: passed.length === 0 ? null : passed.reduce((a, b) => a + b, 0) / passed.length,
      best: bestAt,
      ticks: ticks + 1,
      seconds: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await client.end().catch(() => undefined);
    await simulator.close();
    await database.drop();
    work.remove();
  }
}

export async function researchArms(helpers: BenchHelpers, options: { seeds: number[]; cycles: number }): Promise<void> {
  const runs: ArmRun[] = [];
  for (const seed of options.seeds) for (const designer of ['baseline', 'evolve'] as const) runs.push(await runArm(designer, seed, options.cycles));
  const checkpoints = [10, 20, 30, 40, 50, 60].filter((c) => c <= options.cycles);
  const at = (run: ArmRun, cycle: number) => run.bestSoFar[Math.min(cycle, run.bestSoFar.length) - 1] ?? null;
  helpers.results.research = { seeds: options.seeds, cycles: options.cycles, runs };
  helpers.table(
    `research: evolve vs baseline on the simulator (${options.seeds.length} seeds x ${options.cycles} cycles, one session at a time)`,
    ['designer', 'seed', 'cycles', 'passed both gates', 'rate', ...checkpoints.map((c) => `best@${c}`), 'mean passed score', 'best found', 'outcomes'],
    runs.map((r) => [
      r.designer,
      r.seed,
      r.cycles,
      r.passedBoth,
      `${round((100 * r.passedBoth) / Math.max(1, r.cycles), 1)}%`,
      ...checkpoints.map((c) => (at(r, c) === null ? '—' : round(at(r, c)!, 2))),
      r.meanPassedScore === null ? '—' : round(r.meanPassedScore, 2),
      r.best === null ? '—' : `cycle ${r.best.cycle}, ${r.best.bred ? 'bred' : 'fresh'}`,
      Object.entries(r.outcomes)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]),
  );
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  helpers.table(
    'research: means over seeds',
    ['designer', 'pass rate', ...checkpoints.map((c) => `mean best@${c}`)],
    (['baseline', 'evolve'] as const).map((designer) => {
      const mine = runs.filter((r) => r.designer === designer);
      return [
        designer,
        `${round(mean(mine.map((r) => (100 * r.passedBoth) / Math.max(1, r.cycles))), 1)}%`,
        ...checkpoints.map((c) => round(mean(mine.map((r) => at(r, c) ?? Number.NaN).filter(Number.isFinite)), 2)),
      ];
    }),
  );
}

/** The SQL one load runs, captured from Kysely, EXPLAINed with its parameters. */
async function explain(url: string, load: (db: Kysely<Database>) => Promise<unknown>): Promise<string[]> {
  const captured: CompiledQuery[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client cut off when the bench drops its database (DROP ... WITH FORCE) must not crash the bench.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (e) => void (e.level === 'query' && captured.push(e.query)) });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await load(db);
    const lines: string[] = [];
    for (const query of captured) {
      lines.push(`-- ${query.sql.replace(/\s+/g, ' ').slice(0, 140)}`);
      const rows = (await client.query(`EXPLAIN ${query.sql}`, [...query.parameters])).rows as { 'QUERY PLAN': string }[];
      lines.push(...rows.map((r) => `   ${r['QUERY PLAN']}`));
    }
    return lines;
  } finally {
    await client.end();
    await db.destroy();
  }
}

export async function researchMemory(helpers: BenchHelpers, options: { sizes: number[]; runs: number }): Promise<void> {
  const rows: (string | number)[][] = [];
  const figures: Record<string, unknown> = {};
  for (const size of options.sizes) {
    const database = await createTestDatabase('ktrdr_agent_bench_memory');
    const work = tempDir('ktrdr-agent-bench-memory-');
    try {
      const store = await openStore({ kind: 'postgres', url: database.url });
      for (let i = 0; i < 12; i++)
        await addHypothesis(store.db, {
          text: `Bench hypothesis ${i}: indicator pair ${i} generalises across symbols`,
          rationale: null,
          source: 'operator',
          proposedByExperimentId: null,
          via: 'operator',
          now: new Date(),
        });
      await seedExperiments(store.db, size);
      await sql`ANALYZE`.execute(store.db);
      const budget = 1500;
      const times: number[] = [];
      let memory = await buildMemorySection(store.db, { tokenBudget: budget, recentCount: 5 });
      for (let i = 0; i < options.runs; i++) {
        const t = process.hrtime.bigint();
        memory = await buildMemorySection(store.db, { tokenBudget: budget, recentCount: 5 });
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      await store.close();
      times.sort((a, b) => a - b);
      const medianMs = times[Math.floor(times.length / 2)]!;
      const entry: Record<string, unknown> = {
        experiments: size,
        budgetTokens: budget,
        estimatedTokens: memory.estimatedTokens,
        chars: memory.text.length,
        buildMedianMs: round(medianMs, 1),
      };
      if (size === Math.max(...options.sizes)) {
        const env = { HOME: work.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
        // An idle tick: paused, so it reads the control row and leaves.
        await helpers.timeChild([helpers.binRun, 'pause'], env);
        // Interleaved rounds, and each command's ratio taken within its round (against that round's idle tick), so a
        // load that drifts across the run moves both sides of a ratio; the spread of those ratios is the noise.
        const cases: Record<string, string[]> = {
          'tick (paused)': ['tick'],
          // A read command of the same kind, for reference under the same load.
          'history --json': ['history', '--json'],
          'experiments --json': ['experiments', '--json'],
          'experiments --sort score --indicator rsi --json': ['experiments', '--sort', 'score', '--indicator', 'rsi', '--json'],
        };
        const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((n) => [n, []]));
        for (let r = 0; r < COMMAND_ROUNDS; r++)
          for (const [n, args] of Object.entries(cases)) samples[n]!.push(await helpers.timeChild([helpers.binRun, ...args], env));
        const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
        const ratios = Object.fromEntries(Object.entries(samples).map(([n, ms]) => [n, ms.map((v, r) => v / samples['tick (paused)']![r]!)]));
        entry.commands = Object.fromEntries(
          Object.entries(samples).map(([n, ms]) => [
            n,
            {
              medianMs: round(median(ms), 1),
              ratioToIdleTick: round(median(ratios[n]!)),
              ratioRange: [round(Math.min(...ratios[n]!)), round(Math.max(...ratios[n]!))],
            },
          ]),
        );
        entry.explain = {
          experiments: await explain(database.url, (db) =>
            loadExperimentsView(db, { now: new Date(), outcomes: null, indicators: null, symbol: null, sort: 'completed_at', limit: 20 }),
          ),
          experimentsByScoreWithIndicator: await explain(database.url, (db) =>
            loadExperimentsView(db, { now: new Date(), outcomes: null, indicators: ['rsi'], symbol: null, sort: 'score', limit: 20 }),
          ),
          memorySection: await explain(database.url, (db) => buildMemorySection(db, { tokenBudget: 1500, recentCount: 5 })),
        };
        helpers.table(
          `research: experiments at ${size} experiments (${COMMAND_ROUNDS} interleaved rounds; ratio to the same round's idle tick)`,
          ['command', 'median ms', 'median ratio to idle tick', 'ratio range'],
          Object.entries(samples).map(([n, ms]) => [
            n,
            round(median(ms), 1),
            round(median(ratios[n]!)),
            `${round(Math.min(...ratios[n]!))}–${round(Math.max(...ratios[n]!))}`,
          ]),
        );
        for (const [name, lines] of Object.entries(entry.explain as Record<string, string[]>)) {
          console.log(`\nEXPLAIN ${name}:`);
          for (const line of lines) console.log(`  ${line}`);
        }
      }
      figures[String(size)] = entry;
      rows.push([size, budget, memory.estimatedTokens, memory.text.length, round(medianMs, 1)]);
    } finally {
      await database.drop();
      work.remove();
    }
  }
  helpers.results.memory = figures;
  helpers.table(
    `research: memory section size and build time (median of ${options.runs})`,
    ['experiments', 'budget tokens', 'estimated tokens', 'chars', 'build ms'],
    rows,
  );
}
