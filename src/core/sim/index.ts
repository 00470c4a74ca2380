export { SIMULATOR_LABEL } from './reply.ts';
export { createSimulator, serveSimulator } from './server.ts';
export type { Simulator } from './server.ts';
export type { SimulatorOptions } from './state.ts';
export { inPlantedClass, parseWorld, plantableIndicators, resolveWorld, trueSharpeOf } from './planted-world.ts';
export type { PlantedWorld, ResolvedWorld } from './planted-world.ts';
