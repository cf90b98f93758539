/**
 * ComRoPE, from "ComRoPE: Scalable and Robust Rotary Position Embedding Parameterized by Trainable Commuting Angle
 * Matrices" (Yu, Jiang, Jia, Yan, Liu, Qian, Li, Dong, Zhang, Yuan, CVPR 2025), arXiv:2506.03737. Official code:
 * Longin-Yu/ComRoPE, model.py (`ComRoPEAPAttention`, `ComRoPELDAttention`, `RoPESelfAttentionBase`).
 *
 *   R(x) = exp(sum_a x_a A_a),   q_i <- R(x_i) q_i,   k_j <- R(x_j) k_j
 * for a position x with one coordinate per axis (1-D: a token index; 2-D: (row, column)), A_a skew-symmetric and
 * block diagonal (blocks b x b, per head). If the A_a commute, R(x)^T R(y) = R(y - x) (the paper's "RoPE equation"),
 * so the score depends on the offset only. Two commuting families, both learned:
 *   AP (axis partition)      block j belongs to axis j mod n: A_(a, j) = [a = j mod n] (P_j - P_j^T)
 *   LD (linearly dependent)  A_(a, j) = lambda_(a, j) (P_j - P_j^T)   (one skew matrix per block, scaled per axis)
 * Either way block j of a token rotates by exp(t_j S_j), S_j = P_j - P_j^T, with t_j = x_(j mod n) (AP) or
 * sum_a lambda_(a, j) x_a (LD): one matrix exponential of a b x b block per (token, head, block), the engine's
 * `matrixExp` (scaling and squaring, exact gradients). RoPE is the AP case with b = 2 and fixed angles.
 *
 * Positions: the spec reads 2 coordinates ([B, T, 2] = (row, column)); `axes` = 1 is the 1-D form (coordinate 0, the
 * token index the model fills by default). Init, stated: P ~ N(0, initStd^2) and lambda ~ N(0, 1) as the official
 * code, which uses initStd = 1 on coordinates scaled to [0, 1] per axis ((i + 0.5) / N); ids here are raw grid
 * indices, so the default initStd = 0.1 is that scale for N of about 10. Parameters are per layer, as the official
 * attention modules.
 */
import {
  expmSmall,
  matmul,
  matrixExp,
  mul,
  normalParameter,
  type Parameter,
  permute,
  reshape,
  sub,
  type Tensor,
  tensor,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import { type ModelDims, PerForward, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

export type ComropeVariant = "ap" | "ld";

/**
 * The block coefficients t [T, blocks] of positions [T, 2] (coordinates past `axes` ignored): AP t_j = x_(j mod n),
 * LD t_j = sum_a lambda[a, j] x_a with lambda [axes, blocks].
 */
export function comropeCoefficients(
  ids: ArrayLike<number>,
  variant: ComropeVariant,
  axes: number,
  blocks: number,
  lambda?: ArrayLike<number>,
): Float64Array {
  const T = ids.length / 2;
  const out = new Float64Array(T * blocks);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < blocks; j++) {
      if (variant === "ap") out[t * blocks + j] = ids[2 * t + (j % axes)]!;
      else {
        let acc = 0;
        for (let a = 0; a < axes; a++) acc += lambda![a * blocks + j]! * ids[2 * t + a]!;
        out[t * blocks + j] = acc;
      }
    }
  }
  return out;
}

/**
 * Rotates x [T, H, Dh] (row-major) in place: block j of head h at token t by exp(t_(t, j) S_(h, j)), S = P - P^T
 * from p [H, blocks, b, b]. Framework-free, float64.
 */
export function comropeRotate(
  x: Float64Array,
  coefficients: Float64Array,
  p: ArrayLike<number>,
  heads: number,
  blockSize: number,
): void {
  const b = blockSize;
  const blocks = p.length / (heads * b * b);
  const T = x.length / (heads * blocks * b);
  const m = new Float64Array(b * b);
  const v = new Float64Array(b);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < blocks; j++) {
        const c = coefficients[t * blocks + j]!;
        const base = (h * blocks + j) * b * b;
        for (let r = 0; r < b; r++)
          for (let s = 0; s < b; s++) m[r * b + s] = c * (p[base + r * b + s]! - p[base + s * b + r]!);
        const rot = expmSmall(m, b);
        const o = ((t * heads + h) * blocks + j) * b;
        for (let r = 0; r < b; r++) v[r] = x[o + r]!;
        for (let r = 0; r < b; r++) {
          let acc = 0;
          for (let s = 0; s < b; s++) acc += rot[r * b + s]! * v[s]!;
          x[o + r] = acc;
        }
      }
    }
  }
}

/**
 * The rotation over engine tensors: x [B, H, T, Dh] and coefficients t [B, T, blocks] -> R x, with p [H, blocks, b, b]
 * (gradients reach x, p and, through t, LD's lambda).
 */
export function comropeRotateTensor(x: Tensor, coefficients: Tensor, p: Tensor): Tensor {
  const [B, H, T, Dh] = x.shape as [number, number, number, number];
  const [, blocks, b] = p.shape as [number, number, number, number];
  const skew = sub(p, permute(p, [0, 1, 3, 2])); // [H, blocks, b, b]
  const angles = mul(reshape(coefficients, [B, T, 1, blocks, 1, 1]), reshape(skew, [1, 1, H, blocks, b, b]));
  const rotations = matrixExp(angles); // [B, T, H, blocks, b, b]
  const vectors = reshape(permute(x, [0, 2, 1, 3]), [B, T, H, blocks, b, 1]);
  const rotated = reshape(matmul(rotations, vectors), [B, T, H, Dh]);
  return permute(rotated, [0, 2, 1, 3]);
}

const COMROPE_PARAMS = {
  variant: {
    type: "string",
    choices: ["ap", "ld"],
    default: "ap",
    description: "commuting family: axis partition or linearly dependent",
  },
  axes: {
    type: "integer",
    min: 1,
    max: 2,
    default: 2,
    description: "coordinates read: 1 (token index) or 2 (row, column)",
  },
  blockSize: {
    type: "integer",
    min: 2,
    default: 2,
    description: "side b of the rotation blocks (divides headDim; 2 is the official config's default)",
  },
  initStd: {
    type: "number",
    min: 0,
    default: 0.1,
    description: "std of P's initialisation (angle per grid cell)",
  },
} as const satisfies EncodingSpec["params"];

function checkBlocks(
  path: string,
  blockSize: number,
  axes: number,
  variant: ComropeVariant,
  dims: ModelDims,
) {
  if (dims.headDim % blockSize !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.blockSize`,
      blockSize,
      `a divisor of the head size ${dims.headDim}`,
    );
  }
  const blocks = dims.headDim / blockSize;
  if (variant === "ap" && blocks < axes) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.blockSize`,
      blockSize,
      `at most headDim / axes = ${dims.headDim / axes} (every axis needs a block)`,
    );
  }
  return blocks;
}

export const comropeSpec = defineEncoding({
  id: "comrope",
  name: "ComRoPE (commuting angle matrices)",
  family: "rotary",
  paper: {
    title:
      "ComRoPE: Scalable and Robust Rotary Position Embedding Parameterized by Trainable Commuting Angle Matrices",
    arxiv: "2506.03737",
    year: 2025,
  },
  formula:
    "q <- exp(sum_a x_a A_a) q (k alike), A_a skew block-diagonal and commuting: AP A_(a,j) = [a = j mod n] S_j, LD A_(a,j) = lambda_(a,j) S_j, S_j = P_j - P_j^T",
  summary:
    "Learned rotations: each b x b block turns by the exponential of a learned skew matrix times the position, commuting so scores depend on the offset only.",
  slots: ["contextual"],
  params: COMROPE_PARAMS,
  positionCoordinates: 2,
  create(params, path = "comrope") {
    const p = resolveParams(path, COMROPE_PARAMS, params);
    return { id: "comrope", params: Object.freeze({ ...p }) };
  },
  trainable(p, dims, rng, path = "comrope"): TrainableEncoding {
    const blocks = checkBlocks(path, p.blockSize, p.axes, p.variant, dims);
    const { numHeads: H, numLayers } = dims;
    const b = p.blockSize;
    const layers = Array.from({ length: numLayers }, (_, l) => ({
      p: normalParameter(rng, [H, blocks, b, b], p.initStd, `comrope.layer${l}.p`),
      lambda:
        p.variant === "ld" ? normalParameter(rng, [p.axes, blocks], 1, `comrope.layer${l}.lambda`) : null,
    }));
    const positions = new PerForward<Tensor>();
    return {
      id: "comrope",
      parameters: () => layers.flatMap((l): Parameter[] => (l.lambda ? [l.p, l.lambda] : [l.p])),
      // Slot (e): the rotations are learned, so q and k are replaced here (after any (c) transform).
      contentAttention({ q, k, positionIds, layer }) {
        const weights = layers[layer];
        if (!weights) throw new RangeError(`comrope: layer ${layer} is not in 0..${numLayers - 1}`);
        const [B, , T] = q.shape as [number, number, number, number];
        let coefficients: Tensor;
        if (weights.lambda) {
          const xs = positions.get(positionIds, () => {
            const data = new Float32Array(B * T * p.axes);
            for (let n = 0; n < B * T; n++)
              for (let a = 0; a < p.axes; a++) data[n * p.axes + a] = positionIds[2 * n + a]!;
            return tensor(data, [B * T, p.axes]);
          });
          coefficients = reshape(matmul(xs, weights.lambda), [B, T, blocks]);
        } else {
          coefficients = positions.get(positionIds, () =>
            tensor(Float32Array.from(comropeCoefficients(positionIds, "ap", p.axes, blocks)), [B, T, blocks]),
          );
        }
        return {
          q: comropeRotateTensor(q, coefficients, weights.p),
          k: comropeRotateTensor(k, coefficients, weights.p),
        };
      },
    };
  },
});
