/**
 * Axial 2-D RoPE, "Rotary Position Embedding for Vision Transformer" (Heo, Park, Han and Yun, ECCV 2024),
 * arXiv:2403.13298, section 3.2 (RoPE-Axial):
 *
 *   theta_k = base^(-4k / Dh),   k = 0 .. Dh/4 - 1            (base 100 for RoPE-Axial in the paper's ViTs)
 *   pair k          (k < Dh/4) rotates by  col * theta_k        (the x axis)
 *   pair Dh/4 + k              rotates by  row * theta_k        (the y axis)
 *   pairs are adjacent channels (2i, 2i + 1): the "interleaved" layout (a complex multiplication)
 *
 * so q_(r,c) . k_(r',c') depends on the positions only through (r - r', c - c'): each axis is a 1-D RoPE on its own
 * half of the channels. Position ids are [T, 2] = (row, col) per token (the repository's 2-D convention); the
 * official code (naver-ai/rope-vit, `compute_axial_cis`, `init_t_xy`) enumerates t_x = t mod W (column) and
 * t_y = floor(t / W) (row) and concatenates the x frequencies before the y ones, which is this order. At another
 * resolution the official code recomputes the angles at the new grid's integer positions (no interpolation), which is
 * what resolution extrapolation tests here. The CLS token of their DeiT is left unrotated; the encoder of
 * src/model/vision.ts has no CLS token (mean pooling).
 */
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { applyRope } from "./rope-kernel.js";
import { type ModelDims, rotaryFromTables, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type ParamValues,
  type PositionalEncoding,
  type RotaryTables,
  resolveParams,
} from "./types.js";

/** theta_k = base^(-4k / Dh) for k = 0 .. Dh/4 - 1 (the same frequencies on both axes). */
export function axialRopeFrequencies(headDim: number, base = 100): Float64Array {
  if (!(Number.isInteger(headDim) && headDim >= 4 && headDim % 4 === 0)) {
    throw new RangeError(`axialRopeFrequencies: headDim ${headDim} must be a positive multiple of 4`);
  }
  const quarter = headDim / 4;
  return Float64Array.from({ length: quarter }, (_, k) => base ** (-(4 * k) / headDim));
}

/**
 * cos/sin tables [T, Dh/2] for ids [T, 2] = (row, col) row-major: pair k < Dh/4 at angle col * theta_k, pair
 * Dh/4 + k at row * theta_k.
 */
export function axialRopeTables(ids: ArrayLike<number>, headDim: number, base = 100): RotaryTables {
  if (ids.length % 2 !== 0) {
    throw new RangeError(`axialRopeTables: ${ids.length} ids are not (row, col) pairs`);
  }
  const theta = axialRopeFrequencies(headDim, base);
  const quarter = theta.length;
  const T = ids.length / 2;
  const P = 2 * quarter;
  const cos = new Float32Array(T * P);
  const sin = new Float32Array(T * P);
  for (let t = 0; t < T; t++) {
    const row = ids[2 * t]!;
    const col = ids[2 * t + 1]!;
    for (let k = 0; k < quarter; k++) {
      const x = col * theta[k]!;
      const y = row * theta[k]!;
      cos[t * P + k] = Math.cos(x);
      sin[t * P + k] = Math.sin(x);
      cos[t * P + quarter + k] = Math.cos(y);
      sin[t * P + quarter + k] = Math.sin(y);
    }
  }
  return { cos, sin };
}

/**
 * Rotates x [T, H, Dh] (token t, head h, channel c at (t * H + h) * Dh + c) in place by the axial angles of ids
 * [T, 2]; returns x.
 */
export function applyAxialRope(
  x: Float32Array,
  ids: ArrayLike<number>,
  numHeads: number,
  headDim: number,
  base = 100,
): Float32Array {
  const { cos, sin } = axialRopeTables(ids, headDim, base);
  return applyRope(x, cos, sin, { numHeads, headDim, layout: "interleaved" });
}

const ROPE_2D_PARAMS = {
  headDim: {
    type: "integer",
    description:
      "Channels per head, a multiple of 4 (half the pairs per axis). The model fills in its head size.",
    default: 64,
    min: 4,
  },
  base: {
    type: "number",
    description: "theta_k = base^(-4k/Dh); 100 is the paper's RoPE-Axial.",
    default: 100,
    min: 1,
    exclusiveMin: true,
  },
} as const;

function checkHeadDim(headDim: number, path: string): void {
  if (headDim % 4 !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.headDim`,
      headDim,
      "a multiple of 4 (each axis rotates half of the Dh/2 channel pairs)",
    );
  }
}

function rope2dTrainable(
  params: ParamValues<typeof ROPE_2D_PARAMS>,
  dims: ModelDims,
  _rng: Rng,
  path = "rope-2d",
): TrainableEncoding {
  checkHeadDim(params.headDim, path);
  if (params.headDim !== dims.headDim) {
    throw new PosencConfigError(
      "conflict",
      `${path}.headDim`,
      params.headDim,
      `the model's head size ${dims.headDim}`,
    );
  }
  const { headDim, base } = params;
  return {
    id: "rope-2d",
    parameters: () => [],
    transformQK: rotaryFromTables(
      "rope-2d",
      dims,
      { layout: "interleaved", pairs: headDim / 2, coordinates: 2 },
      (row) => axialRopeTables(row, headDim, base),
    ),
  };
}

export const rope2dSpec = defineEncoding({
  id: "rope-2d",
  name: "Axial 2-D RoPE",
  family: "rotary",
  paper: { title: "Rotary Position Embedding for Vision Transformer", arxiv: "2403.13298", year: 2024 },
  formula:
    "theta_k = base^(-4k/Dh), k < Dh/4; pair k rotates by col * theta_k, pair Dh/4 + k by row * theta_k (interleaved pairs)",
  summary:
    "RoPE on each image axis: half the rotary pairs turn with the column, half with the row, so attention sees (dr, dc).",
  slots: ["transformQK"],
  positionCoordinates: 2,
  params: ROPE_2D_PARAMS,
  modelParams: (dims) => ({ headDim: dims.headDim }),
  trainable: rope2dTrainable,
  create(params, path = "rope-2d"): PositionalEncoding {
    const p = resolveParams(path, ROPE_2D_PARAMS, params);
    checkHeadDim(p.headDim, path);
    return {
      id: "rope-2d",
      params: Object.freeze(p),
      /** x [T, H, Dh]; `positions` are [T, 2] = (row, col) row-major (2T values). */
      transformQK(x, positions, numHeads, headDim) {
        if (headDim !== p.headDim || positions.length * numHeads * headDim !== 2 * x.length) {
          throw new RangeError(
            `rope-2d: x of ${x.length} values needs headDim ${p.headDim} and 2 ids (row, col) per token, got headDim ${headDim} and ${positions.length} ids`,
          );
        }
        applyAxialRope(x, positions, numHeads, headDim, p.base);
      },
    };
  },
});
