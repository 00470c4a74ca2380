// `npm run bench -- --only=integrity`: the promotion stage measured where the truth is known (research INTEGRITY,
// "Testing a search: planted worlds"). In a simulated market with no edge, nothing should be promoted (at most one run
// in twenty); with an edge planted in one class of designs, the planted class should be promoted and nothing else.
// Each run: one designer, one seed, `cycles` research cycles on the simulator (in-process ticks on PostgreSQL), then
// more ticks until every candidate among those cycles is decided.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/core/config/load.ts';
import { runTick } from '../src/core/engine/runtime.ts';
import { createSimulator, inPlantedClass, type PlantedWorld, type ResolvedWorld } from '../src/core/sim/index.ts';
import { createTestDatabase, tempDir } from '../test/support/databases.ts';
import type { BenchHelpers } from './research.ts';

interface IntegrityRun {
  world: string;
  designer: 'baseline' | 'evolve';
  seed: number;
  cycles: number;
  /** Experiments that passed both gates, and those of them in the planted class. */
  passedBoth: number;
  passedInClass: number;
  candidates: number;
  promoted: number;
  promotedInClass: number;
  rejected: number;
  /** Candidates still pending when the run stopped (validation unfinished): none expected. */
  pending: number;
  lockboxConsultations: number;
  bestSearchSharpe: number | null;
  seconds: number;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

async function finishedCount(client: pg.Client): Promise<number> {
  return (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE outcome IS NOT NULL`)).rows[0].n as number;
}

async function runWorld(world: PlantedWorld, designer: 'baseline' | 'evolve', seed: number, cycles: number): Promise<IntegrityRun> {
  const started = Date.now();
  const work = tempDir(`ktrdr-agent-bench-integrity-${designer}-`);
  const strategiesDir = join(work.path, 'strategies');
  mkdirSync(strategiesDir);
  const database = await createTestDatabase('ktrdr_agent_bench_integrity');
  const simulator = await createSimulator({ strategiesDir, seed, timeScale: 1_000_000, world });
  const resolved = simulator.world as ResolvedWorld;
  const env = {
    HOME: work.path,
    DATABASE_URL: database.url,
    KTRDR_API_URL: simulator.url,
    KTRDR_STRATEGIES_DIR: strategiesDir,
    AGENT_DESIGNER: designer,
    AGENT_MAX_CONCURRENT_SESSIONS: '1',
  };
  const config = loadConfig({ env });
  const client = new pg.Client({ connectionString: database.url });
  try {
    let ticks = 0;
    for (; ticks < cycles * 10; ticks++) {
      await runTick({ config, log: () => undefined, lockWaitMs: 5000 });
      if (ticks === 0) await client.connect();
      if ((await finishedCount(client)) >= cycles) break;
    }
    // The cycles are done; research goes on beside the validation lane, as overnight, and the run ends when every
    // candidate among the first `cycles` experiments is decided (only those are counted).
    const firstCycles = `SELECT id FROM agent_experiments ORDER BY id LIMIT ${cycles}`;
    for (let extra = 0; extra < 200; extra++) {
      const open = (await client.query(`SELECT count(*)::int AS n FROM agent_promotions WHERE status = 'pending' AND experiment_id IN (${firstCycles})`))
        .rows[0].n as number;
      const unscreened = (
        await client.query(
          `SELECT count(*)::int AS n FROM agent_experiments e WHERE e.id IN (${firstCycles}) AND e.score IS NOT NULL AND NOT EXISTS (SELECT 1 FROM agent_promotions p WHERE p.experiment_id = e.id)`,
        )
      ).rows[0].n as number;
      if (open === 0 && unscreened === 0) break;
      await runTick({ config, log: () => undefined, lockWaitMs: 5000 });
    }
    const experiments = (await client.query(`SELECT e.id, e.strategy, e.score FROM agent_experiments e WHERE e.id IN (${firstCycles})`)).rows as {
      id: number;
      strategy: Record<string, unknown> | null;
      score: number | null;
    }[];
    const inClass = new Set(experiments.filter((e) => inPlantedClass(resolved, e.strategy)).map((e) => e.id));
    const promotions = (
      await client.query(`SELECT experiment_id, status FROM agent_promotions WHERE status <> 'not_candidate' AND experiment_id IN (${firstCycles})`)
    ).rows as {
      experiment_id: number;
      status: string;
    }[];
    const consultations = (await client.query(`SELECT count(*)::int AS n FROM agent_validation_backtests WHERE kind = 'lockbox' AND status = 'completed'`))
      .rows[0].n as number;
    const passed = experiments.filter((e) => e.score !== null);
    return {
      world: resolved.label,
      designer,
      seed,
      cycles: experiments.length,
      passedBoth: passed.length,
      passedInClass: passed.filter((e) => inClass.has(e.id)).length,
      candidates: promotions.length,
      promoted: promotions.filter((p) => p.status === 'promoted').length,
      promotedInClass: promotions.filter((p) => p.status === 'promoted' && inClass.has(p.experiment_id)).length,
      rejected: promotions.filter((p) => p.status === 'rejected').length,
      pending: promotions.filter((p) => p.status === 'pending').length,
      lockboxConsultations: consultations,
      bestSearchSharpe: passed.length === 0 ? null : round(Math.max(...passed.map((e) => Number(e.score))), 2),
      seconds: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await client.end().catch(() => undefined);
    await simulator.close();
    await database.drop();
    work.remove();
  }
}

export async function integrityBench(
  helpers: BenchHelpers,
  options: { seeds: number[]; cycles: number; designers: ('baseline' | 'evolve')[]; edge: PlantedWorld },
): Promise<void> {
  const runs: IntegrityRun[] = [];
  for (const world of [{ kind: 'no_edge' } as PlantedWorld, options.edge]) {
    for (const designer of options.designers) for (const seed of options.seeds) runs.push(await runWorld(world, designer, seed, options.cycles));
  }
  helpers.results.integrity = { seeds: options.seeds, cycles: options.cycles, runs };
  helpers.table(
    `integrity: promotions in planted worlds (${options.seeds.length} seeds x ${options.cycles} cycles per designer; defaults AGENT_PROMOTION_MIN_DSR 0.95, 2 robustness windows, lockbox PSR 0.90)`,
    [
      'world',
      'designer',
      'seed',
      'passed both',
      'in class',
      'candidates',
      'promoted',
      'promoted in class',
      'rejected',
      'pending',
      'lockbox looks',
      'best search Sharpe',
      's',
    ],
    runs.map((r) => [
      r.world,
      r.designer,
      r.seed,
      r.passedBoth,
      r.passedInClass,
      r.candidates,
      r.promoted,
      r.promotedInClass,
      r.rejected,
      r.pending,
      r.lockboxConsultations,
      r.bestSearchSharpe ?? '—',
      r.seconds,
    ]),
  );
  const nullRuns = runs.filter((r) => r.world === 'no edge');
  const edgeRuns = runs.filter((r) => r.world !== 'no edge');
  helpers.table(
    'integrity: summary',
    ['world', 'runs', 'runs with any promotion', 'promotions', 'of them in the planted class', 'runs promoting the planted class'],
    [
      ['no edge', nullRuns.length, nullRuns.filter((r) => r.promoted > 0).length, nullRuns.reduce((a, r) => a + r.promoted, 0), '—', '—'],
      [
        // The planted indicator is drawn per seed: the row names the kind, the table above names each one.
        edgeRuns.length > 0 ? `${edgeRuns[0]!.world.split(' ')[0]} (per seed)` : 'edge',
        edgeRuns.length,
        edgeRuns.filter((r) => r.promoted > 0).length,
        edgeRuns.reduce((a, r) => a + r.promoted, 0),
        edgeRuns.reduce((a, r) => a + r.promotedInClass, 0),
        edgeRuns.filter((r) => r.promotedInClass > 0).length,
      ],
    ],
  );
}
