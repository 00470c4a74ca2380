/** How each run of an operation ends, drawn when the run starts so that its whole course is known from the clock. */
import type { RunFate, SimOperation } from './operations.ts';
import { SeededRandom, seedOf } from '../kernel/random.ts';
import { SIMULATOR_LABEL } from './reply.ts';
import type { SimContext } from './state.ts';

/** A design problem fails the run at once; otherwise faults are drawn from the run's own seeded stream. */
function drawFate(ctx: SimContext, operation: SimOperation, fromStep: number, designFailure: string | null): RunFate {
  if (designFailure) return { kind: 'fail', atStep: fromStep, message: designFailure, checkpoint: false };
  const random = new SeededRandom(seedOf(ctx.seed, 'faults', ctx.fateSequence++));
  const draws = [random.next(), random.next(), random.next(), random.next()];
  const faults = ctx.faults;
  const span = Math.max(1, operation.workSteps - fromStep);
  const stepWithin = (u: number, from: number) => Math.min(operation.workSteps - 1, from + Math.floor(u * span));
  if (draws[0]! < faults.failureRate && operation.workSteps - fromStep >= 2) {
    const atStep = Math.max(fromStep + 1, stepWithin(draws[3]!, fromStep));
    const where = operation.type === 'training' ? `epoch ${atStep}` : `${atStep}% of the bars`;
    if (faults.orphaned) return { kind: 'fail', atStep, message: `Operation was RUNNING but no worker claimed it (${SIMULATOR_LABEL})`, checkpoint: false };
    return {
      kind: 'fail',
      atStep,
      message: `Simulated worker failure at ${where}: the ${operation.type} worker stopped responding (${SIMULATOR_LABEL})`,
      checkpoint: true,
    };
  }
  if (draws[1]! < faults.stallRate) return { kind: 'stall', atStep: stepWithin(draws[3]!, fromStep) };
  if (draws[2]! < faults.lostRate) return { kind: 'lost', atStep: stepWithin(draws[3]!, fromStep) };
  return { kind: 'complete' };
}

export function startRun(ctx: SimContext, operation: SimOperation, at: number, fromStep: number, resumed: boolean): void {
  operation.runs.push({
    startedAt: at,
    fromStep,
    fate: drawFate(ctx, operation, fromStep, ctx.designFailures.get(operation.id) ?? null),
    resumed,
    cancelled: null,
  });
}
