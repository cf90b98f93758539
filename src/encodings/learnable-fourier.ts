/**
 * Learnable Fourier features, transformer form, from "Learnable Fourier Features for Multi-Dimensional Spatial
 * Positional Encoding" (Li, Si, Li, Hsieh and Bengio, NeurIPS 2021), arXiv:2106.02795, Algorithm 1 (G = 1 group):
 *
 *   r(x) = 1/sqrt(F) [cos(x W_r^T), sin(x W_r^T)]      x = (row, column), W_r [F/2, 2] learnable
 *   PE(x) = W_2 GeLU(W_1 r(x) + b_1) + b_2             added to the token embedding (slot a)
 *
 * Two registries hold this paper: this one (positional encodings of the transformer) holds the full form, features
 * then the MLP, on 2-D position ids; the coordinate-encoding registry (src/encodings/coordinate, neural fields) holds
 * the MLP-free feature map r(x) under the same id, the field's MLP playing the paper's MLP.
 *
 * Choices, stated: no official code exists; W_r is initialised N(0, 1/gamma^2) (std 1/gamma: the paper's
 * N(0, gamma^-2) read as a variance), and positions enter as the raw integer (row, column) ids, so W_r is in radians
 * per cell (gamma = 1 by default: frequencies of order one radian per cell); GeLU is the engine's tanh form (GPT-2's;
 * PyTorch's nn.GELU default is the erf form, within 1e-3). The MLP layers use PyTorch's nn.Linear init.
 * The paper's G position groups (several positions per token) are not needed here: one (row, column) per token.
 */
import {
  concat,
  cos,
  gelu,
  linear,
  matmul,
  mul,
  normalParameter,
  type Parameter,
  reshape,
  sin,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import { checkGridIds } from "./grid-positions.js";
import { PerForward, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** The weights of one learnable Fourier encoding, row-major: wr [2, F/2] (W_r transposed), w1 [F, hidden], w2 [hidden, D]. */
export interface FourierWeights {
  wr: ArrayLike<number>;
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

/** GPT-2's tanh GeLU, the engine's `gelu`. */
function geluTanh(v: number): number {
  return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
}

/** PE for ids [T, 2] (row, column): [T, D] row-major, in float64. `half` = F/2, `hidden` the MLP width. */
export function learnableFourierEmbedding(
  ids: ArrayLike<number>,
  w: FourierWeights,
  half: number,
  hidden: number,
): Float64Array {
  const T = ids.length / 2;
  const F = 2 * half;
  const D = w.b2.length;
  const out = new Float64Array(T * D);
  const r = new Float64Array(F);
  const h = new Float64Array(hidden);
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < half; f++) {
      const angle = ids[2 * t]! * w.wr[f]! + ids[2 * t + 1]! * w.wr[half + f]!;
      r[f] = Math.cos(angle) / Math.sqrt(F); // cosines first, as Algorithm 1
      r[half + f] = Math.sin(angle) / Math.sqrt(F);
    }
    for (let j = 0; j < hidden; j++) {
      let acc = w.b1[j]!;
      for (let f = 0; f < F; f++) acc += r[f]! * w.w1[f * hidden + j]!;
      h[j] = geluTanh(acc);
    }
    for (let d = 0; d < D; d++) {
      let acc = w.b2[d]!;
      for (let j = 0; j < hidden; j++) acc += h[j]! * w.w2[j * D + d]!;
      out[t * D + d] = acc;
    }
  }
  return out;
}

/** PE over engine tensors: positions [N, 2] -> [N, D]; gradients reach every weight. */
export function learnableFourierTensor(
  positions: Tensor,
  p: { wr: Tensor; w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor },
): Tensor {
  const F = 2 * p.wr.shape[1]!;
  const angles = matmul(positions, p.wr); // [N, F/2]
  const features = mul(concat([cos(angles), sin(angles)], -1), 1 / Math.sqrt(F));
  return linear(gelu(linear(features, p.w1, p.b1)), p.w2, p.b2);
}

const LEARNABLE_FOURIER_PARAMS = {
  features: { type: "integer", min: 1, default: 32, description: "F/2: rows of W_r (F Fourier features)" },
  hidden: { type: "integer", min: 1, default: 32, description: "width of the MLP's hidden layer" },
  gamma: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    default: 1,
    description: "W_r is initialised N(0, 1/gamma^2) (radians per grid cell)",
  },
  weights: {
    type: "number[]",
    default: [],
    description:
      "framework-free form only: trained weights wr [2, F/2], w1 [F, hidden], b1 [hidden], w2 [hidden, D], b2 [D] concatenated ([] = zeros)",
  },
} as const satisfies EncodingSpec["params"];

/** Splits the concatenated framework-free weights; their count must fit the sizes. */
function splitWeights(
  path: string,
  all: readonly number[],
  half: number,
  hidden: number,
  D: number,
): FourierWeights {
  const sizes = [2 * half, 2 * half * hidden, hidden, hidden * D, D];
  const total = sizes.reduce((a, b) => a + b, 0);
  const values = all.length === 0 ? new Array(total).fill(0) : all;
  if (values.length !== total) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.weights`,
      `${all.length} values`,
      `[] or 2F/2 + F*hidden + hidden + hidden*D + D = ${total} values for D = ${D}`,
    );
  }
  let at = 0;
  const [wr, w1, b1, w2, b2] = sizes.map((n) => values.slice(at, (at += n)));
  return { wr: wr!, w1: w1!, b1: b1!, w2: w2!, b2: b2! };
}

export const learnableFourier2dSpec = defineEncoding({
  id: "learnable-fourier",
  name: "Learnable Fourier features (2-D, with MLP)",
  family: "absolute",
  paper: {
    title: "Learnable Fourier Features for Multi-Dimensional Spatial Positional Encoding",
    arxiv: "2106.02795",
    year: 2021,
  },
  formula:
    "PE(x) = W2 GeLU(W1 [cos(x Wr^T), sin(x Wr^T)] / sqrt(F) + b1) + b2, x = (row, column), Wr learnable",
  summary:
    "Learned frequencies over the 2-D position then a small MLP give a continuous absolute embedding that is defined at any (row, column).",
  slots: ["embedding"],
  params: LEARNABLE_FOURIER_PARAMS,
  positionCoordinates: 2,
  create(params, path = "learnable-fourier"): PositionalEncoding {
    const p = resolveParams(path, LEARNABLE_FOURIER_PARAMS, params);
    return {
      id: "learnable-fourier",
      params: Object.freeze(p),
      embedding(positions, dModel) {
        const w = splitWeights(path, p.weights, p.features, p.hidden, dModel);
        return Float32Array.from(learnableFourierEmbedding(positions, w, p.features, p.hidden));
      },
    };
  },
  trainable(p, dims, rng): TrainableEncoding {
    const F = 2 * p.features;
    const D = dims.dModel;
    const linearInit = (fanIn: number, shape: number[], name: string) =>
      uniformParameter(rng, shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), name);
    const weights = {
      wr: normalParameter(rng, [2, p.features], 1 / p.gamma, "learnable-fourier.wr"),
      w1: linearInit(F, [F, p.hidden], "learnable-fourier.w1"),
      b1: linearInit(F, [p.hidden], "learnable-fourier.b1"),
      w2: linearInit(p.hidden, [p.hidden, D], "learnable-fourier.w2"),
      b2: linearInit(p.hidden, [D], "learnable-fourier.b2"),
    };
    const perForward = new PerForward<Tensor>();
    return {
      id: "learnable-fourier",
      parameters: (): Parameter[] => Object.values(weights),
      embedding(ids, batchSize, seqLen) {
        checkGridIds("learnable-fourier", ids, batchSize, seqLen);
        return perForward.get(ids, () =>
          reshape(learnableFourierTensor(tensor(Float32Array.from(ids), [batchSize * seqLen, 2]), weights), [
            batchSize,
            seqLen,
            D,
          ]),
        );
      },
    };
  },
});
