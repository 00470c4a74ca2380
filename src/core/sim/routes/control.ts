/** The simulator's own routes, outside KTRDR's API and its faults: `/__sim/faults` reads or changes the faults. */
import { applyFaults } from '../faults.ts';
import { json, SIMULATOR_LABEL } from '../reply.ts';
import type { Reply } from '../reply.ts';
import type { SimContext } from '../state.ts';

/** The reply to a control route, or `null` when `pathname` is not one. */
export function controlRoute(ctx: SimContext, method: string, pathname: string, body: unknown): Reply | null {
  if (pathname !== '/__sim/faults') return null;
  if (method === 'POST') applyFaults(ctx.faults, body);
  return json(200, { simulator: SIMULATOR_LABEL, faults: ctx.faults });
}
