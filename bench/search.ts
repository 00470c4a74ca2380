// `npm run bench -- --only=search`: the search measured where the truth is known. Each designer runs 60 cycles in a
// planted world of the simulator (an edge in one indicator, in a pair, in a label setting, or none), over five seeds;
// counted: how often its best experiment belongs to the planted class, how many cycles it took to first try the
// class, and the share of cycles it spent exploring. Ticks run in process (the real pass decides everything), so the
// bench needs no build and no child processes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/core/config/load.ts';
import { openStore } from '../src/core/db/connect.ts';
import { runTick } from '../src/core/engine/runtime.ts';
import { createSimulator, inPlantedClass } from '../src/core/sim/index.ts';
import type { PlantedWorld, ResolvedWorld } from '../src/core/sim/index.ts';
import { createTestDatabase, tempDir } from '../test/support/databases.ts';

export interface SearchBenchHelpers {
  results: Record<string, unknown>;
  table(title: string, header: string[], rows: (string | number)[][]): void;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** The worlds of the bench; the class in each is drawn from the run's seed, so five seeds plant five classes. */
export const SEARCH_WORLDS: Record<string, PlantedWorld> = {
  indicator: { kind: 'indicator' },
  pair: { kind: 'pair' },
  label: { kind: 'label' },
  'no edge': { kind: 'no_edge' },
};

interface SearchRun {
  world: string;
  planted: string;
  designer: string;
  seed: number;
  cycles: number;
  /** The best experiment (by score) is in the planted class. Never, in a world with no edge. */
  found: boolean;
  /** 1-based cycle of the first design in the planted class, or null when none was tried. */
  firstTry: number | null;
  /** Designs in the planted class, of `cycles`. */
  inClass: number;
  /** Share of cycles whose directive was to explore (without a recorded directive: designs without a parent). */
  exploring: number;
  bestScore: number | null;
  seconds: number;
}

/** Whether this checkout records the allocation policy's directive (the bench also measures the code before it). */
async function hasDirectiveColumn(client: pg.Client): Promise<boolean> {
  const row = (
    await client.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'agent_sessions' AND column_name = 'search_mode'`)
  ).rows[0];
  return row.n > 0;
}

async function runSearch(worldName: string, world: PlantedWorld, designer: 'baseline' | 'evolve', seed: number, cycles: number): Promise<SearchRun> {
  const started = Date.now();
  const work = tempDir(`ktrdr-agent-bench-search-${designer}-`);
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const database = await createTestDatabase('ktrdr_agent_bench_search');
  const simulator = await createSimulator({ strategiesDir, seed, timeScale: 1_000_000, world });
  const resolved = simulator.world as ResolvedWorld;
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
  // One store for every pass, as `demo` keeps one: opening a pool per pass doubled the wall time on a loaded machine.
  const store = await openStore({ kind: 'postgres', url: database.url }, { poolSize: 4 });
  try {
    for (let tick = 0; tick < cycles * 10; tick++) {
      await runTick({ config, log: () => undefined, lockWaitMs: 5000, store });
      if (tick === 0) await client.connect();
      const finished = (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE outcome IS NOT NULL`)).rows[0].n as number;
      if (finished >= cycles) break;
    }
    const directive = await hasDirectiveColumn(client);
    const sessions = (
      await client.query(
        `SELECT s.id, s.strategy_config, e.score, ${directive ? 's.search_mode' : `CASE WHEN s.parent_experiment_id IS NULL THEN 'explore' ELSE 'exploit' END`} AS mode
           FROM agent_sessions s LEFT JOIN agent_experiments e ON e.session_id = s.id
          WHERE s.outcome IS NOT NULL ORDER BY s.id LIMIT $1`,
        [cycles],
      )
    ).rows as { id: number; strategy_config: Record<string, unknown> | string | null; score: number | null; mode: string | null }[];
    let firstTry: number | null = null;
    let inClass = 0;
    let best: { score: number; inClass: boolean } | null = null;
    sessions.forEach((session, index) => {
      const strategy = typeof session.strategy_config === 'string' ? (JSON.parse(session.strategy_config) as Record<string, unknown>) : session.strategy_config;
      const member = strategy !== null && inPlantedClass(resolved, strategy);
      if (member) {
        inClass += 1;
        firstTry ??= index + 1;
      }
      if (session.score !== null && (best === null || session.score > best.score)) best = { score: session.score, inClass: member };
    });
    const exploring = sessions.filter((s) => s.mode === 'explore').length / Math.max(1, sessions.length);
    const top = best as { score: number; inClass: boolean } | null;
    return {
      world: worldName,
      planted: resolved.label,
      designer,
      seed,
      cycles: sessions.length,
      found: top?.inClass ?? false,
      firstTry,
      inClass,
      exploring,
      bestScore: top?.score ?? null,
      seconds: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await client.end().catch(() => undefined);
    await store.close();
    await simulator.close();
    await database.drop();
    work.remove();
  }
}

export async function searchWorlds(helpers: SearchBenchHelpers, options: { seeds: number[]; cycles: number; worlds?: string[] }): Promise<void> {
  const runs: SearchRun[] = [];
  const worlds = Object.entries(SEARCH_WORLDS).filter(([name]) => !options.worlds || options.worlds.includes(name));
  for (const [name, world] of worlds) {
    for (const seed of options.seeds) {
      // The two designers of a seed run side by side (each on its own database and simulator): most of a pass's
      // wall time is spent waiting on PostgreSQL, so two in flight take little more than one.
      const pair = await Promise.all((['evolve', 'baseline'] as const).map((designer) => runSearch(name, world, designer, seed, options.cycles)));
      for (const run of pair) {
        runs.push(run);
        console.log(
          `  search ${name} seed ${seed} ${run.designer}: ${run.planted}; found ${run.found}, first try ${run.firstTry ?? '-'}, in class ${run.inClass}, exploring ${round(100 * run.exploring, 0)}% (${run.seconds} s)`,
        );
      }
    }
  }
  helpers.results.search = { seeds: options.seeds, cycles: options.cycles, runs };
  const median = (values: number[]) => {
    if (values.length === 0) return null;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  helpers.table(
    `search: planted worlds (${options.seeds.length} seeds x ${options.cycles} cycles, one session at a time; class drawn from the seed)`,
    ['world', 'designer', 'best in class', 'median first try', 'never tried', 'mean designs in class', 'exploring', 'mean best score'],
    worlds.flatMap(([name]) =>
      (['evolve', 'baseline'] as const).map((designer) => {
        const mine = runs.filter((r) => r.world === name && r.designer === designer);
        const tried = mine.flatMap((r) => (r.firstTry === null ? [] : [r.firstTry]));
        const scores = mine.flatMap((r) => (r.bestScore === null ? [] : [r.bestScore]));
        const firstTry = median(tried);
        return [
          name,
          designer,
          name === 'no edge' ? '-' : `${mine.filter((r) => r.found).length}/${mine.length}`,
          name === 'no edge' || firstTry === null ? '-' : firstTry,
          name === 'no edge' ? '-' : mine.length - tried.length,
          name === 'no edge' ? '-' : round(mine.reduce((sum, r) => sum + r.inClass, 0) / Math.max(1, mine.length), 1),
          `${round((100 * mine.reduce((sum, r) => sum + r.exploring, 0)) / Math.max(1, mine.length), 0)}%`,
          scores.length === 0 ? '-' : round(scores.reduce((a, b) => a + b, 0) / scores.length, 2),
        ];
      }),
    ),
  );
}
