// `npm run bench -- --only=node-memory`: the PGlite peak of the CLI however it is started. Through the shebang
// (`node --liftoff-only --`) V8 never compiles PGlite's WASM with its optimizing compiler; `node bin/run.js` has no
// such flags, so bin/run.js sets them itself (v8.setFlagsFromString) before PGlite loads. Issue 23 asks the second
// to peak within 10% of the first.
import type { BenchHelpers } from './research.ts';
import { tempDir } from '../test/support/databases.ts';

interface Cost {
  wallMs: number;
  peakMiB: number | null;
}

export interface NodeMemoryHelpers extends BenchHelpers {
  measureChild(args: string[], env: Record<string, string>): Promise<Cost>;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function nodeMemory(helpers: NodeMemoryHelpers, options: { rounds: number }): Promise<void> {
  const home = tempDir('ktrdr-agent-bench-node-memory-');
  try {
    // A created, paused embedded database: every tick below is the same idle pass (KTRDR is never asked).
    const env = { HOME: home.path, KTRDR_AGENT_DATA_DIR: `${home.path}/data`, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' };
    await helpers.measureChild([helpers.binRun, 'pause'], env);
    // Relative to the repository (the bench's working directory): `node bin/run.js`, as a user types it.
    const cases: Record<string, string[]> = {
      'tick through the shebang': [helpers.binRun, 'tick'],
      'node bin/run.js tick': ['bin/run.js', 'tick'],
      'status through the shebang': [helpers.binRun, 'status', '--json'],
      'node bin/run.js status': ['bin/run.js', 'status', '--json'],
    };
    const samples: Record<string, Cost[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    for (let r = 0; r < options.rounds; r++) {
      for (const [name, args] of Object.entries(cases)) samples[name]!.push(await helpers.measureChild(args, env));
    }
    const figure = (name: string) => {
      const peaks = samples[name]!.map((cost) => cost.peakMiB).filter((peak): peak is number => peak !== null);
      return { peakMiB: peaks.length > 0 ? round(Math.max(...peaks), 0) : null, medianMs: round(median(samples[name]!.map((cost) => cost.wallMs)), 0) };
    };
    const figures = Object.fromEntries(Object.keys(cases).map((name) => [name, figure(name)]));
    const ratio = (bare: string, shebang: string) => {
      const [a, b] = [figures[bare]!.peakMiB, figures[shebang]!.peakMiB];
      return a !== null && b !== null ? round(a / b, 3) : null;
    };
    const ratios = { tick: ratio('node bin/run.js tick', 'tick through the shebang'), status: ratio('node bin/run.js status', 'status through the shebang') };
    helpers.results.nodeMemory = { rounds: options.rounds, figures, peakRatios: ratios };
    helpers.table(
      `PGlite peak by how the CLI is started (${options.rounds} interleaved rounds; peak RSS the max, wall the median)`,
      ['command', 'peak MiB', 'median ms', 'peak / shebang'],
      Object.entries(figures).map(([name, f]) => [
        name,
        f.peakMiB ?? '-',
        f.medianMs,
        name.startsWith('node ') ? (ratios[name.includes('tick') ? 'tick' : 'status'] ?? '-') : '1',
      ]),
    );
  } finally {
    home.remove();
  }
}
