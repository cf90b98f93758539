/**
 * Dynamic Position Encoding (DPE), from "Dynamic Position Encoding for Transformers" (Zheng, Rezagholizadeh,
 * Passban, COLING 2022), arXiv:2204.08142. No code was published; the method section's equations could not be read
 * here (only the abstract and introduction): the form below is a reconstruction, marked as such.
 *
 * Idea (abstract): instead of fixed sinusoidal positions, a small network generates input-dependent position
 * embeddings that "refine each word's position information", learned end to end and pushed by an auxiliary
 * objective towards the order of the target-side words (NMT: source positions that reflect target word order).
 * Reconstruction:
 *   x = E + P                                   token embeddings plus sinusoidal positions (Vaswani et al.)
 *   P' = P + Delta(x)                           refined, content-dependent positions
 *   Delta(x) = A(LN(x)) + F(LN(x + A(LN(x))))   the residual branches of one Transformer encoder layer (own
 *                                               weights; self-attention A causal in a decoder, F a GELU MLP 4D)
 *   input of the first block: E + P' = x + Delta(x)
 * with A's and F's output projections zero at initialisation, so DPE starts as the sinusoidal encoding.
 * The auxiliary order loss (reconstruction): L_order = mean_t || P'_t - P(pi_t) ||^2 / D with pi_t the position the
 * target order gives token t (from word alignments of the parallel sentence) and P(.) the sinusoidal table
 * (`dpeOrderLoss`, the math only). NOT in training: the lab cannot express it. Missing, precisely:
 *   (1) a hook for an encoding to add a term to the training loss (TrainableEncoding has none; the lab's train
 *       step in src/lab minimises the task's cross-entropy only), and
 *   (2) per-token target-order positions pi in the batch: the lab has no parallel-text/alignment task (a
 *       synthetic reordering task, e.g. reverse_string with pi_t = T - 1 - t, could supply them as task ids).
 * Without (1) and (2) DPE here is "sinusoidal positions refined by one extra encoder layer, end to end".
 *
 * Slots: (a) embedding adds P; (f) layerInput at layer 0 adds Delta(x).
 */
import {
  add,
  attention,
  constantParameter,
  gelu,
  layerNorm,
  matmul,
  mergeHeads,
  type Parameter,
  splitHeads,
  type Tensor,
  uniformParameter,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { sinusoidalEncoding, sinusoidalSpec } from "./sinusoidal.js";
import { fixedTrainable, type ModelDims, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** One dense layer x W + b, W [in, out]. */
export interface Dense<T> {
  weight: T;
  bias: T;
}

/** The refiner's weights: one pre-norm Transformer encoder layer's branches (no residual of its own). */
export interface DpeRefiner<T> {
  norm1: { weight: T; bias: T };
  query: Dense<T>;
  key: Dense<T>;
  value: Dense<T>;
  output: Dense<T>;
  norm2: { weight: T; bias: T };
  fc: Dense<T>;
  proj: Dense<T>;
}

const dense = (x: Tensor, d: Dense<Tensor>) => add(matmul(x, d.weight), d.bias);

/**
 * Delta(x) for x [B, T, D]: A(LN1(x)) + F(LN2(x + A(LN1(x)))), A multi-head self-attention (causal when `causal`).
 */
export function dpeDelta(x: Tensor, w: DpeRefiner<Tensor>, numHeads: number, causal: boolean): Tensor {
  const h = layerNorm(x, w.norm1.weight, w.norm1.bias);
  const [q, k, v] = [w.query, w.key, w.value].map((d) => splitHeads(dense(h, d), 1, numHeads)[0]);
  const a = dense(mergeHeads(attention(q!, k!, v!, { causal })), w.output);
  const f = dense(gelu(dense(layerNorm(add(x, a), w.norm2.weight, w.norm2.bias), w.fc)), w.proj);
  return add(a, f);
}

/**
 * The reconstructed order loss over plain arrays: refined positions P' [T, D] against the sinusoidal embeddings
 * of the target-order positions pi [T]: mean over t and channels of (P'_t - P(pi_t))^2.
 */
export function dpeOrderLoss(
  refined: ArrayLike<number>,
  targetOrder: ArrayLike<number>,
  dModel: number,
): number {
  const T = targetOrder.length;
  if (refined.length !== T * dModel) {
    throw new RangeError(
      `dpeOrderLoss: refined needs T * dModel = ${T * dModel} values, received ${refined.length}`,
    );
  }
  const target = sinusoidalEncoding(targetOrder, dModel);
  let s = 0;
  for (let n = 0; n < T * dModel; n++) s += (refined[n] - target[n]) ** 2;
  return s / (T * dModel);
}

const DPE_PARAMS = {
  mlpRatio: {
    type: "number",
    description: "Hidden width of the refiner's MLP as a multiple of dModel (a Transformer layer's 4).",
    default: 4,
    min: 0,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

function createDpeTrainable(params: { mlpRatio: number }, dims: ModelDims, rng: Rng): TrainableEncoding {
  const D = checkNumber("dims.dModel", dims.dModel, { integer: true, min: 2 });
  const hidden = Math.max(1, Math.round(params.mlpRatio * D));
  const name = (n: string) => `dpe.refiner.${n}`;
  const uniformDense = (n: string, inF: number, outF: number): Dense<Parameter> => {
    const bound = 1 / Math.sqrt(inF);
    return {
      weight: uniformParameter(rng, [inF, outF], -bound, bound, name(`${n}.weight`)),
      bias: uniformParameter(rng, [outF], -bound, bound, name(`${n}.bias`)),
    };
  };
  const zeroDense = (n: string, inF: number, outF: number): Dense<Parameter> => ({
    weight: constantParameter([inF, outF], 0, name(`${n}.weight`)),
    bias: constantParameter([outF], 0, name(`${n}.bias`)),
  });
  const norm = (n: string) => ({
    weight: constantParameter([D], 1, name(`${n}.weight`)),
    bias: constantParameter([D], 0, name(`${n}.bias`)),
  });
  const w: DpeRefiner<Parameter> = {
    norm1: norm("norm1"),
    query: uniformDense("query", D, D),
    key: uniformDense("key", D, D),
    value: uniformDense("value", D, D),
    output: zeroDense("output", D, D),
    norm2: norm("norm2"),
    fc: uniformDense("fc", D, hidden),
    proj: zeroDense("proj", hidden, D),
  };
  const sinusoidal = fixedTrainable(sinusoidalSpec, {}, dims);
  const all = Object.values(w).flatMap((p: { weight: Parameter; bias: Parameter }) => [p.weight, p.bias]);
  return {
    id: "dpe",
    parameters: () => all,
    embedding: sinusoidal.embedding,
    layerInput: (x, _ids, layer) => (layer === 0 ? add(x, dpeDelta(x, w, dims.numHeads, dims.causal)) : x),
  };
}

export const dpeSpec = defineEncoding({
  id: "dpe",
  name: "Dynamic Position Encoding (refined sinusoidal positions; order loss not trained)",
  family: "absolute",
  paper: { title: "Dynamic Position Encoding for Transformers", arxiv: "2204.08142", year: 2022 },
  formula:
    "first block input E + P + Delta(E + P), Delta = one encoder layer's attention + MLP branches (reconstruction); the paper's target-order loss is not trained",
  summary:
    "Refines sinusoidal positions with a small content-dependent network before the first block (reconstruction; the paper's auxiliary target-order loss needs a loss hook and alignments the lab lacks).",
  slots: ["embedding", "layerInput"],
  params: DPE_PARAMS,
  create(params, path = "dpe"): PositionalEncoding {
    const p = resolveParams(path, DPE_PARAMS, params);
    // The sinusoidal part is framework-free; the refiner needs the layer input (trainable form only).
    return {
      id: "dpe",
      params: Object.freeze(p),
      embedding: (positions, dModel) => sinusoidalEncoding(positions, dModel),
    };
  },
  trainable: (params, dims, rng) => createDpeTrainable(params, dims, rng),
});
