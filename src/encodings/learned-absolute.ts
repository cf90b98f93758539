/**
 * Learned absolute position embeddings, as in "BERT: Pre-training of Deep Bidirectional Transformers for Language
 * Understanding" (Devlin, Chang, Lee and Toutanova, 2018), arXiv:1810.04805:
 *
 *   x_t = tokenEmbedding[token_t] + P[id_t],    P a learned [maxPositions, dModel] table
 *
 * Why this paper: BERT is the transformer whose position encoding is exactly this table (512 rows, trained with the
 * model), and it has an arXiv id; GPT-1/GPT-2 use the same table but were never posted to arXiv, and "Attention Is All
 * You Need" (Vaswani et al. 2017, section 3.5) only reports learned embeddings (after Gehring et al.'s ConvS2S,
 * arXiv:1705.03122) as an ablation of its sinusoids.
 *
 * Init: N(0, initStd^2) with initStd = 1 by default, PyTorch's nn.Embedding default and the table of the calibration
 * runs (BERT draws N(0, 0.02^2)). Ids must be integers in [0, maxPositions): a table has no row for a longer
 * sequence, which is the method's known limit on length generalization (hence randomized-learned and position
 * coupling, which keep test ids inside the trained range).
 */
import { embedding, normalParameter, type Parameter, parameter, type Tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type ModelDims, PerForward, rowsShareIds, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  resolveParams,
} from "./types.js";

/**
 * The table rows of `positions`: each must be an integer in [0, maxPositions). A PosencConfigError names the id, its
 * index and the table size (the fix is a larger maxPositions).
 */
export function learnedPositionRows(positions: ArrayLike<number>, maxPositions: number): Int32Array {
  const rows = new Int32Array(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const id = positions[i];
    if (!(Number.isInteger(id) && id >= 0 && id < maxPositions)) {
      throw new PosencConfigError(
        "out_of_range",
        "learned-absolute.maxPositions",
        maxPositions,
        `a table covering every position id`,
        `learned-absolute: position id ${id} (index ${i}) has no row in the table of ${maxPositions} rows (ids 0..${maxPositions - 1}); ids must be integers, and maxPositions (or model.maxSeqLen) at least ${Number.isFinite(id) ? Math.floor(id) + 1 : "the largest id + 1"}`,
      );
    }
    rows[i] = id;
  }
  return rows;
}

/** Rows of a row-major [maxPositions, dModel] table for `positions`: row-major [positions.length, dModel]. */
export function learnedAbsoluteEmbedding(
  table: ArrayLike<number>,
  maxPositions: number,
  dModel: number,
  positions: ArrayLike<number>,
): Float32Array {
  if (table.length !== maxPositions * dModel) {
    throw new RangeError(
      `learnedAbsoluteEmbedding: table holds ${table.length} values, expected maxPositions * dModel = ${maxPositions} * ${dModel}`,
    );
  }
  const rows = learnedPositionRows(positions, maxPositions);
  const out = new Float32Array(positions.length * dModel);
  for (let t = 0; t < rows.length; t++) {
    for (let c = 0; c < dModel; c++) out[t * dModel + c] = table[rows[t] * dModel + c];
  }
  return out;
}

const LEARNED_ABSOLUTE_PARAMS = {
  maxPositions: {
    type: "integer",
    description:
      "Rows of the table: ids 0 .. maxPositions - 1. The model fills in its maxSeqLen when omitted.",
    default: 1024,
    min: 1,
  },
  initStd: {
    type: "number",
    description: "Std of the N(0, std^2) init (1: nn.Embedding and the calibration; BERT uses 0.02).",
    default: 1,
    min: 0,
  },
  table: {
    type: "number[]",
    description:
      "Table values, row-major [maxPositions, dModel]. Empty (default): the framework-free form adds zeros and the trainable form draws its own table.",
    default: [],
  },
} as const satisfies EncodingSpec["params"];

function learnedAbsoluteTrainable(
  params: ParamValues<typeof LEARNED_ABSOLUTE_PARAMS>,
  dims: ModelDims,
  rng: Rng,
  path = "learned-absolute",
): TrainableEncoding {
  const maxPositions = params.maxPositions;
  const initial = params.table;
  let table: Parameter;
  if (initial.length > 0) {
    if (initial.length !== maxPositions * dims.dModel) {
      throw new PosencConfigError(
        "invalid_value",
        `${path}.table`,
        initial,
        `maxPositions * dModel = ${maxPositions * dims.dModel} values, or [] for a random init`,
      );
    }
    table = parameter(initial, [maxPositions, dims.dModel], "learned-absolute.table");
  } else {
    table = normalParameter(rng, [maxPositions, dims.dModel], params.initStd, "learned-absolute.table");
  }
  const perForward = new PerForward<Tensor>();
  return {
    id: "learned-absolute",
    parameters: () => [table],
    embedding(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        const shared = rowsShareIds(ids, batchSize, seqLen);
        const rows = learnedPositionRows(shared ? ids.subarray(0, seqLen) : ids, maxPositions);
        return embedding(table, rows, [shared ? 1 : batchSize, seqLen]); // (B or 1, T, D)
      });
    },
  };
}

export const learnedAbsoluteSpec = defineEncoding({
  id: "learned-absolute",
  name: "Learned absolute",
  family: "absolute",
  paper: {
    title: "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
    arxiv: "1810.04805",
    year: 2018,
  },
  formula: "x_t = E[token_t] + P[id_t], P a learned [maxPositions, dModel] table, N(0, initStd^2) init",
  summary:
    "Adds a learned vector per absolute position to the token embeddings; it has no row for positions beyond its table.",
  slots: ["embedding"],
  modelParams: (dims) => ({ maxPositions: dims.maxSeqLen }),
  params: LEARNED_ABSOLUTE_PARAMS,
  trainable: learnedAbsoluteTrainable,
  create(params, path = "learned-absolute"): PositionalEncoding {
    const p = resolveParams(path, LEARNED_ABSOLUTE_PARAMS, params);
    const maxPositions = p.maxPositions;
    const table = p.table;
    return {
      id: "learned-absolute",
      params: Object.freeze(p),
      embedding(positions, dModel) {
        if (table.length === 0) {
          learnedPositionRows(positions, maxPositions);
          return new Float32Array(positions.length * dModel);
        }
        if (table.length !== maxPositions * dModel) {
          throw new PosencConfigError(
            "invalid_value",
            "learned-absolute.table",
            table,
            `maxPositions * dModel = ${maxPositions} * ${dModel} = ${maxPositions * dModel} values, or []`,
          );
        }
        return learnedAbsoluteEmbedding(table, maxPositions, dModel, positions);
      },
    };
  },
});
