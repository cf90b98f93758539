/**
 * HoPE, from "HoPE: Hyperbolic Rotary Positional Encoding for Stable Long-Range Dependency Modeling in Large
 * Language Models" (Dai, Shan, Song and Liang, 2025), arXiv:2509.05218. Not the video HoPE (arXiv:2505.20444) nor
 * "HoPE: a novel positional encoding without long-term decay" (arXiv:2410.21216).
 *
 * RoPE's circular rotations become Lorentz boosts (hyperbolic rotations) per channel pair j, with opposite rapidities
 * for the query and the key and an exponential penalty e^(-+ m theta') (Section 3.1: "we apply rotations of m theta
 * and -m theta to the query and key at position m ... a penalty coefficient e^(+-m theta'), theta' learnable or
 * predefined"):
 *   q'_m = e^(-m theta') B(m theta_j) q,   k'_n = e^(n theta') B(-n theta_j) k,
 *   B(s) = [[cosh s, sinh s], [sinh s, cosh s]],   theta_j = base^(-2j/d)
 * B is symmetric and B(a) B(b) = B(a + b), so per pair
 *   <q'_m, k'_n> = e^(-(m - n) theta') q^T B((m - n) theta_j) k
 * depends on m - n only, and with theta' > max theta_j = 1 it decays monotonically with the distance (cosh and sinh
 * grow like e^(|m - n| theta_j) / 2, slower than the penalty): no oscillation, unlike RoPE's cos / sin.
 * (With imaginary rapidities, cosh(i x) = cos x and sinh(i x) = i sin x, B is RoPE's rotation: RoPE is the special
 * case the paper names.)
 *
 * References: the paper's method section is quoted here from a third-party summary of the paper (the authors'
 * code is not released: "Data and code will be available"); the per-token form and the layout (pairs (2i, 2i + 1))
 * follow a third-party adaptation to Hawkes processes, `apply_hyperbolic_rotary_pos_emb` of a HoTHP model built on
 * EasyTPP, whose values test/fixtures/hope-hyperbolic-hothp.json holds. Unverified against the paper: the
 * paper's default theta' and whether it is learned per head; here theta' is one predefined value (`decay`).
 *
 * Numerics: the factors e^(m theta') cosh(m theta_0) grow like e^(m (theta' + 1)); positions are taken relative to a
 * centre (any shift shared by queries and keys cancels in the score): by default the midpoint of the positions of
 * each call / row (`centerRows`), so queries and keys must come with the same positions; with `centerRows: false`
 * the fixed `center` (for queries and keys at different positions, e.g. a KV cache). Factors outside float32's
 * range throw a RangeError naming the position: with theta' = 1.05 a row spans at most about 2 * 88 / 2.05 = 85
 * positions.
 *
 * Trainable form: the boost is not a rotation (rotatePairs cannot express it), so the pairs are mixed with
 * elementwise ops on the even/odd channels; the encoding has no learned parameters.
 */
import { add, concat, mul, reshape, slice, type Tensor, tensor } from "../engine/index.js";
import { checkModelHeadDim, ROPE_BASE_PARAMS, ropeInverseFrequencies, rotaryModelParams } from "./rope.js";
import { FLOAT32_MAX } from "./rope-kernel.js";
import {
  checkPositionIds,
  type ModelDims,
  PerForward,
  positionRow,
  rowsShareIds,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/**
 * Per-pair factors at `positions` for `role`, row-major [positions.length, P] each:
 *   query: a = e^(-x theta') cosh(x theta_j), b = e^(-x theta') sinh(x theta_j)
 *   key:   a = e^(x theta') cosh(x theta_j),  b = -e^(x theta') sinh(x theta_j)       (x = position - center)
 * so that (x_even, x_odd) -> (a x_even + b x_odd, b x_even + a x_odd).
 */
export function hopeFactors(
  theta: ArrayLike<number>,
  positions: ArrayLike<number>,
  role: "query" | "key",
  options: { decay: number; center?: number },
): { a: Float64Array; b: Float64Array } {
  const P = theta.length;
  const center = options.center ?? 0;
  const sign = role === "query" ? -1 : 1;
  const a = new Float64Array(positions.length * P);
  const b = new Float64Array(positions.length * P);
  for (let t = 0; t < positions.length; t++) {
    const x = positions[t] - center;
    if (!Number.isFinite(x))
      throw new RangeError(`hope-hyperbolic: positions[${t}] must be finite, received ${positions[t]}`);
    const penalty = Math.exp(sign * x * options.decay);
    for (let j = 0; j < P; j++) {
      const s = x * theta[j];
      const ca = penalty * Math.cosh(s);
      const cb = -sign * penalty * Math.sinh(s);
      if (!(Math.abs(ca) <= FLOAT32_MAX && Math.abs(ca) >= 2 ** -126)) {
        throw new RangeError(
          `hope-hyperbolic: the ${role} factor at position ${positions[t]} (centre ${center}) is ${ca}, outside float32's range; use shorter rows or a smaller decay`,
        );
      }
      a[t * P + j] = ca;
      b[t * P + j] = cb;
    }
  }
  return { a, b };
}

/** Midpoint of a row's positions: the centre the trainable form boosts around. */
export function rowCenter(positions: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < positions.length; t++) {
    lo = Math.min(lo, positions[t]);
    hi = Math.max(hi, positions[t]);
  }
  return positions.length === 0 ? 0 : (lo + hi) / 2;
}

const HOPE_PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  base: ROPE_BASE_PARAMS.base,
  decay: {
    type: "number",
    description:
      "theta', the penalty rate e^(-(m - n) theta'); above max theta_j = 1 the score decays monotonically with distance.",
    default: 1.05,
    min: 0,
    exclusiveMin: true,
  },
  centerRows: {
    type: "boolean",
    description:
      "Boost around the midpoint of each call's (row's) positions (default; queries and keys must share positions), or around `center`.",
    default: true,
  },
  center: {
    type: "number",
    description: "With centerRows false: the position the factors are 1 at (cancels in q.k).",
    default: 0,
  },
} as const satisfies EncodingSpec["params"];

function theta(headDim: number, base: number): Float64Array {
  if (headDim % 2 !== 0) throw new RangeError(`hope-hyperbolic: headDim must be even, received ${headDim}`);
  return ropeInverseFrequencies(headDim, base);
}

/** The boost of x [B, H, T, Dh] (pairs (2i, 2i + 1)) by factors a, b [rows, 1, T, P]. */
function boostTensor(x: Tensor, a: Tensor, b: Tensor): Tensor {
  const [B, H, T, Dh] = x.shape;
  const P = Dh / 2;
  const pairs = reshape(x, [B, H, T, P, 2]);
  const even = reshape(slice(pairs, 4, 0, 1), [B, H, T, P]);
  const odd = reshape(slice(pairs, 4, 1, 2), [B, H, T, P]);
  const outEven = add(mul(even, a), mul(odd, b));
  const outOdd = add(mul(even, b), mul(odd, a));
  return reshape(concat([reshape(outEven, [B, H, T, P, 1]), reshape(outOdd, [B, H, T, P, 1])], 4), [
    B,
    H,
    T,
    Dh,
  ]);
}

interface HopeParams {
  headDim: number;
  base: number;
  decay: number;
  centerRows: boolean;
  center: number;
}

/** The centre of one call's positions: their midpoint, or the fixed centre. */
function centerOf(p: HopeParams, positions: ArrayLike<number>): number {
  return p.centerRows ? rowCenter(positions) : p.center;
}

function createHopeTrainable(p: HopeParams, dims: ModelDims, path: string): TrainableEncoding {
  checkModelHeadDim(p.headDim, dims, `${path}.headDim`);
  const th = theta(p.headDim, p.base);
  const P = th.length;
  const perForward = new PerForward<Tensor[]>();
  return {
    id: "hope-hyperbolic",
    parameters: () => [],
    transformQK(q, k, ids) {
      const [B, , T] = q.shape;
      checkPositionIds("hope-hyperbolic", ids, B, T);
      const [qa, qb, ka, kb] = perForward.get(ids, () => {
        const rows = rowsShareIds(ids, B, T) ? 1 : B;
        const parts = [
          new Float32Array(rows * T * P),
          new Float32Array(rows * T * P),
          new Float32Array(rows * T * P),
          new Float32Array(rows * T * P),
        ];
        for (let r = 0; r < rows; r++) {
          const row = positionRow(ids, r, T);
          const center = centerOf(p, row);
          const fq = hopeFactors(th, row, "query", { decay: p.decay, center });
          const fk = hopeFactors(th, row, "key", { decay: p.decay, center });
          parts[0].set(fq.a, r * T * P);
          parts[1].set(fq.b, r * T * P);
          parts[2].set(fk.a, r * T * P);
          parts[3].set(fk.b, r * T * P);
        }
        return parts.map((data) => tensor(data, [rows, 1, T, P]));
      });
      return { q: boostTensor(q, qa, qb), k: boostTensor(k, ka, kb) };
    },
  };
}

export const hopeHyperbolicSpec = defineEncoding({
  id: "hope-hyperbolic",
  name: "HoPE (hyperbolic rotary position encoding)",
  family: "rotary",
  paper: {
    title:
      "HoPE: Hyperbolic Rotary Positional Encoding for Stable Long-Range Dependency Modeling in Large Language Models",
    arxiv: "2509.05218",
    year: 2025,
  },
  formula:
    "q' = e^(-m theta') B(m theta_j) q, k' = e^(n theta') B(-n theta_j) k, B(s) = [[cosh s, sinh s], [sinh s, cosh s]]; score e^(-(m-n) theta') q^T B((m-n) theta_j) k",
  summary:
    "Replaces RoPE's rotations by Lorentz boosts with a distance penalty, so each pair's contribution to the score decays monotonically with distance instead of oscillating.",
  slots: ["transformQK"],
  params: HOPE_PARAMS,
  modelParams: rotaryModelParams,
  create(params, path = "hope-hyperbolic"): PositionalEncoding {
    const p = resolveParams(path, HOPE_PARAMS, params);
    const th = theta(p.headDim, p.base);
    const P = th.length;
    return {
      id: "hope-hyperbolic",
      params: Object.freeze(p),
      transformQK(x, positions, numHeads, headDim, role) {
        if (headDim !== p.headDim)
          throw new RangeError(`${path}: headDim ${headDim} does not match params.headDim = ${p.headDim}`);
        if (x.length !== positions.length * numHeads * headDim) {
          throw new RangeError(
            `${path}: x.length must be positions.length * numHeads * headDim = ${positions.length * numHeads * headDim}, received ${x.length}`,
          );
        }
        const { a, b } = hopeFactors(th, positions, role, { decay: p.decay, center: centerOf(p, positions) });
        for (let t = 0; t < positions.length; t++) {
          for (let h = 0; h < numHeads; h++) {
            const base = (t * numHeads + h) * headDim;
            for (let j = 0; j < P; j++) {
              const e = x[base + 2 * j];
              const o = x[base + 2 * j + 1];
              // Float32 factors and one rounding per product and sum, as the trainable form's engine ops.
              const fa = Math.fround(a[t * P + j]);
              const fb = Math.fround(b[t * P + j]);
              x[base + 2 * j] = Math.fround(fa * e) + Math.fround(fb * o);
              x[base + 2 * j + 1] = Math.fround(fb * e) + Math.fround(fa * o);
            }
          }
        }
      },
    };
  },
  trainable: (params, dims, _rng, path = "hope-hyperbolic") => createHopeTrainable(params, dims, path),
});
