// Time buckets sized to the span of the data: a night of five-minute cycles reads by the hour, a few weeks by the
// day, a long study by the week or month, so a chart has enough columns to show a trend and few enough to read.
export const bucketUnits = ['hour', 'day', 'week', 'month'] as const;
export type BucketUnit = (typeof bucketUnits)[number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The unit for data spanning first..last: up to 48 hours by hour, 90 days by day, three years by week, then month. */
export function bucketUnitFor(first: Date, last: Date): BucketUnit {
  const span = last.getTime() - first.getTime();
  if (span <= 48 * HOUR) return 'hour';
  if (span <= 90 * DAY) return 'day';
  if (span <= 3 * 365 * DAY) return 'week';
  return 'month';
}

/** The start of the UTC bucket holding `date`, as PostgreSQL's date_trunc computes it (weeks start on Monday). */
export function bucketStart(date: Date, unit: BucketUnit): Date {
  const d = new Date(date.getTime());
  if (unit === 'hour') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()));
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (unit === 'day') return new Date(day);
  if (unit === 'week') return new Date(day - ((d.getUTCDay() + 6) % 7) * DAY);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export function nextBucket(start: Date, unit: BucketUnit): Date {
  if (unit === 'hour') return new Date(start.getTime() + HOUR);
  if (unit === 'day') return new Date(start.getTime() + DAY);
  if (unit === 'week') return new Date(start.getTime() + 7 * DAY);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

/** Every bucket from the one holding `first` to the one holding `last`, empty ones included (a quiet hour is data). */
export function bucketRange(first: Date, last: Date, unit: BucketUnit): Date[] {
  const out: Date[] = [];
  for (let at = bucketStart(first, unit); at.getTime() <= last.getTime(); at = nextBucket(at, unit)) out.push(at);
  return out;
}

/** The short label under a column: 14:00 for an hour (with the day when a span crosses midnight), 12-07 for a day. */
export function bucketLabel(start: Date, unit: BucketUnit, crossesDays: boolean): string {
  const iso = start.toISOString();
  if (unit === 'hour') return crossesDays ? `${iso.slice(8, 10)}d ${iso.slice(11, 13)}h` : `${iso.slice(11, 16)}`;
  if (unit === 'day' || unit === 'week') return iso.slice(5, 10);
  return iso.slice(0, 7);
}

/** The full name of a bucket, for hover titles and axis titles. */
export function bucketTitle(start: Date, unit: BucketUnit): string {
  const iso = start.toISOString();
  if (unit === 'hour') return `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00 UTC`;
  if (unit === 'day') return iso.slice(0, 10);
  if (unit === 'week') return `week of ${iso.slice(0, 10)}`;
  return iso.slice(0, 7);
}
