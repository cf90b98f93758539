/**
 * σ-GPTs: A New Approach to Autoregressive Models (Pannatier, Courdier, Fleuret, 2024), arXiv:2404.09562.
 *
 * A σ-GPT generates in any order σ (a permutation of the positions; the prompt stays in order). Token t of the
 * shuffled sequence carries two positions, its own and the one of the token it must predict:
 *   x_t = E[w_{σ(t)}] + [ P[σ(t)] ‖ P[σ(t+1)] ],     P a learned [maxPositions, dModel / 2] table
 * (one table for both halves). Official code: idiap/sigma-gpt, text/sigmagpt.py, `sigmaGPT._pos_emb`: `wpe` is an
 * nn.Embedding(block_size, n_embd // 2); `order` has t + 1 entries; the embedding is wpe(cat(order[:, :-1, None],
 * order[:, 1:, None], dim=2)).flatten(2), i.e. own position first, target position second. Trained on random
 * orders with the ordinary causal mask over the shuffled sequence (text/order.py); left to right is
 * σ = identity, positions (t, t + 1).
 *
 * Position ids: two coordinates per token, (own, next) = (σ(t), σ(t+1)), row-major [B, T, 2]. The shuffle and
 * these ids come from the task layer (src/tasks/orders.ts: `randomOrderBatch` for training,
 * `leftToRightOrderBatch` for evaluation); this file only embeds them. The framework-free hooks read positions as
 * row-major [n, 2] and return one row per token. Init: N(0, initStd^2), initStd = 1 like learned-absolute (the
 * official nanoGPT init draws std 0.02).
 */
import {
  embedding,
  normalParameter,
  type Parameter,
  parameter,
  reshape,
  type Tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type ModelDims, PerForward, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  resolveParams,
} from "./types.js";

/** The table rows of (own, next) id pairs [n, 2]: integers in [0, maxPositions), a config error otherwise. */
export function doublePositionRows(
  ids: ArrayLike<number>,
  maxPositions: number,
  path = "sigma-gpt",
): Int32Array {
  const rows = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < maxPositions)) {
      throw new PosencConfigError(
        "out_of_range",
        `${path}.maxPositions`,
        maxPositions,
        `a table covering every position id (id ${id} at token ${Math.floor(i / 2)}, coordinate ${i % 2}; ids are integers in [0, maxPositions))`,
      );
    }
    rows[i] = id;
  }
  return rows;
}

/** [ P[own] ‖ P[next] ] per token: table row-major [maxPositions, half], ids [n, 2] -> [n, 2 * half]. */
export function doublePositionEmbedding(
  table: ArrayLike<number>,
  maxPositions: number,
  ids: ArrayLike<number>,
): Float32Array {
  const half = table.length / maxPositions;
  const rows = doublePositionRows(ids, maxPositions);
  const out = new Float32Array(rows.length * half);
  for (let i = 0; i < rows.length; i++) {
    for (let c = 0; c < half; c++) out[i * half + c] = table[rows[i] * half + c];
  }
  return out;
}

const SIGMA_GPT_PARAMS = {
  maxPositions: {
    type: "integer",
    description:
      "Rows of the position table (official block_size): own and next ids 0 .. maxPositions - 1. The model fills maxSeqLen + 1 (the last token's next position) when omitted.",
    default: 1025,
    min: 2,
  },
  initStd: {
    type: "number",
    description:
      "Std of the N(0, std^2) init (1 like learned-absolute; the official nanoGPT init uses 0.02).",
    default: 1,
    min: 0,
  },
  table: {
    type: "number[]",
    description:
      "Table values, row-major [maxPositions, dModel / 2]. Empty (default): the framework-free form adds zeros and the trainable form draws its own table.",
    default: [],
  },
} as const satisfies EncodingSpec["params"];

function checkEvenWidth(dModel: number, path: string): number {
  if (!(Number.isInteger(dModel) && dModel % 2 === 0)) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.dModel`,
      dModel,
      "an even model width (two halves)",
    );
  }
  return dModel / 2;
}

function sigmaGptTrainable(
  params: ParamValues<typeof SIGMA_GPT_PARAMS>,
  dims: ModelDims,
  rng: Rng,
  path = "sigma-gpt",
): TrainableEncoding {
  const half = checkEvenWidth(dims.dModel, path);
  const { maxPositions } = params;
  let table: Parameter;
  if (params.table.length > 0) {
    if (params.table.length !== maxPositions * half) {
      throw new PosencConfigError(
        "invalid_value",
        `${path}.table`,
        params.table,
        `maxPositions * dModel / 2 = ${maxPositions * half} values, or [] for a random init`,
      );
    }
    table = parameter(params.table, [maxPositions, half], "sigma-gpt.table");
  } else {
    table = normalParameter(rng, [maxPositions, half], params.initStd, "sigma-gpt.table");
  }
  const perForward = new PerForward<Tensor>();
  return {
    id: "sigma-gpt",
    parameters: () => [table],
    embedding(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        const rows = doublePositionRows(ids, maxPositions, path);
        // (B, T, 2, D/2) -> (B, T, D): own half first, next half second (the official flatten(2)).
        return reshape(embedding(table, rows, [batchSize, seqLen, 2]), [batchSize, seqLen, 2 * half]);
      });
    },
  };
}

export const sigmaGptSpec = defineEncoding({
  id: "sigma-gpt",
  name: "σ-GPT (double positional encoding)",
  family: "absolute",
  paper: { title: "σ-GPTs: A New Approach to Autoregressive Models", arxiv: "2404.09562", year: 2024 },
  formula:
    "x_t = E[w_σ(t)] + [P[σ(t)] ‖ P[σ(t+1)]], P a learned [maxPositions, dModel/2] table; ids (σ(t), σ(t+1))",
  summary:
    "Each token carries its own position and the position to predict next, so the model can be trained and sampled in any order.",
  slots: ["embedding"],
  positionCoordinates: 2,
  modelParams: (dims) => ({ maxPositions: dims.maxSeqLen + 1 }),
  params: SIGMA_GPT_PARAMS,
  trainable: sigmaGptTrainable,
  create(params, path = "sigma-gpt"): PositionalEncoding {
    const p = resolveParams(path, SIGMA_GPT_PARAMS, params);
    return {
      id: "sigma-gpt",
      params: Object.freeze(p),
      embedding(positions, dModel) {
        const half = checkEvenWidth(dModel, path);
        if (positions.length % 2 !== 0) {
          throw new RangeError(
            `sigma-gpt: positions hold ${positions.length} values, expected [n, 2] (own, next)`,
          );
        }
        if (p.table.length === 0) {
          doublePositionRows(positions, p.maxPositions, path);
          return new Float32Array((positions.length / 2) * dModel);
        }
        if (p.table.length !== p.maxPositions * half) {
          throw new PosencConfigError(
            "invalid_value",
            `${path}.table`,
            p.table,
            `maxPositions * dModel / 2 = ${p.maxPositions * half} values, or []`,
          );
        }
        return doublePositionEmbedding(p.table, p.maxPositions, positions);
      },
    };
  },
});
