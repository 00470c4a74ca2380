import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, demoEnvironment, exitCodesHelp } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { loadConfig } from '../core/config/load.ts';
import { runTick } from '../core/engine/runtime.ts';
import { lendStore } from '../core/cli/with-store.ts';
import { cancelOrphanedOperations, demoTick, releaseDemoLeases } from '../core/cli/services/demo.ts';
import { openStore, storeTarget } from '../core/db/connect.ts';
import { createSimulator } from '../core/sim/index.ts';
import { cliName, shellWord } from '../core/cli/cli-name.ts';

/** What to run next: every `$` line works as printed (the newcomer test runs each one); the rest is prose. */
function nextSteps(demoDir: string, sessionId: number | null): string {
  const cli = cliName();
  const run = (command: string) => `  $ ${cli} ${command}`;
  return [
    '',
    'Next steps',
    `  See what the demo did (--demo reads its data, kept in ${demoDir} until the next demo):`,
    run('status --demo'),
    run('history --demo'),
    run('experiments --demo'),
    ...(sessionId !== null ? [run(`session ${sessionId} --demo`)] : []),
    run(`report --demo --out ${shellWord(join(demoDir, 'report.html'))}`),
    '  The report is one HTML file with no script: open it in any browser, offline.',
    '  To go live against a real KTRDR, follow "Going live" in the README: copy deploy/agent.env.example to',
    `  ~/.config/ktrdr-agent/agent.env and fill it in, then \`${cli} doctor\`, then \`${cli} schedule --cron --install\`.`,
  ].join('\n');
}

export default class Demo extends AgentCommand {
  static override summary = 'Run the whole loop on the embedded defaults: PGlite, the KTRDR simulator, a compressed clock.';
  static override description =
    `Starts the KTRDR simulator (a stand-in, not KTRDR) and runs ticks on a data dir of its own until it has shown a successful cycle with its assessment and a cycle stopped by a quality gate (and at least --cycles finished), or --max-ticks ran out (it says so). Then it shows status and history, and what to do next. Uses the zero-cost baseline designer, or Claude with --designer claude when ANTHROPIC_API_KEY is set.\n\n${exitCodesHelp}`;
  static override flags = {
    cycles: Flags.integer({ description: 'Finished cycles to wait for (beyond one success and one gate failure).', default: 3, min: 1, max: 50 }),
    designer: Flags.string({
      description: 'baseline (no LLM, free) or claude (needs ANTHROPIC_API_KEY).',
      options: ['baseline', 'claude'],
      default: 'baseline',
    }),
    'max-ticks': Flags.integer({ description: 'Give up after this many ticks.', default: 60, min: 1 }),
    'time-scale': Flags.integer({ description: 'Simulated seconds per real second.', default: 20000, min: 1 }),
    seed: Flags.integer({ description: 'Simulator seed.', default: 7 }),
    keep: Flags.boolean({
      description: 'Keep the previous demo data instead of starting fresh (cycles the old simulator was running are cancelled, not failed).',
    }),
  };
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --cycles 5', 'ANTHROPIC_API_KEY=... <%= config.bin %> demo --designer claude'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Demo);
    if (flags.demo)
      throw new AgentError(
        '`demo` always runs on its own data; --demo is for the commands that read it afterwards (`status --demo`, `history --demo`, `report --demo`).',
        ExitCode.Error,
        'usage',
      );
    const base = this.loadAgentConfig();
    if (flags.designer === 'claude' && !base.settings.ANTHROPIC_API_KEY) {
      throw new AgentError('--designer claude needs ANTHROPIC_API_KEY; run without it for the baseline designer.', ExitCode.NotConfigured, 'not_configured');
    }
    const demoDir = demoEnvironment(base.dataDir).KTRDR_AGENT_DATA_DIR!;
    if (!flags.keep) rmSync(demoDir, { recursive: true, force: true });
    const strategiesDir = join(demoDir, 'strategies');
    mkdirSync(strategiesDir, { recursive: true });
    this.log('Starting the KTRDR simulator (a stand-in, not KTRDR)...');
    const simulator = await createSimulator({ strategiesDir, seed: flags.seed, timeScale: flags['time-scale'] });
    // The demo is a sandbox: no env file, no external database, nothing pushed or traced to production endpoints.
    const env: Record<string, string> = {
      KTRDR_AGENT_DATA_DIR: demoDir,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: flags.designer,
      AGENT_RETRY_BACKOFF_BASE: '0.05',
      // Following is in real seconds, and a real second is hours on the demo's compressed clock: one second still sees
      // a backtest to its end in the tick that started it, where the default would run dozens of cycles in one tick.
      AGENT_PASS_FOLLOW_SECONDS: '1',
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
    this.log('Opening the embedded database (the first run takes a few seconds)...');
    // One embedded database for the whole demo (its ticks, then status and history): each open starts a PGlite WASM
    // heap of its own, freed only when V8 collects it.
    let shownSession: number | null = null;
    const store = await openStore(storeTarget(config), { lockWaitMs: 30_000 });
    try {
      if (flags.keep) {
        const cancelled = await cancelOrphanedOperations(store.db, new Date());
        if (cancelled.length > 0) {
          this.log(
            `Kept data: cycle(s) ${cancelled.map((id) => `#${id}`).join(', ')} had operations on the previous simulator, which are gone with it: cancelled (not failed).`,
          );
        }
      }
      let finished = 0;
      let succeeded = 0;
      let gateFailures = 0;
      let ticks = 0;
      const done = () => finished >= flags.cycles && succeeded > 0 && gateFailures > 0;
      // Ctrl-C lets the tick under way finish (it holds a session's invocation lease), then stops: see below.
      let interrupted = false;
      const onInterrupt = () => {
        if (interrupted) process.exit(130);
        interrupted = true;
        this.log('\nStopping after this tick (Ctrl-C again to stop at once)...');
      };
      process.on('SIGINT', onInterrupt);
      try {
        for (let tick = 1; tick <= flags['max-ticks'] && !done() && !interrupted; tick++) {
          ticks = tick;
          const outcome = await runTick({ config, log: () => {}, lockWaitMs: 30_000, store });
          if (outcome.kind === 'locked') continue;
          const thisTick = demoTick(outcome.summary);
          finished += thisTick.finished;
          succeeded += thisTick.succeeded;
          gateFailures += thisTick.gateFailures;
          shownSession = thisTick.successSession ?? shownSession ?? thisTick.endedSession;
          this.log(`tick ${String(tick).padStart(2)}: ${thisTick.notes.join('; ') || 'nothing to do'}`);
          // Let the simulator's compressed clock move the operations along between ticks.
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      } finally {
        process.off('SIGINT', onInterrupt);
        await simulator.close();
      }
      if (interrupted) {
        const released = await releaseDemoLeases(store.db, new Date());
        this.log(
          `Interrupted after ${ticks} tick(s): ${released.length > 0 ? `released the invocation lease of cycle(s) ${released.map((id) => `#${id}`).join(', ')}` : 'no invocation lease was held'}. The data stays in ${demoDir}: \`${cliName()} status --demo\` shows it, \`${cliName()} demo --keep\` goes on.`,
        );
        // 130, as a shell reports an interrupted command; thrown so the store closes first (the finally below).
        this.exit(130);
      }
      this.log(`\n${finished} cycle(s) finished: ${succeeded} successful, ${gateFailures} stopped by a quality gate.`);
      if (!done()) {
        const missing = [
          succeeded === 0 ? 'a successful cycle' : null,
          gateFailures === 0 ? 'a gate failure' : null,
          finished < flags.cycles ? `${flags.cycles} finished cycles` : null,
        ].filter(Boolean);
        this.log(
          `Stopped short after ${ticks} tick(s) (--max-ticks ${flags['max-ticks']}): not yet ${missing.join(', ')}. Run \`${cliName()} demo --keep --max-ticks ${flags['max-ticks'] * 2}\` to go on.`,
        );
      }
      this.log('');
      // status and history read the same sandbox (its settings are in process.env, which wins over any env file).
      await lendStore(store, async () => {
        await this.config.runCommand('status', []);
        this.log('');
        await this.config.runCommand('history', ['--limit', String(Math.max(flags.cycles, 5))]);
      });
    } finally {
      await store.close();
    }
    this.log(nextSteps(demoDir, shownSession));
  }
}
