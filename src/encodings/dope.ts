/**
 * DoPE, from "DoPE: Denoising Rotary Position Embedding" (Xiong, Fan, Shen, Su, Yang, Kong, Wong, 2025),
 * arXiv:2511.09146 (the seed list's DoPE: a training-free RoPE denoiser for length extrapolation). No code was
 * found; the paper's equations are images we could not read. The form below follows the abstract (v1, v2), the
 * paper notes and a third-party transcription that cites the paper's Eqs. 24, 25, 30, 36, 37 and its Table 1 (a
 * snippet surfaced by the code search, repository unnamed): a reconstruction, marked as such.
 *
 * Truncated matrix entropy of a head (Eqs. 24-25, 30 as transcribed): with K_h [T, d] the head's RoPE-rotated keys
 * and lambda_1 >= lambda_2 >= ... the eigenvalues of its Gram matrix K_h^T K_h,
 *   p_i = lambda_i / sum_(j <= r) lambda_j   (i <= r, the r largest),   H_r = -sum_(i <= r) p_i log p_i,
 *   effective rank exp(H_r)   (1 for a rank-one head, r for an isotropic one).
 * Low entropy = energy concentrated in few directions ("over-aligned" low-frequency bands), which the paper links to
 * attention sinks. DoPE-by-Gaussian (Eqs. 36-37 as transcribed): flagged heads get m_h = 0, the rest m_h = 1, and
 *   q_h <- m_h q_h + (1 - m_h) eps_q,   k_h <- m_h k_h + (1 - m_h) eps_k,   eps ~ N(0, sigma^2 I)
 * a flagged head attends by a parameter-free isotropic Gaussian instead of its positional pattern. Not implemented:
 * DoPE-by-parts / by-all (removing or masking flagged frequency bands), whose band selection we could not read.
 *
 * Which heads: the paper flags the heads whose RoPE-rotated keys have the lowest truncated entropy (the
 * transcription: keys' criterion, ascending) on the input; `noisyHeads` computes that choice (batch-averaged). Made
 * per sequence inside a decoder it would read future keys (not causal), so the encoding takes the choice as a
 * parameter: `denoisedHeads`, indices l * numHeads + h, chosen with `noisyHeads` on a RoPE model's keys (the
 * training-free workflow: calibrate, then evaluate with those heads replaced). Likewise sigma is per token: the
 * standard deviation of that token's rotated q (resp. k) over all heads and channels (the transcription uses the
 * whole tensor's, which would mix tokens). Noise is drawn from `seed`, the layer and the role only, so a forward
 * pass is deterministic (noGrad equals grad); no gradient reaches a replaced head's q, k.
 *
 * Intended use: evaluation of a RoPE-trained checkpoint past its training length. In the lab it is a registry
 * method like any other (it also trains; replaced heads are noise heads); evaluating a rope checkpoint with it
 * needs a line in the lab's `--extend` methods (src/lab, not part of this file). Default: no head replaced (= RoPE).
 * The framework-free transformQK has no layer index: it is layer 0's (heads 0 .. numHeads - 1 of the list).
 */
import { add, mul, type Tensor, tensor } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { checkModelHeadDim, ROPE_BASE_PARAMS, ropeSpec, rotaryModelParams } from "./rope.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/**
 * Eigenvalues of a symmetric n x n matrix (row-major), descending: cyclic Jacobi rotations until the off-diagonal
 * mass is below 1e-22 of the total (hand-written: no maintained npm linear-algebra package is a dependency, and
 * the matrices are head-sized, at most 256 x 256).
 */
export function symmetricEigenvalues(matrix: ArrayLike<number>, n: number): Float64Array {
  if (matrix.length !== n * n)
    throw new RangeError(`symmetricEigenvalues: need ${n * n} values, received ${matrix.length}`);
  const a = Float64Array.from(matrix);
  const total = a.reduce((s, v) => s + v * v, 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i * n + j] ** 2;
    if (off <= 1e-22 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // Rotation zeroing a_pq: tan(2 phi) = 2 a_pq / (a_qq - a_pp).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => a[i * n + i]).sort((x, y) => y - x);
}

/** exp(H_r) of x [T, d] row-major: the effective rank from the r largest eigenvalues of x^T x. */
export function truncatedEffectiveRank(x: ArrayLike<number>, T: number, d: number, r: number): number {
  const gram = new Float64Array(d * d);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) gram[i * d + j] += x[t * d + i] * x[t * d + j];
  const top = symmetricEigenvalues(gram, d)
    .slice(0, Math.min(r, d))
    .map((v) => Math.max(v, 0));
  const sum = top.reduce((s, v) => s + v, 0);
  if (sum === 0) return 0;
  let h = 0;
  for (const v of top) if (v > 0) h -= (v / sum) * Math.log(v / sum);
  return Math.exp(h);
}

/**
 * The heads DoPE denoises: the `count` heads of keys k [B, H, T, d] (row-major) with the lowest effective rank,
 * averaged over the batch; ties to the lower head index.
 */
export function noisyHeads(
  k: ArrayLike<number>,
  shape: readonly number[],
  count: number,
  r: number,
): number[] {
  const [B, H, T, d] = shape;
  const ranks = Array.from({ length: H }, (_, h) => {
    let s = 0;
    for (let b = 0; b < B; b++) {
      const start = (b * H + h) * T * d;
      s += truncatedEffectiveRank(Array.prototype.slice.call(k, start, start + T * d), T, d, r);
    }
    return s / B;
  });
  return ranks
    .map((rank, h) => ({ rank, h }))
    .sort((x, y) => x.rank - y.rank || x.h - y.h)
    .slice(0, Math.min(count, H))
    .map((e) => e.h);
}

const DOPE_PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  base: ROPE_BASE_PARAMS.base,
  layout: ROPE_BASE_PARAMS.layout,
  denoisedHeads: {
    type: "number[]",
    description:
      "Heads whose q and k become Gaussian, as l * numHeads + h (layer l, head h); choose them with noisyHeads() on a RoPE model's keys.",
    default: [],
  },
  seed: {
    type: "integer",
    description: "Seed of the Gaussian noise (drawn per layer, the same every forward pass).",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

/**
 * In place on x [B, H, T, d] row-major: the heads in `flagged` get N(0, sigma_(b,t)^2) values, sigma_(b,t) the
 * standard deviation of token t's values over all heads and channels; noise drawn in (b, h, t, c) order from `rng`.
 */
export function gaussianHeads(
  x: Float32Array | Float64Array,
  shape: readonly number[],
  flagged: readonly number[],
  rng: Rng,
): void {
  const [B, H, T, d] = shape;
  if (flagged.length === 0) return;
  const sigma = new Float64Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      let s = 0;
      let s2 = 0;
      for (let h = 0; h < H; h++)
        for (let c = 0; c < d; c++) {
          const v = x[((b * H + h) * T + t) * d + c];
          s += v;
          s2 += v * v;
        }
      const n = H * d;
      sigma[b * T + t] = Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
    }
  const heads = [...flagged].sort((a, b) => a - b);
  for (let b = 0; b < B; b++)
    for (const h of heads)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < d; c++) x[((b * H + h) * T + t) * d + c] = sigma[b * T + t] * rng.normal();
}

/** The noise stream of a layer and role. */
const noiseRng = (seed: number, layer: number, role: "query" | "key") =>
  new Rng(seed * 4099 + 2 * layer + (role === "key" ? 1 : 0));

/** The heads of layer `layer` in the flattened list (l * numHeads + h). */
function headsOfLayer(list: readonly number[], layer: number, numHeads: number): number[] {
  return list.filter((i) => Math.floor(i / numHeads) === layer).map((i) => i % numHeads);
}

export const dopeSpec = defineEncoding({
  id: "dope",
  name: "DoPE (denoising RoPE by Gaussian heads; reconstruction)",
  family: "context-extension",
  paper: { title: "DoPE: Denoising Rotary Position Embedding", arxiv: "2511.09146", year: 2025 },
  formula:
    "RoPE; chosen heads (lowest truncated key entropy exp(-sum p_i log p_i), p = top-r Gram eigenvalues normalised) take q, k ~ N(0, sigma^2 I)",
  summary:
    "Training-free RoPE denoiser: heads whose rotated keys are near rank-one (low truncated matrix entropy) attend through isotropic Gaussian q and k instead (reconstruction of DoPE-by-Gaussian).",
  slots: ["transformQK"],
  params: DOPE_PARAMS,
  modelParams: rotaryModelParams,
  create(params, path = "dope"): PositionalEncoding {
    const p = resolveParams(path, DOPE_PARAMS, params);
    checkDenoisedHeads(p.denoisedHeads, `${path}.denoisedHeads`);
    const rope = ropeSpec.create({ headDim: p.headDim, base: p.base, layout: p.layout }, path);
    return {
      id: "dope",
      params: Object.freeze(p),
      transformQK(x, positions, numHeads, headDim, role) {
        rope.transformQK!(x, positions, numHeads, headDim, role);
        const flagged = headsOfLayer(p.denoisedHeads, 0, numHeads);
        if (flagged.length === 0) return;
        // [T, H, d] -> [1, H, T, d], replace, back.
        const T = positions.length;
        const slab = new Float64Array(x.length);
        for (let t = 0; t < T; t++)
          for (let h = 0; h < numHeads; h++)
            for (let c = 0; c < headDim; c++)
              slab[(h * T + t) * headDim + c] = x[(t * numHeads + h) * headDim + c];
        gaussianHeads(slab, [1, numHeads, T, headDim], flagged, noiseRng(p.seed, 0, role));
        for (let t = 0; t < T; t++)
          for (let h = 0; h < numHeads; h++)
            for (let c = 0; c < headDim; c++)
              x[(t * numHeads + h) * headDim + c] = slab[(h * T + t) * headDim + c];
      },
    };
  },
  trainable(params, dims, _rng, path = "dope"): TrainableEncoding {
    checkModelHeadDim(params.headDim, dims, `${path}.headDim`);
    checkDenoisedHeads(params.denoisedHeads, `${path}.denoisedHeads`, dims.numLayers * dims.numHeads);
    const rope = fixedTrainable(
      ropeSpec,
      { headDim: params.headDim, base: params.base, layout: params.layout },
      dims,
      path,
    );
    const H = dims.numHeads;
    const replace = (x: Tensor, flagged: number[], layer: number, role: "query" | "key") => {
      const keep = new Float32Array(H).fill(1);
      for (const h of flagged) keep[h] = 0;
      const noise = new Float32Array(x.size);
      const values = Float64Array.from(x.toArray());
      gaussianHeads(values, x.shape, flagged, noiseRng(params.seed, layer, role));
      const [, , T, d] = x.shape;
      for (let n = 0; n < values.length; n++)
        if (keep[Math.floor(n / (T * d)) % H] === 0) noise[n] = values[n];
      return add(mul(x, tensor(keep, [1, H, 1, 1])), tensor(noise, x.shape));
    };
    return {
      id: "dope",
      parameters: () => [],
      transformQK(q, k, ids, layer) {
        const r = rope.transformQK!(q, k, ids, layer);
        const flagged = headsOfLayer(params.denoisedHeads, layer, H);
        if (flagged.length === 0) return r;
        return { q: replace(r.q, flagged, layer, "query"), k: replace(r.k, flagged, layer, "key") };
      },
    };
  },
});

function checkDenoisedHeads(list: readonly number[], path: string, limit = Number.POSITIVE_INFINITY): void {
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= limit) {
      throw new RangeError(
        `${path} holds ${i}; valid: integers l * numHeads + h in 0..${Number.isFinite(limit) ? limit - 1 : "inf"}`,
      );
    }
  }
}
