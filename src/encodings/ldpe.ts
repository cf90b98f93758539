/**
 * Precise Length Control in Large Language Models (Butcher, O'Keefe, Titchener, 2024), arXiv:2412.11937.
 *
 * LDPE, the length-difference positional encoding: a second sinusoidal encoding added to the input embeddings,
 * of the number of tokens left until the response must end, so the model learns to emit EOS when it reaches 0:
 *   x_t = E[w_t] + PE(t) + scale * PE(r_t),     r_t = L_target - (response tokens already written at t)
 * PE the sinusoidal encoding of "Attention Is All You Need" (./sinusoidal.ts). In the paper the base model keeps
 * its RoPE and only the LDPE term is new; here the base term PE(t) (`absolute`, default on) stands in for it,
 * because an encoding reading two coordinates cannot share its ids with a one-coordinate RoPE in one model. No
 * official code was found; the countdown follows the abstract ("counts down to a user-set response termination
 * length") and the paper notes; the paper's scale and offset variant (ORPE) were not checked.
 *
 * Position ids: two coordinates per token, (t, r_t), row-major [B, T, 2]. The countdown comes from the task layer
 * (src/tasks/orders.ts `countdownBatch`: the length target of each example is its answer length, r = the answer
 * tokens still to write after the token, 0 where the EOS is due). The framework-free hook reads [n, 2] rows.
 */
import { type Tensor, tensor } from "../engine/index.js";
import { sinusoidalEncoding } from "./sinusoidal.js";
import { checkPositionIds, type ModelDims, PerForward, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** PE(t) (when `absolute`) + scale * PE(r) for (t, r) rows [n, 2]: row-major [n, dModel]. */
export function ldpeEmbedding(
  ids: ArrayLike<number>,
  dModel: number,
  options: { scale: number; absolute: boolean },
): Float32Array {
  if (ids.length % 2 !== 0) {
    throw new RangeError(`ldpe: ids hold ${ids.length} values, expected [n, 2] (position, remaining)`);
  }
  const n = ids.length / 2;
  const positions = Float64Array.from({ length: n }, (_, i) => ids[2 * i]);
  const remaining = Float64Array.from({ length: n }, (_, i) => ids[2 * i + 1]);
  const countdown = sinusoidalEncoding(remaining, dModel);
  const out = options.absolute ? sinusoidalEncoding(positions, dModel) : new Float32Array(n * dModel);
  for (let i = 0; i < out.length; i++) out[i] += options.scale * countdown[i];
  return out;
}

const LDPE_PARAMS = {
  scale: {
    type: "number",
    description:
      "Multiplier of the countdown term PE(r) (the paper scales it before adding; value not checked).",
    default: 1,
    min: 0,
  },
  absolute: {
    type: "boolean",
    description: "Also add the base sinusoidal PE(t) (the stand-in for the paper's base RoPE).",
    default: true,
  },
} as const satisfies EncodingSpec["params"];

export const ldpeSpec = defineEncoding({
  id: "ldpe",
  name: "LDPE (length-difference countdown)",
  family: "absolute",
  paper: { title: "Precise Length Control in Large Language Models", arxiv: "2412.11937", year: 2024 },
  formula:
    "x_t = E[w_t] + PE(t) + scale * PE(r_t), r_t = tokens left to the length target (0 where EOS is due); ids (t, r_t)",
  summary:
    "Adds a sinusoidal countdown to a target response length to the input, so the model ends its answer at the length asked.",
  slots: ["embedding"],
  positionCoordinates: 2,
  params: LDPE_PARAMS,
  create(params, path = "ldpe"): PositionalEncoding {
    const p = resolveParams(path, LDPE_PARAMS, params);
    return {
      id: "ldpe",
      params: Object.freeze(p),
      embedding: (positions, dModel) => ldpeEmbedding(positions, dModel, p),
    };
  },
  trainable(params, dims: ModelDims): TrainableEncoding {
    const perForward = new PerForward<Tensor>();
    return {
      id: "ldpe",
      parameters: () => [],
      embedding(ids, batchSize, seqLen) {
        checkPositionIds("ldpe", ids, batchSize, 2 * seqLen);
        return perForward.get(ids, () =>
          tensor(ldpeEmbedding(ids, dims.dModel, params), [batchSize, seqLen, dims.dModel]),
        );
      },
    };
  },
});
