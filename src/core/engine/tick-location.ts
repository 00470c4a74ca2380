/** Where a tick was when it failed: its stage, the innermost step (span) and the session it concerned. */
export interface TickLocation {
  stage: 'open' | 'pass' | 'finish';
  step?: string;
  sessionId?: number;
}

const locations = new WeakMap<object, TickLocation>();

export function locationOf(error: unknown): TickLocation | undefined {
  return typeof error === 'object' && error !== null ? locations.get(error) : undefined;
}

/** Notes where an error escaped from. The innermost step wins; an outer one only adds the session the inner one did not know. */
export function locate(error: unknown, location: TickLocation): void {
  if (typeof error !== 'object' || error === null) return;
  const known = locations.get(error);
  if (!known) locations.set(error, location);
  else if (known.sessionId === undefined && location.sessionId !== undefined) known.sessionId = location.sessionId;
}
