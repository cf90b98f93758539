/**
 * "Base of RoPE Bounds Context Length" (Men, Xu, Wang, Zhang, Lin, Han, Chen, 2024; NeurIPS 2024),
 * arXiv:2405.14591: the lower bound on RoPE's base that a context length implies.
 *
 * For a query q with i.i.d. components of variance sigma^2, a similar key k* = q + eps (eps zero-mean) and a
 * random key k, the paper derives the expected advantage of the similar key at relative distance m:
 *   (E[q^T R_m k*] - E[q^T R_m k]) / (2 sigma^2) = B_{m,theta} = sum_{i=0}^{d/2-1} cos(m * theta_i),
 *   theta_i = base^(-2i/d)
 * B_{m,theta} measures the ability to attend more to similar tokens than to random ones (the paper's second
 * "long-term decay"); where it is negative a similar token gets on average LESS attention than a random one.
 * Requiring B_{m,theta} >= 0 over the context bounds the base from below:
 *   b*(L) = inf { b >= 1 : B_{m,theta(b)} >= 0 for every integer m in [0, L - 1] }
 * Relative distances in a context of L tokens run from 0 to L - 1 (call with L + 1 for [0, L]).
 *
 * B is not monotone in b: the admissible bases near b*(L) form a dust of narrow islands, and the set becomes a
 * half-line only well above b*. Measured for d = 128: L = 1024 has islands [4294, 4330] and [5603, 5644], then
 * every b >= 6018; L = 4096 has [26954, 26973] (0.07% wide), [28629, 29079], ... and every b >= 58803;
 * L = 2^20 has islands about 1e-5 wide around 6.54e7. So bisection is wrong, and the infimum itself can only be
 * found by sampling b finely enough: Su (kexue.fm/archives/10122) brute-forced it on a GPU at a 1e-5 step
 * (1k 4.3e3, 2k 1.2e4, 4k 2.7e4, 8k 8.4e4, 16k 2.3e5, 32k 6.3e5, 64k 2.1e6, 128k 4.9e6, 256k 2.4e7, 512k 5.8e7,
 * 1M 6.5e7); the paper's Figure 1 values come from a coarser inverse search (for a given b, the largest L) and
 * are equal or larger (2k 1.6e4, 16k 3.1e5, 128k 7.8e6, 1M 5.1e8).
 *
 * What ropeBaseLowerBound computes, precisely: the first admissible base of a nested geometric grid. Level 0
 * walks b = minBase * gridRatio^k upward to the first admissible point; each next level splits the last failing
 * step into 16 geometric sub-steps and again takes the first admissible one, until the bracket [failing,
 * admissible] is narrower than relativeTolerance. The result is admissible (every integer m checked) and no grid
 * point below it is; an island narrower than a level-0 step below it can be missed. With the default step of 0.2%
 * this reproduces Su's table to two digits for 1k, 2k and 8k .. 128k (4k needs gridRatio 1.0002), and for a fixed
 * grid the result never decreases as L grows. Beyond 128k the islands are narrower than any affordable step and
 * the result is an admissible base above the infimum (2^20: 3.5e8).
 *
 * Speed: an inadmissible base is rejected at the first negative B_m found; distances that failed for recent
 * bases are retried first, then blocks are scanned from the largest distances down, where B is smallest. Only an
 * admissible base costs a full pass over L distances; B over a block of 256 distances comes from the Chebyshev
 * recurrence per fast frequency and one Taylor polynomial for all slow ones (error below 1e-8 for d = 128).
 * Measured (d = 128, 2 shared cores): L = 131072 in 0.1 s; L = 2^20 in 1.6 s, or 0.3 s with gridRatio 1.02.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_LAYOUTS, ropeInverseFrequencies } from "./rope.js";
import type { EncodingSpec } from "./types.js";

/** Distances per block of the recurrence; each block restarts from exact cosines. */
const BLOCK = 256;
/** Failing distances remembered across bases. */
const RECENT_FAILURES = 8;

function checkBoundDim(dim: number): void {
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
}

/** B_{m,theta} = sum_{i=0}^{dim/2-1} cos(m * base^(-2i/dim)), directly (B_0 = dim/2). m may be any real. */
export function ropeDiscriminativeScore(m: number, dim: number, base: number): number {
  checkNumber("m", m);
  checkBoundDim(dim);
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  const invFreq = ropeInverseFrequencies(dim, base);
  let sum = 0;
  for (let i = 0; i < invFreq.length; i++) sum += Math.cos(m * invFreq[i]);
  return sum;
}

/**
 * Largest angle theta * |m - centre| (radians) over a block for which a frequency counts as slow: its cosines are
 * replaced by a degree-4 Taylor polynomial around the block centre, error <= SLOW_ANGLE^5 / 120 = 2.6e-9 each.
 */
const SLOW_ANGLE = 0.05;

/**
 * Writes B_m for m = start .. start + out.length - 1 into `out` (out.length <= BLOCK), from the frequencies
 * (decreasing, as RoPE's are).
 * Fast frequencies: two exact cosines, then the Chebyshev recurrence cos((m+1)t) = 2 cos(t) cos(mt) - cos((m-1)t)
 * across the block, four frequencies per pass over `out` (the loop is bound by its loads and stores).
 * Slow frequencies (the suffix with theta * halfSpan <= SLOW_ANGLE; more than half of them for large bases): their
 * sum is one polynomial in delta = m - centre, sum_k A_k delta^k with A_k = sum_i theta_i^k cos(centre theta_i +
 * k pi/2) / k!, so each distance costs five multiply-adds instead of one term per frequency.
 */
function scoreBlock(invFreq: Float64Array, start: number, out: Float64Array): void {
  const n = out.length;
  const halfSpan = (n - 1) / 2;
  let firstSlow = invFreq.length;
  while (firstSlow > 0 && invFreq[firstSlow - 1] * halfSpan <= SLOW_ANGLE) firstSlow--;
  out.fill(0);
  let i = 0;
  for (; i + 4 <= firstSlow; i += 4) {
    const t0 = invFreq[i];
    const t1 = invFreq[i + 1];
    const t2 = invFreq[i + 2];
    const t3 = invFreq[i + 3];
    const k0 = 2 * Math.cos(t0);
    const k1 = 2 * Math.cos(t1);
    const k2 = 2 * Math.cos(t2);
    const k3 = 2 * Math.cos(t3);
    let p0 = Math.cos((start - 1) * t0);
    let p1 = Math.cos((start - 1) * t1);
    let p2 = Math.cos((start - 1) * t2);
    let p3 = Math.cos((start - 1) * t3);
    let c0 = Math.cos(start * t0);
    let c1 = Math.cos(start * t1);
    let c2 = Math.cos(start * t2);
    let c3 = Math.cos(start * t3);
    for (let j = 0; j < n; j++) {
      out[j] += c0 + c1 + c2 + c3;
      const n0 = k0 * c0 - p0;
      const n1 = k1 * c1 - p1;
      const n2 = k2 * c2 - p2;
      const n3 = k3 * c3 - p3;
      p0 = c0;
      p1 = c1;
      p2 = c2;
      p3 = c3;
      c0 = n0;
      c1 = n1;
      c2 = n2;
      c3 = n3;
    }
  }
  for (; i < firstSlow; i++) {
    const theta = invFreq[i];
    const twoCos = 2 * Math.cos(theta);
    let previous = Math.cos((start - 1) * theta);
    let current = Math.cos(start * theta);
    for (let j = 0; j < n; j++) {
      out[j] += current;
      const next = twoCos * current - previous;
      previous = current;
      current = next;
    }
  }
  if (firstSlow === invFreq.length) return;
  // cos(c t + delta t) = sum_k (delta t)^k / k! * cos(c t + k pi/2): cos, -sin, -cos, sin, cos.
  const centre = start + halfSpan;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let a4 = 0;
  for (let s = firstSlow; s < invFreq.length; s++) {
    const theta = invFreq[s];
    const c = Math.cos(centre * theta);
    const si = Math.sin(centre * theta);
    const t2 = theta * theta;
    a0 += c;
    a1 -= theta * si;
    a2 -= (t2 * c) / 2;
    a3 += (t2 * theta * si) / 6;
    a4 += (t2 * t2 * c) / 24;
  }
  for (let j = 0; j < n; j++) {
    const delta = j - halfSpan;
    out[j] += a0 + delta * (a1 + delta * (a2 + delta * (a3 + delta * a4)));
  }
}

/** B_m for every integer m = 0 .. maxDistance (a curve to plot or to scan), as a Float64Array. */
export function ropeDiscriminativeScores(dim: number, base: number, maxDistance: number): Float64Array {
  checkBoundDim(dim);
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  checkNumber("maxDistance", maxDistance, { integer: true, min: 0 });
  const invFreq = ropeInverseFrequencies(dim, base);
  const scores = new Float64Array(maxDistance + 1);
  for (let start = 0; start <= maxDistance; start += BLOCK) {
    scoreBlock(invFreq, start, scores.subarray(start, Math.min(start + BLOCK, maxDistance + 1)));
  }
  return scores;
}

/**
 * Decides "B_m >= 0 for every integer m in [0, maxDistance]" for one base, as cheaply as possible for the common
 * answer "no": it first re-tests the distances that failed for recently tested bases (a failure at a nearby base
 * tends to recur at the same distance, where the smooth part of B is lowest), then scans blocks from the largest
 * distances down (B decays with m) and stops at the first negative value. Only "yes" costs a full pass.
 */
class AdmissibilityChecker {
  private readonly dim: number;
  private readonly maxDistance: number;
  private readonly invFreq: Float64Array;
  private readonly block = new Float64Array(BLOCK);
  /** Recently failing distances, most recent first. */
  private readonly recentFailures: number[] = [];
  constructor(dim: number, maxDistance: number) {
    this.dim = dim;
    this.maxDistance = maxDistance;
    this.invFreq = new Float64Array(dim / 2);
  }

  admissible(base: number): boolean {
    const invFreq = this.invFreq;
    for (let i = 0; i < invFreq.length; i++) invFreq[i] = 1 / base ** ((2 * i) / this.dim);
    // Distances that failed for recent bases, then the blocks around them.
    for (const m of this.recentFailures) {
      let sum = 0;
      for (let i = 0; i < invFreq.length; i++) sum += Math.cos(m * invFreq[i]);
      if (sum < 0) return false;
    }
    for (const m of this.recentFailures) {
      const start = Math.max(0, Math.min(m - BLOCK / 2, this.maxDistance + 1 - BLOCK));
      if (this.blockFails(start, Math.min(this.maxDistance + 1, start + BLOCK))) return false;
    }
    // Then everything, from the largest distances down; small blocks first, as most failures sit near the top.
    let size = 32;
    for (let end = this.maxDistance + 1; end > 0; ) {
      const start = Math.max(0, end - size);
      if (this.blockFails(start, end)) return false;
      end = start;
      size = Math.min(BLOCK, size * 2);
    }
    return true;
  }

  /** Scores distances start .. end - 1; remembers and reports the largest negative one. */
  private blockFails(start: number, end: number): boolean {
    const part = this.block.subarray(0, end - start);
    scoreBlock(this.invFreq, start, part);
    for (let j = part.length - 1; j >= 0; j--) {
      if (part[j] < 0) {
        this.rememberFailure(start + j);
        return true;
      }
    }
    return false;
  }

  private rememberFailure(m: number): void {
    const known = this.recentFailures.indexOf(m);
    if (known >= 0) this.recentFailures.splice(known, 1);
    this.recentFailures.unshift(m);
    if (this.recentFailures.length > RECENT_FAILURES) this.recentFailures.pop();
  }
}

/**
 * The paper's inverse view: the longest context L whose distances 0 .. L - 1 all have B_m >= 0 for this base,
 * i.e. the first distance with a negative score. Returns `limit` when no distance below `limit` is negative.
 */
export function ropeContextLengthForBase(dim: number, base: number, limit: number): number {
  checkBoundDim(dim);
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  checkNumber("limit", limit, { integer: true, min: 1 });
  const invFreq = ropeInverseFrequencies(dim, base);
  const block = new Float64Array(BLOCK);
  for (let start = 0; start < limit; start += BLOCK) {
    const part = block.subarray(0, Math.min(BLOCK, limit - start));
    scoreBlock(invFreq, start, part);
    for (let j = 0; j < part.length; j++) if (part[j] < 0) return start + j;
  }
  return limit;
}

export interface RopeBaseLowerBoundOptions {
  /** Start of the search (default 1: theta_i = 1 for every i); returned when it already qualifies. */
  minBase?: number;
  /** End of the search (default 1e15); past it a PosencConfigError is thrown. */
  maxBase?: number;
  /** Ratio between level-0 grid points, in (1, 10] (default 1.002). Smaller finds narrower islands, slower. */
  gridRatio?: number;
  /** Stop refining when the bracket [last failing, first admissible] is this narrow, relatively (default 1e-4). */
  relativeTolerance?: number;
}

/** Level-0 step of ropeBaseLowerBound: 0.2%. */
export const DEFAULT_GRID_RATIO = 1.002;
/** Geometric subdivisions per refinement level. */
const SUBDIVISIONS = 16;

/**
 * The first base b of a nested geometric grid (see the file comment) such that
 * B_{m,theta(b)} = sum_i cos(m * b^(-2i/dim)) >= 0 for every integer distance m in [0, contextLength - 1]:
 * the paper's lower bound, up to islands of admissible bases narrower than one grid step.
 * Examples (d = 128, defaults): 1024 -> 4294, 8192 -> 83764, 32768 -> 6.30e5, 131072 -> 4.87e6.
 * Throws a PosencConfigError when no base up to options.maxBase qualifies (d = 2 and L > 2: none ever does).
 */
export function ropeBaseLowerBound(
  contextLength: number,
  dim: number,
  options: RopeBaseLowerBoundOptions = {},
): number {
  checkNumber("contextLength", contextLength, { integer: true, min: 1 });
  checkBoundDim(dim);
  const minBase = checkNumber("options.minBase", options.minBase ?? 1, { min: 1 });
  const maxBase = checkNumber("options.maxBase", options.maxBase ?? 1e15, { min: minBase });
  const gridRatio = checkNumber("options.gridRatio", options.gridRatio ?? DEFAULT_GRID_RATIO, {
    min: 1,
    exclusiveMin: true,
    max: 10,
  });
  const tolerance = checkNumber("options.relativeTolerance", options.relativeTolerance ?? 1e-4, {
    min: 1e-12,
    max: 1,
  });
  const maxDistance = contextLength - 1;
  if (dim === 2 && maxDistance >= 2) {
    // d = 2 has only theta_0 = b^0 = 1: B_2 = cos(2) < 0 whatever the base.
    throw new PosencConfigError(
      "invalid_value",
      "contextLength",
      contextLength,
      "at most 2 when dim = 2 (the only frequency is theta_0 = 1 for every base, and cos(2) < 0)",
    );
  }
  const checker = new AdmissibilityChecker(dim, maxDistance);
  const admissible = (base: number): boolean => checker.admissible(base);

  if (admissible(minBase)) return minBase;
  // Level 0: walk up the grid minBase * gridRatio^k.
  let failing = minBase;
  let passing = Number.NaN;
  for (let k = 1; ; k++) {
    const base = minBase * gridRatio ** k;
    if (base > maxBase) {
      throw new PosencConfigError(
        "invalid_value",
        "contextLength",
        contextLength,
        `a length for which some base <= options.maxBase = ${maxBase} keeps B_m >= 0 for m < ${contextLength} (dim = ${dim})`,
      );
    }
    if (admissible(base)) {
      passing = base;
      break;
    }
    failing = base;
  }
  // Finer levels: the first admissible point of a geometric subdivision of [failing, passing].
  while (passing / failing - 1 > tolerance) {
    const step = (passing / failing) ** (1 / SUBDIVISIONS);
    const low = failing;
    for (let k = 1; k < SUBDIVISIONS; k++) {
      const base = low * step ** k;
      if (admissible(base)) {
        passing = base;
        break;
      }
      failing = base;
    }
  }
  return passing;
}

const ROPE_BASE_BOUND_PARAMS = {
  headDim: {
    type: "integer",
    description: "Channels per head d (all rotated): B_m sums d/2 cosines.",
    default: 128,
    min: 2,
  },
  contextLength: {
    type: "integer",
    description: "Context length L: every distance 0 .. L-1 must keep B_m >= 0.",
    default: 4096,
    min: 1,
  },
  gridRatio: {
    type: "number",
    description:
      "Level-0 step of the search over bases (see ropeBaseLowerBound); smaller is finer and slower.",
    default: DEFAULT_GRID_RATIO,
    min: 1,
    exclusiveMin: true,
    max: 10,
  },
  layout: {
    type: "string",
    description: 'Channel pairing of the created RoPE: "half" (HF/GPT-NeoX) or "interleaved" (GPT-J/Meta).',
    default: "half",
    choices: ROPE_LAYOUTS,
  },
} as const satisfies EncodingSpec["params"];

export const ropeBaseBoundSpec = defineRopeVariant({
  id: "rope-base-bound",
  name: "RoPE with the base lower bound for a context length",
  family: "analysis",
  paper: { title: "Base of RoPE Bounds Context Length", arxiv: "2405.14591", year: 2024 },
  formula:
    "b* = min b such that B_m = sum_{i<d/2} cos(m * b^(-2i/d)) >= 0 for m = 0 .. L-1; then RoPE with base b*",
  summary:
    "Computes the smallest RoPE base that keeps similar tokens favoured over random ones at every distance of the context, and builds RoPE with it.",
  params: ROPE_BASE_BOUND_PARAMS,
  // No partialRotaryFactor: d = headDim (even). The computed base is reported in the encoding's params.
  frequencies(p, headDim) {
    let base: number;
    try {
      base = ropeBaseLowerBound(p.contextLength, headDim, { gridRatio: p.gridRatio });
    } catch (error) {
      if (!(error instanceof PosencConfigError)) throw error;
      throw new PosencConfigError(error.code, `rope-base-bound.${error.key}`, error.received, error.expected);
    }
    return { invFreq: ropeInverseFrequencies(headDim, base), derivedParams: { base } };
  },
});
