export { SIMULATOR_LABEL } from './reply.ts';
export { createSimulator, serveSimulator } from './server.ts';
export type { Simulator } from './server.ts';
export type { SimulatorOptions } from './state.ts';
