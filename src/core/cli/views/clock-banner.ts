import type { KtrdrClockReading } from '../../db/repositories/control.ts';
import { formatOffset } from '../../ktrdr/ownership.ts';
import { formatTimestamp } from '../format.ts';
import type { Banner } from './schemas.ts';

/**
 * Beyond this the two hosts' clocks disagree enough to matter: the agent corrects KTRDR's times by the measured
 * offset, but a skew this large says a clock is not synchronised, and local times written without a zone would not
 * be corrected by it.
 */
export const CLOCK_SKEW_WARN_MS = 60_000;

/** KTRDR's clock against ours, in words: `KTRDR's clock is 5 min 0 s behind ours`. */
export function describeKtrdrClock(offsetMs: number): string {
  return `KTRDR's clock is ${formatOffset(offsetMs)}`;
}

/** A banner when the last measured skew is large: a fault of the world, for the operator to fix on either host. */
export function clockSkewBanner(reading: KtrdrClockReading | null): Banner | null {
  if (reading === null || Math.abs(reading.offsetMs) <= CLOCK_SKEW_WARN_MS) return null;
  return {
    kind: 'ktrdr_clock_skew',
    since: reading.measuredAt.toISOString(),
    message: `${describeKtrdrClock(reading.offsetMs)} (measured from its Date header at ${formatTimestamp(reading.measuredAt)}); the agent corrects KTRDR's times by this offset.`,
    advice: "Synchronise both hosts' clocks (NTP, e.g. `timedatectl set-ntp true`); `ktrdr-agent doctor` measures it again.",
  };
}
