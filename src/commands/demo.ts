import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/cli/errors.ts';
import { loadConfig } from '../core/config/load.ts';
import { runTick } from '../core/engine/runtime.ts';
import { createSimulator } from '../core/sim/index.ts';

export default class Demo extends AgentCommand {
  static override summary = 'Run the whole loop on the embedded defaults: PGlite, the KTRDR simulator, a compressed clock.';
  static override description = `Starts the KTRDR simulator (a stand-in, not KTRDR) and runs ticks on a data dir of its own until a few research cycles have finished, then shows status and history. Uses the zero-cost baseline designer, or Claude with --designer claude when ANTHROPIC_API_KEY is set.\n\n${exitCodesHelp}`;
  static override flags = {
    cycles: Flags.integer({ description: 'Finished cycles to wait for.', default: 3, min: 1, max: 50 }),
    designer: Flags.string({ description: 'baseline (no LLM, free) or claude (needs ANTHROPIC_API_KEY).', options: ['baseline', 'claude'], default: 'baseline' }),
    'max-ticks': Flags.integer({ description: 'Give up after this many ticks.', default: 60, min: 1 }),
    'time-scale': Flags.integer({ description: 'Simulated seconds per real second.', default: 20000, min: 1 }),
    seed: Flags.integer({ description: 'Simulator seed.', default: 7 }),
    keep: Flags.boolean({ description: 'Keep the previous demo data instead of starting fresh.' }),
  };
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --cycles 5', 'ANTHROPIC_API_KEY=... <%= config.bin %> demo --designer claude'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Demo);
    const base = this.loadAgentConfig(flags['env-file']);
    if (flags.designer === 'claude' && !base.settings.ANTHROPIC_API_KEY) {
      throw new AgentError('--designer claude needs ANTHROPIC_API_KEY; run without it for the baseline designer.', ExitCode.NotConfigured, 'not_configured');
    }
    const demoDir = join(base.dataDir, 'demo');
    if (!flags.keep) rmSync(demoDir, { recursive: true, force: true });
    const strategiesDir = join(demoDir, 'strategies');
    mkdirSync(strategiesDir, { recursive: true });
    const simulator = await createSimulator({ strategiesDir, seed: flags.seed, timeScale: flags['time-scale'] });
    // The demo is a sandbox: no env file, no external database, nothing pushed or traced to production endpoints.
    const env: Record<string, string> = {
      KTRDR_AGENT_DATA_DIR: demoDir,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: flags.designer,
      AGENT_RETRY_BACKOFF_BASE: '0.05',
      DATABASE_URL: '',
      PUSHGATEWAY_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    };
    for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'AGENT_MODEL', 'AGENT_MODEL_PRICES'] as const) {
      const value = base.settings[name];
      if (value !== undefined) env[name] = String(value);
    }
    Object.assign(process.env, env);
    const config = loadConfig({ env: process.env, ignoreEnvFiles: true });
    this.log(`Demo: ${flags.designer} designer, KTRDR simulator at ${simulator.url} (not KTRDR), PGlite in ${demoDir}`);
    let finished = 0;
    try {
      for (let tick = 1; tick <= flags['max-ticks'] && finished < flags.cycles; tick++) {
        const outcome = await runTick({ config, log: () => {}, lockWaitMs: 30_000 });
        if (outcome.kind === 'locked') continue;
        const notes = outcome.summary.decisions.map((d) => {
          if (d.outcome) return `#${d.sessionId} ${d.outcome}${d.detail ? ` (${d.detail.slice(0, 70)})` : ''}`;
          if (d.invoked) return `#${d.sessionId ?? outcome.summary.sessionsCreated.at(-1)} ${d.trigger}`;
          return `#${d.sessionId} ${d.skipReason ?? d.action}`;
        });
        const newlyFinished = outcome.summary.decisions.filter((d) => d.outcome).length;
        finished += newlyFinished;
        this.log(`tick ${String(tick).padStart(2)}: ${notes.join('; ') || 'nothing to do'}`);
        // Let the simulator's compressed clock move the operations along between ticks.
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await simulator.close();
    }
    this.log(`\n${finished} cycle(s) finished.\n`);
    // status and history read the same sandbox: its settings are in process.env, which wins over any env file.
    await this.config.runCommand('status', []);
    this.log('');
    await this.config.runCommand('history', ['--limit', String(Math.max(flags.cycles, 5))]);
  }
}
