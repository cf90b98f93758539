/**
 * Dynamic Position Encoding (DPE), from "Dynamic Position Encoding for Transformers" (Zheng, Rezagholizadeh,
 * Passban, COLING 2022), arXiv:2204.08142. The authors published no code.
 *
 * From the paper (abstract and §1, the parts of the text that could be read here; the stored copies of the page
 * end before the method section, so §3's equations were NOT read):
 *   - fixed position embeddings ignore "the word ordering system of the source and target languages";
 *   - DPE "generates new embeddings to refine each word's position information", depending on the input text;
 *   - these positions "take the order of the target words into consideration" (motivated by Chen et al. 2020:
 *     source sentences enriched with target-order information translate better), and are learned end to end;
 *   - evaluated on NMT, English into German, French and Italian, against the Transformer with sinusoidal positions.
 * Reconstruction (everything below the level of those sentences: architecture, where P' enters, the loss, its weight):
 *   x = E + P                                   token embeddings plus sinusoidal positions (Vaswani et al.)
 *   P' = P + Delta(x)                           refined, content-dependent positions
 *   Delta(x) = A(LN(x)) + F(LN(x + A(LN(x))))   the residual branches of one Transformer encoder layer (own
 *                                               weights; self-attention A causal in a decoder, F a GELU MLP)
 *   input of the first block: E + P' = x + Delta(x)
 * with A's and F's output projections zero at initialisation, so DPE starts as the sinusoidal encoding.
 * The order loss that pushes P' towards the target order ("order loss", reconstruction):
 *   L_order = sum_{t in S} || P'_t - P(pi_t) ||^2 / (|S| D),   S = the tokens whose target-order position pi_t is
 *                                                               defined (pi_t >= 0), D = dModel
 *   training loss = task cross-entropy + lambda L_order,       lambda = params.orderLossWeight (default 1: the
 *                                                               paper's value was not read; 0 = no order loss)
 * pi_t is where token t stands once the input is put in the answer's order (NMT: the source reordered into target
 * word order; reverse_string: the reversed input; copy: pi_t = t; odds_first). The task supplies pi through the batch
 * (`targetOrder`); tasks without it train DPE on the cross-entropy alone. In a causal decoder Delta_t sees tokens
 * <= t only, so where pi_t depends on later tokens (reverse_string: on the length n) L_order cannot reach 0; the
 * encoder layout (bidirectional, like the NMT source encoder the paper refines) can.
 *
 * Slots: (a) embedding adds P; (f) layerInput at layer 0 adds Delta(x); auxiliaryLoss returns lambda L_order for the
 * forward pass that computed Delta (kept only when gradients are on).
 */
import {
  add,
  attention,
  constantParameter,
  gelu,
  isGradEnabled,
  layerNorm,
  matmul,
  mergeHeads,
  mul,
  type Parameter,
  splitHeads,
  sub,
  sum,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { sinusoidalEncoding, sinusoidalSpec } from "./sinusoidal.js";
import {
  type AuxiliaryLossInput,
  fixedTrainable,
  type ModelDims,
  type TrainableEncoding,
} from "./trainable.js";
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
 * The order loss over plain arrays (the reference of the tensor form): refined positions P' [T, D] against the
 * sinusoids of the target-order positions pi [T]: sum over the tokens with pi_t >= 0 and their channels of
 * (P'_t - P(pi_t))^2, divided by (that many tokens) * D; 0 when no token has a target-order position.
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
  const defined = Array.from({ length: T }, (_, t) => t).filter((t) => targetOrder[t] >= 0);
  if (defined.length === 0) return 0;
  const target = sinusoidalEncoding(
    defined.map((t) => targetOrder[t]),
    dModel,
  );
  let s = 0;
  defined.forEach((t, n) => {
    for (let c = 0; c < dModel; c++) s += (refined[t * dModel + c] - target[n * dModel + c]) ** 2;
  });
  return s / (defined.length * dModel);
}

/**
 * The order loss as a tensor: refined [B or 1, T, D] positions P' against the sinusoids of targetOrder [B, T]
 * (-1 where undefined), scaled by `weight`; null when no token has a target-order position. The targets and the
 * token mask are constants, so gradients flow into P' only (that is, into the refiner's weights and, through x,
 * into the token embeddings).
 */
export function dpeOrderLossTensor(
  refined: Tensor,
  targetOrder: Float64Array,
  batchSize: number,
  seqLen: number,
  weight = 1,
): Tensor | null {
  const D = refined.shape[refined.shape.length - 1]!;
  if (targetOrder.length !== batchSize * seqLen) {
    throw new RangeError(
      `dpe order loss: targetOrder holds ${targetOrder.length} values, expected batchSize * seqLen = ${batchSize * seqLen}`,
    );
  }
  const tokens: number[] = [];
  for (let i = 0; i < targetOrder.length; i++) if (targetOrder[i]! >= 0) tokens.push(i);
  if (tokens.length === 0) return null;
  const table = sinusoidalEncoding(
    tokens.map((i) => targetOrder[i]!),
    D,
  );
  const target = new Float64Array(batchSize * seqLen * D);
  const mask = new Float64Array(batchSize * seqLen);
  tokens.forEach((i, n) => {
    target.set(table.subarray(n * D, (n + 1) * D), i * D);
    mask[i] = 1;
  });
  const diff = sub(refined, tensor(target, [batchSize, seqLen, D]));
  const masked = mul(mul(diff, diff), tensor(mask, [batchSize, seqLen, 1]));
  return mul(sum(masked), weight / (tokens.length * D));
}

const DPE_PARAMS = {
  orderLossWeight: {
    type: "number",
    description:
      "Weight lambda of the order loss added to the training loss (reconstruction; the paper's value was not read): 0 trains on the task loss alone; used where the task supplies target-order positions (reverse_string, copy, odds_first).",
    default: 1,
    min: 0,
  },
  mlpRatio: {
    type: "number",
    description: "Hidden width of the refiner's MLP as a multiple of dModel (a Transformer layer's 4).",
    default: 4,
    min: 0,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

function createDpeTrainable(
  params: { mlpRatio: number; orderLossWeight: number },
  dims: ModelDims,
  rng: Rng,
): TrainableEncoding {
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
  // Delta of the last forward pass with gradients on, by the identity of its ids array (for the order loss).
  let last: { ids: Float64Array; delta: Tensor } | null = null;
  const auxiliaryLoss = ({ positionIds, batchSize, seqLen, targetOrder }: AuxiliaryLossInput) => {
    if (params.orderLossWeight === 0 || !targetOrder || !last || last.ids !== positionIds) return undefined;
    if (last.delta.disposed) return undefined;
    const P = sinusoidal.embedding!(positionIds, batchSize, seqLen); // cached for this forward: the same P
    const refined = add(P, last.delta); // P' = P + Delta(x)
    return dpeOrderLossTensor(refined, targetOrder, batchSize, seqLen, params.orderLossWeight) ?? undefined;
  };
  return {
    id: "dpe",
    parameters: () => all,
    embedding: sinusoidal.embedding,
    layerInput(x, ids, layer) {
      if (layer !== 0) return x;
      const delta = dpeDelta(x, w, dims.numHeads, dims.causal);
      last = isGradEnabled() ? { ids, delta } : null;
      return add(x, delta);
    },
    auxiliaryLoss,
  };
}

export const dpeSpec = defineEncoding({
  id: "dpe",
  name: "Dynamic Position Encoding (refined sinusoidal positions, target-order loss)",
  family: "absolute",
  paper: { title: "Dynamic Position Encoding for Transformers", arxiv: "2204.08142", year: 2022 },
  formula:
    "first block input E + P', P' = P + Delta(E + P), Delta = one encoder layer's attention + MLP branches; loss + lambda mean_t ||P'_t - P(pi_t)||^2 / D over tokens with a target-order position pi_t (reconstruction)",
  summary:
    "Refines sinusoidal positions with a small content-dependent network before the first block, trained towards the positions the answer's order gives the input (pi from the task: reverse_string, copy, odds_first); architecture and loss are a reconstruction, the method section was not readable.",
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
