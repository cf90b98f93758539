/**
 * Conditional position encoding (CPE) through a position encoding generator (PEG), from "Conditional Positional
 * Encodings for Vision Transformers" (Chu et al., ICLR 2023), arXiv:2102.10882. The official PEG is
 * `PosCNN` in Meituan-AutoML/Twins (gvt.py; CPVT's own repository holds only a README), copied into timm's twins.py.
 *
 *   PEG(X) = X + DWConv_KxK(X laid out on its (row, column) grid),   zero padding K // 2, stride 1, bias
 *
 * a depthwise convolution (one K x K filter per channel) of the tokens over their 2-D grid, applied once, to the
 * input of one block (CPVT and Twins: after the first block of the encoder, `layer` = 1 here). The encoding is
 * conditioned on the content and on the neighbourhood, so it is translation-equivariant and runs on any grid size;
 * the zero padding is what tells a token where the border, and hence its absolute position, is.
 *
 * Layout: position ids are [B, T, 2] (row, column) integers, one token per cell; a cell with no token (a ragged or
 * smaller grid in a batch) reads as zero, the same as the padding. The class token of CPVT bypasses the PEG there;
 * here every token is on the grid (a task with a class token gives it a cell of its own or uses no PEG).
 * Trainable form: slot (f) layerInput, in a bidirectional encoder only (a decoder is refused: the kernel would read
 * later tokens); the framework-free form is `conditionalPositionEncoding` over plain numbers.
 */
import {
  add,
  concat,
  depthwiseConv2d,
  embedding,
  type Parameter,
  reshape,
  type Tensor,
  uniformParameter,
  zeros,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import { checkGridIds, exampleIds, tokenGrid } from "./grid-positions.js";
import type { TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/**
 * PEG on one example: x [T, D] row-major, ids [T, 2], weight [K, K, D] (PyTorch's Conv2d(D, D, K, groups=D) weight
 * [D, 1, K, K] transposed), bias [D]. Returns x + DWConv(x on the grid) as [T, D], in float64.
 */
export function conditionalPositionEncoding(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  kernelSize: number,
): Float64Array {
  const D = bias.length;
  const T = x.length / D;
  const K = kernelSize;
  const grid = tokenGrid("cpe", ids, T);
  const half = (K - 1) / 2;
  const out = Float64Array.from(x);
  for (let t = 0; t < T; t++) {
    const cell = grid.tokenCell[t]!;
    const r = Math.floor(cell / grid.cols);
    const c = cell % grid.cols;
    for (let d = 0; d < D; d++) out[t * D + d] += bias[d]!;
    for (let u = 0; u < K; u++) {
      for (let v = 0; v < K; v++) {
        const rr = r + u - half;
        const cc = c + v - half;
        if (rr < 0 || rr >= grid.rows || cc < 0 || cc >= grid.cols) continue; // zero padding
        const other = grid.cellToken[rr * grid.cols + cc]!;
        if (other < 0) continue; // an empty cell reads as zero
        for (let d = 0; d < D; d++) out[t * D + d] += weight[(u * K + v) * D + d]! * x[other * D + d]!;
      }
    }
  }
  return out;
}

/**
 * Gather indices that lay the batch out on one grid (the largest rows and columns of any example) and read it back:
 * `toGrid` [B * H * W] indexes rows of [x as B*T rows | one zero row], `fromGrid` [B * T] rows of the grid.
 */
export function gridGather(ids: Float64Array, batchSize: number, seqLen: number) {
  const grids = Array.from({ length: batchSize }, (_, b) =>
    tokenGrid("cpe", exampleIds(ids, b, seqLen), seqLen),
  );
  const H = Math.max(...grids.map((g) => g.rows));
  const W = Math.max(...grids.map((g) => g.cols));
  const zeroRow = batchSize * seqLen;
  const toGrid = new Int32Array(batchSize * H * W).fill(zeroRow);
  const fromGrid = new Int32Array(batchSize * seqLen);
  grids.forEach((g, b) => {
    for (let t = 0; t < seqLen; t++) {
      const cell = g.tokenCell[t]!;
      const r = Math.floor(cell / g.cols);
      const c = cell % g.cols;
      const at = (b * H + r) * W + c;
      toGrid[at] = b * seqLen + t;
      fromGrid[b * seqLen + t] = at;
    }
  });
  return { H, W, toGrid, fromGrid };
}

/** PEG over engine tensors: x [B, T, D] -> x + DWConv(x on each example's grid), gradients to x, weight and bias. */
export function pegTensor(x: Tensor, weight: Tensor, bias: Tensor, ids: Float64Array): Tensor {
  const [B, T, D] = x.shape as [number, number, number];
  checkGridIds("cpe", ids, B, T);
  const { H, W, toGrid, fromGrid } = gridGather(ids, B, T);
  const rowsWithZero = concat([reshape(x, [B * T, D]), zeros([1, D])], 0);
  const grid = embedding(rowsWithZero, toGrid, [B, H, W]); // [B, H, W, D]
  const conv = reshape(depthwiseConv2d(grid, weight, bias), [B * H * W, D]);
  return add(x, embedding(conv, fromGrid, [B, T]));
}

const CPE_PARAMS = {
  layer: {
    type: "integer",
    min: 0,
    default: 1,
    description:
      "the block whose input the PEG transforms (1 = after the first block, as CPVT and Twins; 0 = on the embeddings)",
  },
  kernelSize: {
    type: "integer",
    min: 1,
    default: 3,
    description: "side K of the depthwise K x K kernel (odd)",
  },
} as const satisfies EncodingSpec["params"];

function checkKernel(path: string, kernelSize: number): void {
  if (kernelSize % 2 !== 1) {
    throw new PosencConfigError("invalid_value", `${path}.kernelSize`, kernelSize, "an odd integer >= 1");
  }
}

export const cpeSpec = defineEncoding({
  id: "cpe",
  name: "CPE / PEG (conditional position encoding)",
  family: "absolute",
  paper: {
    title: "Conditional Positional Encodings for Vision Transformers",
    arxiv: "2102.10882",
    year: 2021,
  },
  formula: "x <- x + DWConv_KxK(x on its (row, column) grid), zero padding, at the input of block `layer`",
  summary:
    "A depthwise convolution over the token grid generates positions from each token's neighbourhood; zero padding gives the borders, so it runs on any grid size.",
  slots: ["layerInput"],
  params: CPE_PARAMS,
  positionCoordinates: 2,
  create(params, path = "cpe") {
    const p = resolveParams(path, CPE_PARAMS, params);
    checkKernel(path, p.kernelSize);
    return { id: "cpe", params: Object.freeze({ ...p }) };
  },
  trainable(p, dims, rng, path = "cpe"): TrainableEncoding {
    checkKernel(path, p.kernelSize);
    if (dims.causal) {
      throw new PosencConfigError(
        "invalid_value",
        `${path.replace(/\.params$/, "")}.id`,
        "cpe",
        "an encoding for a bidirectional encoder (the convolution reads the neighbours on every side, later tokens too)",
      );
    }
    if (p.layer >= dims.numLayers) {
      throw new PosencConfigError(
        "out_of_range",
        `${path}.layer`,
        p.layer,
        `a block index in 0..${dims.numLayers - 1} (the model has ${dims.numLayers} layers)`,
      );
    }
    const K = p.kernelSize;
    const D = dims.dModel;
    // PyTorch's Conv2d init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = K * K for a depthwise filter.
    const bound = 1 / K;
    const weight = uniformParameter(rng, [K, K, D], -bound, bound, "cpe.weight");
    const bias = uniformParameter(rng, [D], -bound, bound, "cpe.bias");
    return {
      id: "cpe",
      parameters: (): Parameter[] => [weight, bias],
      layerInput: (x, ids, layer) => (layer === p.layer ? pegTensor(x, weight, bias, ids) : x),
    };
  },
});
