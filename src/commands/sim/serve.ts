import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../../core/kernel/errors.ts';
import { parseWorld, resolveWorld, serveSimulator } from '../../core/sim/index.ts';
import type { PlantedWorld } from '../../core/sim/index.ts';

export default class SimServe extends AgentCommand {
  static override summary = 'Serve the KTRDR simulator: a stand-in for trying the agent without KTRDR or a GPU farm.';
  static override description =
    `The simulator is NOT KTRDR. It speaks KTRDR's REST contract (trainings, backtests, operations, checkpoints, indicators, symbols, strategy validation) with deterministic outcomes for (seed, strategy content) on a compressed clock, and can inject faults. It reads strategies from KTRDR_STRATEGIES_DIR like KTRDR does.\n\n${exitCodesHelp}`;
  static override flags = {
    port: Flags.integer({ description: 'Port on 127.0.0.1 (0 picks a free one).', default: 8000, min: 0, max: 65535 }),
    seed: Flags.integer({ description: 'Seed of the outcomes.', default: 1 }),
    'time-scale': Flags.integer({ description: 'Simulated seconds per real second (60: a 30-minute training takes 30 s).', default: 60, min: 1 }),
    'failure-rate': Flags.string({ description: 'Share of operations that fail (0..1).', default: '0' }),
    'error-rate': Flags.string({ description: 'Share of requests answered with a 5xx (0..1).', default: '0' }),
    'latency-ms': Flags.integer({ description: 'Added latency per request.', default: 0, min: 0 }),
    'drop-rate': Flags.string({ description: 'Share of connections dropped (0..1).', default: '0' }),
    'lost-rate': Flags.string({ description: 'Share of operations that become unknown (404) (0..1).', default: '0' }),
    'stall-rate': Flags.string({ description: 'Share of operations whose progress stops (0..1).', default: '0' }),
    'no-workers': Flags.boolean({ description: 'Answer starts with 503 "no worker".', default: false }),
    world: Flags.string({
      description:
        'A planted world instead of the quality model, to measure a search against a known truth: no-edge, indicator[:<type>], pair[:<type>+<type>], label[:<source>[=<threshold>]], each optionally @<sharpe> (a class left out is drawn from the seed).',
    }),
    'clock-offset-seconds': Flags.integer({
      description: "How far the simulator's clock runs ahead of this host's (negative: behind), like a KTRDR host with a skewed clock.",
      default: 0,
      min: -86_400,
      max: 86_400,
    }),
  };
  static override examples = [
    '<%= config.bin %> sim serve --port 8000 --time-scale 600',
    '<%= config.bin %> sim serve --failure-rate 0.2 --error-rate 0.05',
    '<%= config.bin %> sim serve --world pair:rsi+adx@0.8',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(SimServe);
    const config = this.loadAgentConfig();
    const rate = (name: string, value: string): number => {
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) this.error(`--${name} must be between 0 and 1, got ${value}`, { exit: 1 });
      return parsed;
    };
    let world: PlantedWorld | undefined;
    try {
      world = flags.world === undefined ? undefined : parseWorld(flags.world);
      if (world) resolveWorld(world, flags.seed);
    } catch (error) {
      throw new AgentError(`--world: ${(error as Error).message}`, ExitCode.Error, 'bad_world');
    }
    const simulator = await serveSimulator({
      ...(world ? { world } : {}),
      port: flags.port,
      seed: flags.seed,
      timeScale: flags['time-scale'],
      strategiesDir: config.strategiesDir,
      faults: {
        failureRate: rate('failure-rate', flags['failure-rate']),
        errorRate: rate('error-rate', flags['error-rate']),
        latencyMs: flags['latency-ms'],
        dropRate: rate('drop-rate', flags['drop-rate']),
        lostRate: rate('lost-rate', flags['lost-rate']),
        stallRate: rate('stall-rate', flags['stall-rate']),
        noWorkers: flags['no-workers'],
        clockOffsetMs: flags['clock-offset-seconds'] * 1000,
      },
      log: (line) => this.log(line),
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        throw new AgentError(
          `Port ${flags.port} is already in use (another simulator, or KTRDR itself?). Stop that process, or pick a free port with --port.`,
          ExitCode.Error,
          'port_in_use',
        );
      }
      if (error.code === 'EACCES') {
        throw new AgentError(`Port ${flags.port} needs privileges this user does not have. Pick a port above 1023 with --port.`, ExitCode.Error, 'port_denied');
      }
      throw error;
    });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await simulator.close();
  }
}
