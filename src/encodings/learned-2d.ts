/**
 * A learned 2-D position table, the position embedding of the Vision Transformer: "An Image is Worth 16x16 Words:
 * Transformers for Image Recognition at Scale" (Dosovitskiy et al., ICLR 2021), arXiv:2010.11929:
 *
 *   x_(r,c) = patchEmbedding_(r,c) + P[r, c],    P a learned [rows, cols, dModel] table (the trained grid)
 *
 * Larger (or smaller) grids: like ViT/DeiT fine-tuned at a higher resolution (ViT section 3.2, "2D interpolation of
 * the pre-trained position embeddings"; timm's `resample_abs_pos_embed`; the APE path of naver-ai/rope-vit's
 * models_v2_rope.py), the table is resized to the example's grid by PyTorch's `F.interpolate(mode="bicubic",
 * align_corners=False)`, separably per axis:
 *
 *   P'[r', c'] = sum_i sum_j w_rows[r', i] w_cols[c', j] P[i, j]
 *   bicubic:  s = (r' + 0.5) * rows / rows' - 0.5,  i0 = floor(s),  t = s - i0,  taps i0-1 .. i0+2 (clamped to the
 *             table) weighted by Keys' cubic convolution with A = -0.75 (PyTorch's constant)
 *   nearest:  i = min(floor(r' * rows / rows'), rows - 1)               (PyTorch's "nearest")
 *
 * The grid of an example is read from its ids: rows' = max row + 1, cols' = max col + 1. At the trained grid the
 * bicubic weights are exactly one-hot (t = 0), so training looks up P itself. The resize is a constant matrix M
 * [T, rows * cols] times the table, so gradients reach P at any grid.
 */
import { matmul, normalParameter, type Parameter, reshape, type Tensor, tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type ModelDims, PerForward, RowTableCache, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type ParamValues, type PositionalEncoding, resolveParams } from "./types.js";

export type GridResize = "bicubic" | "nearest";

/** PyTorch's cubic convolution constant (aten/src/ATen/native/UpSample.h, A = -0.75). */
const CUBIC_A = -0.75;

function cubicWeights(t: number): [number, number, number, number] {
  const A = CUBIC_A;
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2
  const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| <= 1
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * Resize weights [outSize, inSize] along one axis (PyTorch F.interpolate, align_corners=False): row o holds the
 * weight of each input index for output index o.
 */
export function resizeWeights(inSize: number, outSize: number, mode: GridResize): Float64Array {
  const w = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    if (mode === "nearest") {
      w[o * inSize + Math.min(Math.floor(o * scale), inSize - 1)] = 1;
      continue;
    }
    const s = (o + 0.5) * scale - 0.5; // not clamped at 0 for cubic (PyTorch's area_pixel_compute_source_index)
    const i0 = Math.floor(s);
    const taps = cubicWeights(s - i0);
    for (let k = 0; k < 4; k++) {
      const i = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      w[o * inSize + i] += taps[k]!;
    }
  }
  return w;
}

/** The grid [rows', cols'] of ids [T, 2] (max + 1 per axis); ids must be integers >= 0. */
export function gridOfIds(ids: ArrayLike<number>, path = "learned-2d"): [number, number] {
  let rows = 0;
  let cols = 0;
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (!(Number.isInteger(v) && v >= 0)) {
      throw new PosencConfigError(
        "invalid_value",
        `${path} position id`,
        v,
        `an integer >= 0 (index ${i} of the [T, 2] = (row, col) ids)`,
      );
    }
    if (i % 2 === 0) rows = Math.max(rows, v + 1);
    else cols = Math.max(cols, v + 1);
  }
  return [rows, cols];
}

/**
 * M [T, rows * cols] for ids [T, 2]: token t's embedding is M[t] . P (P row-major [rows * cols, dModel]), the table
 * resized to the ids' grid and read at (row_t, col_t).
 */
export function learned2dLookupMatrix(
  ids: ArrayLike<number>,
  rows: number,
  cols: number,
  mode: GridResize,
): Float32Array {
  const [gridRows, gridCols] = gridOfIds(ids);
  const wr = resizeWeights(rows, gridRows, mode);
  const wc = resizeWeights(cols, gridCols, mode);
  const T = ids.length / 2;
  const m = new Float32Array(T * rows * cols);
  for (let t = 0; t < T; t++) {
    const r = ids[2 * t]!;
    const c = ids[2 * t + 1]!;
    for (let i = 0; i < rows; i++) {
      const a = wr[r * rows + i]!;
      if (a === 0) continue;
      for (let j = 0; j < cols; j++) m[(t * rows + i) * cols + j] = a * wc[c * cols + j]!;
    }
  }
  return m;
}

/** Embeddings [T, dModel] of ids [T, 2] from a table [rows * cols, dModel] (float64, for the library form). */
export function learned2dEmbedding(
  table: ArrayLike<number>,
  rows: number,
  cols: number,
  dModel: number,
  ids: ArrayLike<number>,
  mode: GridResize = "bicubic",
): Float32Array {
  const m = learned2dLookupMatrix(ids, rows, cols, mode);
  const T = ids.length / 2;
  const out = new Float32Array(T * dModel);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < rows * cols; k++) {
      const w = m[t * rows * cols + k]!;
      if (w === 0) continue;
      for (let d = 0; d < dModel; d++) out[t * dModel + d] += w * table[k * dModel + d]!;
    }
  }
  return out;
}

const LEARNED_2D_PARAMS = {
  rows: {
    type: "integer",
    description: "Table rows: the trained grid's height. The vision encoder fills in its training grid.",
    default: 8,
    min: 1,
  },
  cols: {
    type: "integer",
    description: "Table columns: the trained grid's width. The vision encoder fills in its training grid.",
    default: 8,
    min: 1,
  },
  resize: {
    type: "string",
    description:
      'How the table meets another grid: "bicubic" (ViT/DeiT/timm, F.interpolate align_corners=False) or "nearest".',
    default: "bicubic",
    choices: ["bicubic", "nearest"],
  },
  initStd: {
    type: "number",
    description: "Std of the N(0, std^2) init (0.02: ViT/timm's trunc_normal_ std, untruncated here).",
    default: 0.02,
    min: 0,
  },
} as const;

function learned2dTrainable(
  params: ParamValues<typeof LEARNED_2D_PARAMS>,
  dims: ModelDims,
  rng: Rng,
): TrainableEncoding {
  const { rows, cols, resize } = params;
  const table: Parameter = normalParameter(
    rng,
    [rows * cols, dims.dModel],
    params.initStd,
    "learned-2d.table",
  );
  const cache = new RowTableCache((row) => learned2dLookupMatrix(row, rows, cols, resize));
  const perForward = new PerForward<Tensor>();
  return {
    id: "learned-2d",
    parameters: () => [table],
    embedding(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        const { data, rows: examples } = cache.get(ids, batchSize, seqLen * 2);
        const m = tensor(data, [examples * seqLen, rows * cols]);
        return reshape(matmul(m, table), [examples, seqLen, dims.dModel]); // (B or 1, T, D)
      });
    },
  };
}

export const learned2dSpec = defineEncoding({
  id: "learned-2d",
  name: "Learned 2-D table",
  family: "absolute",
  paper: {
    title: "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
    arxiv: "2010.11929",
    year: 2020,
  },
  formula:
    "x_(r,c) += P[r, c], P a learned [rows, cols, dModel] table; other grids: P resized bicubically (align_corners=False)",
  summary:
    "ViT's learned position table over the patch grid, resized by bicubic interpolation to a larger test grid.",
  slots: ["embedding"],
  positionCoordinates: 2,
  params: LEARNED_2D_PARAMS,
  modelParams: (dims) => (dims.grid ? { rows: dims.grid[0], cols: dims.grid[1] } : {}),
  trainable: learned2dTrainable,
  create(params, path = "learned-2d"): PositionalEncoding {
    const p = resolveParams(path, LEARNED_2D_PARAMS, params);
    return {
      id: "learned-2d",
      params: Object.freeze(p),
      /** A learned table has no values before training: the framework-free form checks the ids and adds zeros. */
      embedding(positions, dModel) {
        gridOfIds(positions, path);
        return new Float32Array((positions.length / 2) * dModel);
      },
    };
  },
});
