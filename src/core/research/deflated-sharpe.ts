// The deflated Sharpe ratio of Bailey and López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection
// Bias, Backtest Overfitting and Non-Normality" (Journal of Portfolio Management, 2014). Pure functions, no I/O.
//
//   PSR(SR*) = Φ( (SR^ − SR*)·√(T−1) / √(1 − γ3·SR^ + (γ4 − 1)/4·SR^²) )                        (paper eq. 2)
//   SR0      = √V[SR_n] · ( (1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)) )                           (paper eq. 3, 6)
//   DSR      = PSR(SR0)
//
// SR^ and √V are in per-observation units (not annualised), T is the number of return observations, γ3 the skew
// and γ4 the (non-excess) kurtosis of the returns, γ the Euler–Mascheroni constant and N the independent trials.

export const EULER_MASCHERONI = 0.5772156649015329;

/**
 * Below this many trials in a family the memory shows no DSR: with one trial it is only the probabilistic Sharpe
 * against zero (no deflation at all, "DSR 1.00" for any decent backtest), and the spread of a handful of Sharpe
 * ratios is too noisy an estimate of V for the benchmark to mean much.
 */
export const DSR_MEANINGFUL_TRIALS = 10;

/** erfc with fractional error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Φ, the standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Φ⁻¹ (Acklam's rational approximation, then one Halley step against normalCdf). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`normalQuantile needs 0 < p < 1 (got ${p})`);
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** The expected maximum Sharpe ratio of N independent trials whose Sharpe ratios have variance V (eq. 3, 6). */
export function expectedMaxSharpe(trials: number, variance: number): number {
  if (trials < 2 || variance <= 0) return 0;
  const g = EULER_MASCHERONI;
  return Math.sqrt(variance) * ((1 - g) * normalQuantile(1 - 1 / trials) + g * normalQuantile(1 - 1 / (trials * Math.E)));
}

/** The probabilistic Sharpe ratio: the probability that the true Sharpe exceeds the benchmark (eq. 2). */
export function probabilisticSharpe(input: { sharpe: number; benchmark: number; observations: number; skew: number; kurtosis: number }): number {
  const { sharpe, benchmark, observations, skew, kurtosis } = input;
  const spread = 1 - skew * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe;
  if (observations < 2 || spread <= 0) return Number.NaN;
  return normalCdf(((sharpe - benchmark) * Math.sqrt(observations - 1)) / Math.sqrt(spread));
}

export interface DeflatedSharpeInput {
  /** The candidate's Sharpe ratio, per observation. */
  sharpe: number;
  observations: number;
  skew: number;
  kurtosis: number;
  /** Independent trials in the family, the candidate included. */
  trials: number;
  /** Variance of the per-observation Sharpe ratios across the family's trials. */
  variance: number;
}

export function deflatedSharpe(input: DeflatedSharpeInput): { dsr: number; expectedMaxSharpe: number } {
  const benchmark = expectedMaxSharpe(input.trials, input.variance);
  return { dsr: probabilisticSharpe({ ...input, benchmark }), expectedMaxSharpe: benchmark };
}

/**
 * KTRDR's figures, turned into the paper's inputs. KTRDR annualises its Sharpe as mean/std of daily returns × √252
 * (ktrdr/backtesting/performance.py), so the per-observation Sharpe is SR/√252 and the observations are the
 * returns it was computed from: one per bar (see observationsOfBacktest). KTRDR reports neither skew nor kurtosis of the
 * returns: normal returns are assumed (γ3 = 0, γ4 = 3), which makes the DSR optimistic for fat-tailed strategies.
 */
export const KTRDR_ANNUALISATION = 252;

export function perObservationSharpe(annualised: number): number {
  return annualised / Math.sqrt(KTRDR_ANNUALISATION);
}

/**
 * The returns behind KTRDR's Sharpe: its PerformanceTracker appends one "daily" return per bar it updates on
 * (ktrdr/backtesting/performance.py `update`, called every bar), so a backtest of B bars has B − 1 returns, whatever
 * the timeframe. Without a bar count, the trading days of the window stand in (right for daily bars only).
 */
export function observationsOfBacktest(input: { bars?: number | null; startDate: string | null; endDate: string | null }): number {
  if (typeof input.bars === 'number' && Number.isFinite(input.bars) && input.bars >= 2) return Math.floor(input.bars) - 1;
  return input.startDate && input.endDate ? observationsInWindow(input.startDate, input.endDate) : 0;
}

export function observationsInWindow(startDate: string, endDate: string): number {
  const days = (Date.parse(`${endDate}T00:00:00Z`) - Date.parse(`${startDate}T00:00:00Z`)) / 86_400_000 + 1;
  return Number.isFinite(days) && days > 0 ? Math.round((days * KTRDR_ANNUALISATION) / 365.25) : 0;
}

/** Count, sum and sum of squares of a family's annualised Sharpe ratios (the candidate included). */
export interface FamilyMoments {
  n: number;
  sum: number;
  sumSquares: number;
}

/** Sample variance from moments, in per-observation units; 0 for fewer than two trials. */
function perObservationVariance(family: FamilyMoments): number {
  if (family.n < 2) return 0;
  const variance = (family.sumSquares - (family.sum * family.sum) / family.n) / (family.n - 1);
  return Math.max(0, variance) / KTRDR_ANNUALISATION;
}

/** The DSR of one backtest among its family's trials, or null when KTRDR gave too little to compute it. */
export function deflatedSharpeOfBacktest(input: {
  sharpe: number | null;
  /** Bars the backtest ran over (KTRDR's equity_curve_length), when it said. */
  bars?: number | null;
  startDate: string | null;
  endDate: string | null;
  family: FamilyMoments;
}): { dsr: number; trials: number; expectedMaxSharpe: number } | null {
  if (input.sharpe === null || !Number.isFinite(input.sharpe)) return null;
  const observations = observationsOfBacktest(input);
  if (observations < 2) return null;
  const trials = Math.max(1, input.family.n);
  const result = deflatedSharpe({
    sharpe: perObservationSharpe(input.sharpe),
    observations,
    skew: 0,
    kurtosis: 3,
    trials,
    variance: perObservationVariance(input.family),
  });
  if (!Number.isFinite(result.dsr)) return null;
  return { dsr: result.dsr, trials, expectedMaxSharpe: result.expectedMaxSharpe * Math.sqrt(KTRDR_ANNUALISATION) };
}
