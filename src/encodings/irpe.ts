/**
 * iRPE, image relative position encoding, from "Rethinking and Improving Relative Position Encoding for Vision
 * Transformer" (Wu, Peng, Chen, Fu, Chao, ICCV 2021), arXiv:2107.14222. Official code: microsoft/Cream,
 * iRPE/DeiT-with-iRPE/irpe.py (`piecewise_index`, `_rp_2d_*`, `get_bucket_ids_2d`, `iRPE`).
 *
 * The offset of query i from key j, (dr, dc) = (row_i - row_j, col_i - col_j), is mapped to a bucket by the
 * piecewise index function (Eq. 18), exact near 0 and logarithmic beyond alpha, clipped at beta:
 *   g(x) = round(x)                                                            |x| <= alpha
 *        = sign(x) min(beta, round(alpha + ln(|x| / alpha) / ln(gamma / alpha) (beta - alpha)))   otherwise
 * (round half to even, as torch.round, and truncated to an integer, so |g| <= floor(beta)); the official config
 * takes alpha, beta, gamma = ratio, 2 ratio, 8 ratio (ratio 1.9). With b = floor(beta), the mapping functions:
 *   euclidean  g(round(sqrt(dr^2 + dc^2))) + b          2b + 1 buckets (undirected)
 *   quant      g(dr^2 + dc^2) + b                       2b + 1 buckets (undirected)
 *   product    (g(dr) + b)(2b + 1) + g(dc) + b          (2b + 1)^2 buckets (directed, the paper's default)
 *   cross      two tables, rows g(dr) + b and columns g(dc) + b, whose encodings add
 * Modes (the encoding of bucket n per head):
 *   bias        logit_ij += table[h, n(i, j)]                               slot (d)
 *   contextual  logit_ij += (q_i / sqrt(Dh)) . r_(h, n(i, j)),  r learned [Dh] vectors     slot (e), on keys
 * Tables are per layer, zero-initialised and shared by the heads by default (the official defaults; rpe on keys).
 * Not included: the `skip` bucket of a class token (every token here has a grid position), iRPE on queries and
 * values, and the CUDA gather (the engine's lerpGather at integer positions is that gather).
 */
import {
  add,
  broadcastTo,
  constantParameter,
  lerpGather,
  matmul,
  mul,
  permute,
  reshape,
  type Tensor,
  tensor,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import { checkGridIds, exampleIds, splitRowsCols } from "./grid-positions.js";
import {
  type ContentAttentionInput,
  PerForward,
  type TrainableEncoding,
  withoutEmptyHooks,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

export type IrpeMethod = "euclidean" | "quant" | "product" | "cross";

/** Round half to even (torch.round). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The piecewise index g(x) of Eq. 18, as the official code computes it (integer in [-floor(beta), floor(beta)]). */
export function piecewiseIndex(x: number, alpha: number, beta: number, gamma: number): number {
  const a = Math.abs(x);
  if (a <= alpha) return roundHalfEven(x);
  const y = Math.min(
    beta,
    roundHalfEven(alpha + (Math.log(a / alpha) / Math.log(gamma / alpha)) * (beta - alpha)),
  );
  return Math.trunc(Math.sign(x) * y);
}

/** alpha, beta, gamma of the official `get_single_rpe_config(ratio)`, and b = floor(beta). */
export function irpeCoefficients(ratio: number) {
  const beta = 2 * ratio;
  return { alpha: ratio, beta, gamma: 8 * ratio, b: Math.floor(beta) };
}

/** Buckets per table: (2b + 1)^2 for product, 2b + 1 otherwise (cross has two tables of that size). */
export function irpeBucketCount(method: IrpeMethod, ratio: number): number {
  const { b } = irpeCoefficients(ratio);
  return method === "product" ? (2 * b + 1) ** 2 : 2 * b + 1;
}

/**
 * Bucket ids [Tq * Tk] (row-major, query-major) of every (query, key) pair from their (row, column) ids [T, 2]: one
 * array, or two for cross (rows, then columns).
 */
export function irpeBuckets(
  method: IrpeMethod,
  queryIds: ArrayLike<number>,
  keyIds: ArrayLike<number>,
  ratio: number,
): Int32Array[] {
  const { alpha, beta, gamma, b } = irpeCoefficients(ratio);
  const g = (x: number) => piecewiseIndex(x, alpha, beta, gamma) + b;
  const q = splitRowsCols(queryIds, queryIds.length / 2);
  const k = splitRowsCols(keyIds, keyIds.length / 2);
  const Tq = q.rows.length;
  const Tk = k.rows.length;
  const tables = method === "cross" ? 2 : 1;
  const out = Array.from({ length: tables }, () => new Int32Array(Tq * Tk));
  for (let i = 0; i < Tq; i++) {
    for (let j = 0; j < Tk; j++) {
      const dr = q.rows[i]! - k.rows[j]!;
      const dc = q.cols[i]! - k.cols[j]!;
      const n = i * Tk + j;
      if (method === "euclidean") out[0]![n] = g(roundHalfEven(Math.sqrt(dr * dr + dc * dc)));
      else if (method === "quant") out[0]![n] = g(dr * dr + dc * dc);
      else if (method === "product") out[0]![n] = g(dr) * (2 * b + 1) + g(dc);
      else {
        out[0]![n] = g(dr);
        out[1]![n] = g(dc);
      }
    }
  }
  return out;
}

/**
 * Contextual term on keys for one example: q [H, Tq, Dh] (already scaled by 1/sqrt(Dh)), weight [H, Dh, nb],
 * buckets [Tq * Tk] -> [H, Tq, Tk] with term[h, i, j] = sum_d q[h, i, d] weight[h, d, bucket(i, j)].
 */
export function irpeContextualTerm(
  q: ArrayLike<number>,
  weight: ArrayLike<number>,
  buckets: Int32Array,
  heads: number,
  headDim: number,
  numBuckets: number,
): Float64Array {
  const Tq = q.length / (heads * headDim);
  const Tk = buckets.length / Tq;
  const out = new Float64Array(heads * Tq * Tk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < Tq; i++) {
      for (let j = 0; j < Tk; j++) {
        let acc = 0;
        const n = buckets[i * Tk + j]!;
        for (let d = 0; d < headDim; d++) {
          acc += q[(h * Tq + i) * headDim + d]! * weight[(h * headDim + d) * numBuckets + n]!;
        }
        out[(h * Tq + i) * Tk + j] = acc;
      }
    }
  }
  return out;
}

const IRPE_PARAMS = {
  mode: {
    type: "string",
    choices: ["contextual", "bias"],
    default: "contextual",
    description: "q.r_ij or a scalar",
  },
  method: {
    type: "string",
    choices: ["product", "cross", "euclidean", "quant"],
    default: "product",
    description: "mapping of the 2-D offset to buckets",
  },
  ratio: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    default: 1.9,
    description: "alpha, beta, gamma = ratio, 2 ratio, 8 ratio (the official config)",
  },
  sharedHeads: {
    type: "boolean",
    default: true,
    description: "one table for every head (the official default)",
  },
  table: {
    type: "number[]",
    default: [],
    description:
      "framework-free bias mode: values [tables, heads (1 if shared), buckets] ([] = zeros, the initialisation)",
  },
} as const satisfies EncodingSpec["params"];

export const irpeSpec = defineEncoding({
  id: "irpe",
  name: "iRPE (image relative position encoding)",
  family: "attention-bias",
  paper: {
    title: "Rethinking and Improving Relative Position Encoding for Vision Transformer",
    arxiv: "2107.14222",
    year: 2021,
  },
  formula:
    "logit_ij += table[h, n(dr, dc)] (bias) or (q_i/sqrt(d)) . r[h, n(dr, dc)] (contextual); n = piecewise-index buckets of the 2-D offset (product, cross, euclidean, quant)",
  summary:
    "Buckets the 2-D offset between patches (exact near, logarithmic far) and learns a bias or a query-dependent vector per bucket.",
  slots: ["attentionBias", "contextual"],
  params: IRPE_PARAMS,
  positionCoordinates: 2,
  create(params, path = "irpe"): PositionalEncoding {
    const p = resolveParams(path, IRPE_PARAMS, params);
    const nb = irpeBucketCount(p.method, p.ratio);
    const tables = p.method === "cross" ? 2 : 1;
    return {
      id: "irpe",
      params: Object.freeze(p),
      // Bias mode; positions are [T, 2] (row, column) ids, the bias [H, Tq, Tk].
      attentionBias(queryPositions, keyPositions, numHeads) {
        if (p.mode !== "bias") {
          throw new RangeError("irpe: the contextual mode needs q (trainable form, or irpeContextualTerm)");
        }
        const hs = p.sharedHeads ? 1 : numHeads;
        const values = p.table.length === 0 ? new Array(tables * hs * nb).fill(0) : p.table;
        if (values.length !== tables * hs * nb) {
          throw new PosencConfigError(
            "invalid_value",
            `${path}.table`,
            `${p.table.length} values`,
            `[] or tables * heads * buckets = ${tables} * ${hs} * ${nb} values`,
          );
        }
        const buckets = irpeBuckets(p.method, queryPositions, keyPositions, p.ratio);
        const n = buckets[0]!.length;
        const out = new Float32Array(numHeads * n);
        for (let h = 0; h < numHeads; h++) {
          for (const [t, ids] of buckets.entries()) {
            const row = (t * hs + (p.sharedHeads ? 0 : h)) * nb;
            for (let e = 0; e < n; e++) out[h * n + e]! += values[row + ids[e]!]!;
          }
        }
        return out;
      },
    };
  },
  trainable(p, dims): TrainableEncoding {
    const { numHeads: H, headDim: Dh, numLayers } = dims;
    const nb = irpeBucketCount(p.method, p.ratio);
    const hs = p.sharedHeads ? 1 : H;
    const shape = p.mode === "bias" ? [hs, nb] : [hs, Dh, nb];
    const tables = p.method === "cross" ? ["rows", "cols"] : [p.method];
    const layers = Array.from({ length: numLayers }, (_, l) =>
      tables.map((t) => constantParameter(shape, 0, `irpe.layer${l}.${t}`)),
    );
    // Bucket ids as float positions [B, H, T, T] for lerpGather (integers: an exact gather), per forward.
    const positions = new PerForward<Tensor[]>();
    const bucketPositions = (ids: Float64Array, B: number, T: number): Tensor[] =>
      positions.get(ids, () => {
        checkGridIds("irpe", ids, B, T);
        const perTable = tables.map(() => new Float32Array(B * H * T * T));
        for (let b = 0; b < B; b++) {
          const row = exampleIds(ids, b, T);
          irpeBuckets(p.method, row, row, p.ratio).forEach((bk, t) => {
            for (let h = 0; h < H; h++) perTable[t]!.set(bk, (b * H + h) * T * T);
          });
        }
        return perTable.map((data) => tensor(data, [B, H, T, T]));
      });
    const gather = (lookups: Tensor[], pos: Tensor[]) =>
      lookups.map((lk, t) => lerpGather(lk, pos[t]!)).reduce((a, b) => add(a, b));
    const layerTables = (layer: number) => {
      const t = layers[layer];
      if (!t) throw new RangeError(`irpe: layer ${layer} is not in 0..${numLayers - 1}`);
      return t;
    };
    return withoutEmptyHooks({
      id: "irpe",
      parameters: () => layers.flat(),
      attentionBias:
        p.mode === "bias"
          ? (ids, B, T, layer) =>
              gather(
                layerTables(layer).map((tb) => broadcastTo(reshape(tb, [1, hs, 1, nb]), [B, H, T, nb])),
                bucketPositions(ids, B, T),
              )
          : undefined,
      contentAttention:
        p.mode === "contextual"
          ? ({ q, positionIds, layer }: ContentAttentionInput) => {
              const [B, , T] = q.shape as [number, number, number, number];
              const scaled = mul(q, 1 / Math.sqrt(Dh));
              const lookups = layerTables(layer).map((w) => irpeContextualLookup(scaled, w, p.sharedHeads));
              return { bias: gather(lookups, bucketPositions(positionIds, B, T)) };
            }
          : undefined,
    });
  },
});

/** (q W_h) [B, H, T, nb] for q [B, H, T, Dh] and W [hs, Dh, nb] (hs = 1: one W for every head). */
export function irpeContextualLookup(q: Tensor, w: Tensor, shared: boolean): Tensor {
  const [B, H, T, Dh] = q.shape as [number, number, number, number];
  const nb = w.shape[2]!;
  if (shared) return matmul(q, reshape(w, [Dh, nb]));
  const perHead = reshape(permute(q, [1, 0, 2, 3]), [H, B * T, Dh]);
  return permute(reshape(matmul(perHead, w), [H, B, T, nb]), [1, 0, 2, 3]);
}
