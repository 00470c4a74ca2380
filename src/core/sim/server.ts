/**
 * A KTRDR simulator: speaks KTRDR's REST contract (CONTRACT §1–§3, same paths and shapes, errors included) so the
 * agent can be tried without KTRDR or a GPU farm. It says what it is in every response (an `x-ktrdr-simulator`
 * header, and `simulator` fields in health, start messages and results) and never claims to be KTRDR.
 *
 * Its parts: `state.ts` (what it holds), `fate.ts` (how runs end), `routes/` (one module per resource, dispatched by
 * `router.ts`), `http.ts` (the server and per-request faults).
 */
import type { SimFaults } from './faults.ts';
import { listen } from './http.ts';
import { API_PREFIX, SIMULATOR_LABEL } from './reply.ts';
import { createSimContext } from './state.ts';
import type { SimDataLimits, SimulatorOptions, SimulatorState, SimWorkerPool } from './state.ts';
import type { ResolvedWorld } from './planted-world.ts';

export interface Simulator {
  /** Base URL including `/api/v1`. */
  url: string;
  port: number;
  /** Mutable: a change applies to the next request. */
  faults: SimFaults;
  /** Mutable, like `faults`. */
  dataLimits: SimDataLimits;
  /** Mutable, like `faults`: a change of either count applies to the next request (null: no pool, see SimulatorOptions). */
  workers: SimWorkerPool | null;
  state: SimulatorState;
  /** What the planted world planted (its class resolved from the seed), or `null` for the default quality model. */
  world: ResolvedWorld | null;
  /**
   * Holds every API request from now on (each is recorded, then waits) until the returned function releases them
   * all: a test keeps a pass inside a KTRDR call for exactly as long as it needs, where `latencyMs` takes real time.
   */
  hold(): () => void;
  close(): Promise<void>;
}

export async function createSimulator(options: SimulatorOptions): Promise<Simulator> {
  const ctx = createSimContext(options);
  const host = options.host ?? '127.0.0.1';
  const server = await listen(ctx, host, options.port ?? 0);
  return {
    url: `http://${host}:${server.port}${API_PREFIX}`,
    port: server.port,
    faults: ctx.faults,
    dataLimits: ctx.dataLimits,
    get workers() {
      return ctx.workers;
    },
    set workers(pool: SimWorkerPool | null) {
      ctx.workers = pool ? { ...pool } : null;
    },
    state: ctx.state,
    world: ctx.world,
    hold: () => {
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      ctx.held = held;
      return () => {
        if (ctx.held === held) ctx.held = null;
        release();
      };
    },
    close: server.close,
  };
}

export interface ServeSimulatorOptions extends SimulatorOptions {
  log: (line: string) => void;
}

/** Starts the simulator and says what it is and where: for `ktrdr-agent sim serve`. */
export async function serveSimulator(options: ServeSimulatorOptions): Promise<Simulator> {
  const simulator = await createSimulator(options);
  const faults = Object.entries(simulator.faults)
    .filter(([, value]) => value !== 0 && value !== false)
    .map(([key, value]) => `${key}=${String(value)}`);
  options.log(`${SIMULATOR_LABEL} listening at ${simulator.url}`);
  options.log(
    `strategies from ${options.strategiesDir}; seed ${options.seed ?? 1}; time x${options.timeScale ?? 60}; faults: ${faults.length > 0 ? faults.join(', ') : 'none'}`,
  );
  if (simulator.world) options.log(`planted world: ${simulator.world.label}`);
  options.log(`point the agent at it with KTRDR_API_URL=${simulator.url}; change faults with POST ${simulator.url.replace(API_PREFIX, '')}/__sim/faults`);
  return simulator;
}
