export { applyFaults, createSimulator, serveSimulator, SIMULATOR_LABEL } from './server.ts';
export type { ServeSimulatorOptions, SimFaults, Simulator, SimulatorOptions, SimulatorState } from './server.ts';
export type { SimOperation, SimStatus } from './operations.ts';
export { analyzeDesign, simulateBacktest, simulateTraining } from './quality.ts';
export type { BacktestOutcome, DesignAnalysis, TrainingOutcome } from './quality.ts';
export { SIM_SYMBOLS } from './market.ts';
