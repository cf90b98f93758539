/**
 * The extrapolation analysis of "Exploring Transformer Extrapolation" (Qin, Zhong, Deng, AAAI 2024),
 * arXiv:2307.10156, over any relative attention bias b(n) (n = i - j >= 0, a causal decoder):
 *
 *   condition      a transformer with the bias extrapolates when the series  S = sum_{n>=0} exp(b(n))  converges
 *                  (the paper's main result, as its abstract states it: "as long as the series that corresponds
 *                  to the RPE's exponential converges")
 *   receptive field  TRF(c) = min { N : sum_{n=0}^{N} exp(b(n)) >= c * S }     (c the coverage, 1 - epsilon)
 *                  the paper's Theoretical Receptive Field; the partial sums are the attention mass a query with
 *                  content-free logits gives its N + 1 nearest keys.
 * The paper's exact theorem and TRF equations were not checked against its full text (only the abstract and the
 * project's paper notes, which reconstruct them); the convergence verdict below is the standard test it implies.
 *
 * Verdict (a numerical test, per head): Cauchy condensation + the ratio test. For non-increasing terms
 * a_n = exp(b(n)), sum a_n converges iff sum 2^k a_{2^k} does; its ratio
 *   rho_k = 2 a_{2^{k+1}} / a_{2^k},   ln rho_k = ln 2 + b(2^{k+1}) - b(2^k)
 * tends to 2^{1-p} for a power tail a_n ~ n^-p (so p > 1 converges, the p-series), to 0 for an exponential tail
 * (ALiBi: b = -m n) and to 2 for a constant tail (NoPE b = 0, T5 past its last bucket). At the largest sampled
 * scales: every ln rho_k <= -tolerance -> "converges", every ln rho_k >= +tolerance -> "diverges"; otherwise
 * "inconclusive" (a tail near 1/n, e.g. Kerple-log with r1 = 1, which diverges but cannot be told from r1 = 1.01 by
 * sampling; or a tail that is not monotone at those scales, where condensation does not apply).
 *
 * Examples (the paper's discussion, reproduced by the tests): ALiBi converges for every slope; Kerple-log
 * -r1 ln(1 + r2 n) converges iff r1 > 1; Kerple-power -r1 n^r2 converges for all r1, r2 > 0; NoPE (b = 0) and T5
 * (constant beyond maxDistance, whatever its learned table) diverge.
 */
import { checkNumber } from "../util/validation.js";
import type { EncodingSpec, PositionalEncoding } from "./types.js";

/** The bias of each head at the distances asked: rows [numHeads][distances.length]. */
export type BiasAtDistances = (distances: readonly number[]) => Float64Array[];

export type SeriesVerdict = "converges" | "diverges" | "inconclusive";

export interface BiasSeriesOptions {
  /** c in TRF(c): the fraction of the series' mass to cover (default 0.99). */
  coverage?: number;
  /** Distances summed exactly: 0..window (default 65536); the TRF is searched there. */
  window?: number;
  /** Largest condensation scale K: b is sampled at 2^0 .. 2^K (default 30). */
  scales?: number;
  /** |ln rho| below this is inconclusive (default 0.01). */
  tolerance?: number;
}

export interface HeadSeries {
  head: number;
  verdict: SeriesVerdict;
  /** ln rho_k at the last three scales (k = K-3 .. K-1). */
  logRatios: number[];
  /** sum_{n=0}^{window} exp(b(n) - b(0)) (relative to the first term, so it stays finite). */
  partialSum: number;
  /**
   * An upper bound of the series beyond the window, in the same units: condensation blocks
   * sum_{k >= floor(log2(window + 1))} 2^k a_{2^k} up to 2^K, then a geometric tail at the last ratio (Infinity
   * when that ratio is >= 1).
   */
  tailBound: number;
  /**
   * TRF at the coverage: the smallest N whose partial sum reaches coverage * (partialSum + tailBound), an upper
   * bound of the true TRF (exact when the tail bound is negligible). null when the series does not converge or N
   * lies beyond the window (raise the window).
   */
  receptiveField: number | null;
  /** The distance at which the window's own partial sums reach the coverage (defined for every verdict). */
  windowCoverageDistance: number;
}

/** Classifies ln rho_k values (see the file comment). */
export function condensationVerdict(logRatios: readonly number[], tolerance: number): SeriesVerdict {
  if (logRatios.every((r) => r <= -tolerance || r === Number.NEGATIVE_INFINITY)) return "converges";
  if (logRatios.every((r) => r >= tolerance)) return "diverges";
  return "inconclusive";
}

/** ln rho_k = ln 2 + b(2^{k+1}) - b(2^k) for k = 0..K-1 from b sampled at 2^0..2^K (NaN-free: -inf when both die). */
export function condensedLogRatios(biasAtPowers: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let k = 0; k + 1 < biasAtPowers.length; k++) {
    const a = biasAtPowers[k];
    const b = biasAtPowers[k + 1];
    if (b === Number.NEGATIVE_INFINITY) out.push(Number.NEGATIVE_INFINITY);
    else out.push(Math.LN2 + b - a);
  }
  return out;
}

/** The tail bound of HeadSeries.tailBound from b sampled at 2^0..2^K, terms relative to exp(b0). */
export function condensationTailBound(biasAtPowers: ArrayLike<number>, b0: number, window: number): number {
  const K = biasAtPowers.length - 1;
  const first = Math.floor(Math.log2(window + 1));
  if (first > K) return Number.POSITIVE_INFINITY;
  let bound = 0;
  for (let k = first; k <= K; k++) bound += 2 ** k * Math.exp(biasAtPowers[k] - b0);
  const lastLogRatio = Math.LN2 + biasAtPowers[K] - biasAtPowers[K - 1];
  const last = 2 ** K * Math.exp(biasAtPowers[K] - b0);
  if (last === 0) return bound;
  if (!(lastLogRatio < 0)) return Number.POSITIVE_INFINITY;
  const rho = Math.exp(lastLogRatio);
  return bound + (last * rho) / (1 - rho);
}

/** Series verdict and receptive field of every head of a bias. */
export function analyzeBiasSeries(bias: BiasAtDistances, options: BiasSeriesOptions = {}): HeadSeries[] {
  const coverage = checkNumber("coverage", options.coverage ?? 0.99, {
    min: 0,
    max: 1,
    exclusiveMin: true,
    exclusiveMax: true,
  });
  const window = checkNumber("window", options.window ?? 65536, { integer: true, min: 1, max: 1 << 24 });
  const scales = checkNumber("scales", options.scales ?? 30, { integer: true, min: 3, max: 50 });
  const tolerance = checkNumber("tolerance", options.tolerance ?? 0.01, { min: 0, exclusiveMin: true });
  const dense = bias(Array.from({ length: window + 1 }, (_, n) => n));
  const powers = bias(Array.from({ length: scales + 1 }, (_, k) => 2 ** k));
  return dense.map((row, head) => {
    const b0 = row[0];
    // exp(b(n) - b(0)): the ratios are what matter, and the shift keeps large biases finite.
    const terms = Float64Array.from(row, (b) => Math.exp(b - b0));
    let total = 0;
    for (const t of terms) total += t;
    const logRatios = condensedLogRatios(powers[head]!).slice(-3);
    const verdict = condensationVerdict(logRatios, tolerance);
    const tailBound = condensationTailBound(powers[head]!, b0, window);
    const firstReaching = (target: number): number | null => {
      let cumulative = 0;
      for (let n = 0; n <= window; n++) {
        cumulative += terms[n];
        if (cumulative >= target) return n;
      }
      return null;
    };
    const field = verdict === "converges" ? firstReaching(coverage * (total + tailBound)) : null;
    return {
      head,
      verdict,
      logRatios,
      partialSum: total,
      tailBound,
      receptiveField: field,
      windowCoverageDistance: firstReaching(coverage * total) ?? window,
    };
  });
}

/**
 * The bias of a method as b(n), per head: query at position `queryPosition`, keys at queryPosition - n (the causal
 * distances). A method that fills no hook slot (NoPE) is the zero bias; null for a method whose position signal is
 * not an additive bias (rotary, embeddings, id schemes, content-aware methods).
 */
export function encodingBiasAtDistances(
  spec: Pick<EncodingSpec, "slots">,
  encoding: PositionalEncoding,
  numHeads: number,
  queryPosition: number,
): BiasAtDistances | null {
  if (spec.slots.length === 0) {
    return (distances) => Array.from({ length: numHeads }, () => new Float64Array(distances.length));
  }
  const attentionBias = encoding.attentionBias?.bind(encoding);
  if (!spec.slots.includes("attentionBias") || !attentionBias) return null;
  return (distances) => {
    const keys = distances.map((n) => queryPosition - n);
    const values = attentionBias([queryPosition], keys, numHeads); // [H, 1, K]
    return Array.from({ length: numHeads }, (_, h) =>
      Float64Array.from(values.subarray(h * keys.length, (h + 1) * keys.length)),
    );
  };
}
