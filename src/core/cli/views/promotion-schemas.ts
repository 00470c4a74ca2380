// The --json contract of the promotion stage and the lockbox (issue #20): `promotion` on each experiment (the names
// in the issue are the contract; fields may be added), the `status` counts, and `lockbox`.
import { z } from 'zod';

const isoTime = z.iso.datetime();
const day = z.iso.date();
const count = z.int().nonnegative();

export const promotionSchema = z.object({
  status: z.enum(['pending', 'promoted', 'rejected']),
  /** Why it was promoted or rejected; for a pending one, what it waits for. */
  reason: z.string().nullable(),
  /** The deflated Sharpe over every trial of the family when the experiment became a candidate, and those trials. */
  dsrAtDecision: z.number().nullable(),
  trialsAtDecision: z.int().nullable(),
  /** The backtest Sharpe the search found (the experiment's own), to set beside the robustness and lockbox ones. */
  searchSharpe: z.number().nullable(),
  robustness: z.array(z.object({ startDate: day, endDate: day, sharpe: z.number().nullable() })),
  /** Null until the lockbox backtest has run. */
  lockbox: z
    .object({
      startDate: day,
      endDate: day,
      sharpe: z.number().nullable(),
      psr: z.number().nullable(),
      trades: z.number().nullable(),
      maxDrawdown: z.number().nullable(),
    })
    .nullable(),
  decidedAt: isoTime.nullable(),
});

export const promotionCountsSchema = z.object({
  promoted: count,
  pending: count,
  rejected: count,
  /** Validation backtests running in KTRDR now (at most AGENT_VALIDATION_CONCURRENCY). */
  validationsInFlight: count,
});

export const lockboxEntrySchema = z.object({
  symbol: z.string(),
  timeframe: z.string(),
  /** First day held back; the search period ends the day before. */
  startDate: day,
  searchPeriodEnd: day,
  months: count,
  dataEndWhenFixed: day,
  fixedAt: isoTime,
  /** Set when an operator reset it: its data has been seen, the next need fixes a new boundary. */
  burnedAt: isoTime.nullable(),
  burnedReason: z.string().nullable(),
  consultations: count,
  experimentIds: z.array(z.int().positive()),
});

export const lockboxViewSchema = z.object({
  generatedAt: isoTime,
  lockboxMonths: count,
  lockboxes: z.array(lockboxEntrySchema),
});

export const lockboxResetSchema = z.object({
  symbol: z.string(),
  timeframe: z.string(),
  burned: lockboxEntrySchema,
});

export const lockboxRetrySchema = z.object({
  experimentId: z.int().positive(),
  /** The validation backtests planned again: each had been held, with the error that held it. */
  retried: z.array(
    z.object({
      kind: z.enum(['robustness', 'lockbox']),
      ordinal: z.int().positive(),
      startDate: day,
      endDate: day,
      heldFor: z.string().nullable(),
    }),
  ),
  /** The promotion's note from now on (what it waits for). */
  reason: z.string(),
  retriedAt: isoTime,
});

export type PromotionEntry = z.infer<typeof promotionSchema>;
export type PromotionCountsEntry = z.infer<typeof promotionCountsSchema>;
export type LockboxEntry = z.infer<typeof lockboxEntrySchema>;
export type LockboxView = z.infer<typeof lockboxViewSchema>;
export type LockboxResetResult = z.infer<typeof lockboxResetSchema>;
export type LockboxRetryResult = z.infer<typeof lockboxRetrySchema>;
