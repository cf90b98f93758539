/**
 * Relative key-query embeddings, from "Improve Transformer Models with Better Relative Position Embeddings"
 * (Huang, Liang, Xu and Xiang, Findings of EMNLP 2020), arXiv:2009.13658.
 *
 * A learned vector a_(i-j) of the head size per relative distance (one table per layer, shared by the heads) enters
 * the attention logit through both the query and the key ("Method 4" of the paper):
 *   e_ij = (q_i . k_j + q_i . a_(i-j) + k_j . a_(i-j)) / sqrt(d)
 * The paper's baseline, Shaw et al.'s relative key (arXiv:1803.02155), keeps only the query term:
 *   e_ij = (q_i . k_j + q_i . a_(i-j)) / sqrt(d)                                       (`interaction: "key"`)
 * Both are Hugging Face BERT's `position_embedding_type` "relative_key_query" and "relative_key"
 * (transformers, models/bert/modeling_bert.py, `BertSelfAttention.forward`): `distance = position_ids_l -
 * position_ids_r` (query minus key), `distance_embedding = nn.Embedding(2 * max_position_embeddings - 1, head_size)`
 * indexed at distance + max_position_embeddings - 1, the einsums "bhld,lrd->bhlr" (query) and "bhrd,lrd->bhlr" (key),
 * all divided by sqrt(head_size) with q.k. HF indexes out of range past max_position_embeddings - 1; here distances
 * are clipped to +-(maxPositions - 1) (Shaw et al.'s clipping), so a model runs on any length. Fractional distances
 * (fractional position ids) interpolate linearly between the two neighbouring rows, exact at integers.
 * Initialisation: N(0, 0.02), BERT's initializer_range for embeddings.
 *
 * The bias depends on q and k, so the trainable form fills the content-aware slot (e) with an additive bias; this
 * file's `relativeKeyQueryBias` is the same math over plain arrays.
 */
import {
  add,
  lerpGather,
  matmul,
  mul,
  normalParameter,
  type Parameter,
  type Tensor,
  tensor,
  transpose,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { checkPositions } from "./alibi.js";
import {
  checkPositionIds,
  type ModelDims,
  PerForward,
  positionRow,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

export type RelativeInteraction = "key-query" | "key";

/** The (fractional) table row of distance `d`: clip(d, -(P - 1), P - 1) + P - 1, in 0 .. 2P - 2. */
export function relativeTableRow(distance: number, maxPositions: number): number {
  const limit = maxPositions - 1;
  return Math.min(limit, Math.max(-limit, distance)) + limit;
}

/**
 * The additive logit term for one head over plain arrays, row-major [T, T]:
 *   (q_i . a(i - j) [+ k_j . a(i - j)]) / sqrt(d),  a(x) the table row of distance x = p_i - p_j,
 * q and k row-major [T, d], table [2 * maxPositions - 1, d].
 */
export function relativeKeyQueryBias(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  table: ArrayLike<number>,
  positions: ArrayLike<number>,
  options: { maxPositions: number; headDim: number; interaction?: RelativeInteraction },
): Float64Array {
  const { maxPositions, headDim: d } = options;
  checkNumber("maxPositions", maxPositions, { integer: true, min: 1 });
  checkNumber("headDim", d, { integer: true, min: 1 });
  checkPositions("positions", positions);
  const T = positions.length;
  const rows = 2 * maxPositions - 1;
  if (q.length !== T * d || k.length !== T * d || table.length !== rows * d) {
    throw new RangeError(
      `relativeKeyQueryBias: q and k need T * d = ${T * d} values and the table (2 * maxPositions - 1) * d = ${rows * d}; received ${q.length}, ${k.length}, ${table.length}`,
    );
  }
  const withKey = (options.interaction ?? "key-query") === "key-query";
  const row = new Float64Array(d);
  const out = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const r = relativeTableRow(positions[i] - positions[j], maxPositions);
      const lo = Math.floor(r);
      const hi = Math.ceil(r);
      const w = r - lo;
      for (let c = 0; c < d; c++) row[c] = (1 - w) * table[lo * d + c] + w * table[hi * d + c];
      let s = 0;
      for (let c = 0; c < d; c++) s += q[i * d + c] * row[c] + (withKey ? k[j * d + c] * row[c] : 0);
      out[i * T + j] = s / Math.sqrt(d);
    }
  }
  return out;
}

/**
 * The table rows of every (query, key) pair, as lerpGather positions [B, H, T, T] (query term, [b, h, i, j]) and,
 * transposed, [B, H, T, T] at [b, h, j, i] (key term, gathered along the key's own rows).
 */
export function relativeRowTensors(
  ids: Float64Array,
  batchSize: number,
  seqLen: number,
  numHeads: number,
  maxPositions: number,
): { query: Tensor; key: Tensor } {
  checkPositionIds("relative-key-query", ids, batchSize, seqLen);
  const T = seqLen;
  const query = new Float32Array(batchSize * numHeads * T * T);
  const key = new Float32Array(batchSize * numHeads * T * T);
  for (let b = 0; b < batchSize; b++) {
    const row = positionRow(ids, b, T);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const r = relativeTableRow(row[i] - row[j], maxPositions);
        for (let h = 0; h < numHeads; h++) {
          const base = (b * numHeads + h) * T * T;
          query[base + i * T + j] = r;
          key[base + j * T + i] = r;
        }
      }
    }
  }
  const shape = [batchSize, numHeads, T, T];
  return { query: tensor(query, shape), key: tensor(key, shape) };
}

/**
 * The differentiable bias [B, H, T, T] from q, k [B, H, T, Dh] and a table [2P - 1, Dh]: the projections q E^T and
 * k E^T ([B, H, T, 2P - 1]) gathered at each pair's row, the key's transposed back, divided by sqrt(Dh).
 */
export function relativeKeyQueryBiasTensor(
  q: Tensor,
  k: Tensor,
  table: Tensor,
  rows: { query: Tensor; key: Tensor },
  interaction: RelativeInteraction = "key-query",
): Tensor {
  const Dh = q.shape[3];
  const fromQuery = lerpGather(matmul(q, table, { transB: true }), rows.query);
  const both =
    interaction === "key-query"
      ? add(fromQuery, transpose(lerpGather(matmul(k, table, { transB: true }), rows.key), -2, -1))
      : fromQuery;
  return mul(both, 1 / Math.sqrt(Dh));
}

/** Trainable form: one table per layer, N(0, 0.02), used in the content-aware slot as an additive bias. */
function createRelativeKeyQueryTrainable(
  params: RelativeParamValues,
  dims: ModelDims,
  rng: Rng,
): TrainableEncoding & { tables: readonly Parameter[] } {
  const maxPositions = params.maxPositions === 0 ? dims.maxSeqLen : params.maxPositions;
  checkNumber("dims.maxSeqLen", maxPositions, { integer: true, min: 1 });
  const tables = Array.from({ length: dims.numLayers }, (_, l) =>
    normalParameter(rng, [2 * maxPositions - 1, dims.headDim], 0.02, `relative-key-query.layer${l}.table`),
  );
  const rowsPerForward = new PerForward<Tensor[]>();
  return {
    id: "relative-key-query",
    tables,
    parameters: () => [...tables],
    contentAttention({ q, k, positionIds, layer }) {
      const table = tables[layer];
      if (!table)
        throw new RangeError(`relative-key-query: layer ${layer} is not in 0..${tables.length - 1}`);
      const [B, H, T] = q.shape;
      const [query, key] = rowsPerForward.get(positionIds, () => {
        const rows = relativeRowTensors(positionIds, B, T, H, maxPositions);
        return [rows.query, rows.key];
      });
      return { bias: relativeKeyQueryBiasTensor(q, k, table, { query, key }, params.interaction) };
    },
  };
}

const RELATIVE_PARAMS = {
  interaction: {
    type: "string",
    description:
      '"key-query" (Method 4, HF relative_key_query): q.a + k.a; "key" (Shaw et al., HF relative_key): q.a only.',
    default: "key-query",
    choices: ["key-query", "key"],
  },
  maxPositions: {
    type: "integer",
    description:
      "HF max_position_embeddings: the table holds distances -(P - 1) .. P - 1 (2P - 1 rows), longer ones are clipped. 0 (default): the model's maxSeqLen.",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

type RelativeParamValues = { interaction: RelativeInteraction; maxPositions: number };

export const relativeKeyQuerySpec = defineEncoding({
  id: "relative-key-query",
  name: "Relative key-query embeddings (Huang et al., Method 4)",
  family: "attention-bias",
  paper: {
    title: "Improve Transformer Models with Better Relative Position Embeddings",
    arxiv: "2009.13658",
    year: 2020,
  },
  formula:
    "e_ij = (q_i.k_j + q_i.a_(i-j) + k_j.a_(i-j)) / sqrt(d); a_(i-j) learned per distance (clipped), per layer",
  summary:
    "Learns one vector per relative distance that interacts with both the query and the key, generalizing Shaw et al.'s relative key embeddings.",
  slots: ["contextual"],
  params: RELATIVE_PARAMS,
  create(params, path = "relative-key-query"): PositionalEncoding {
    const p = resolveParams(path, RELATIVE_PARAMS, params);
    // No framework-free hook: the bias depends on q and k (relativeKeyQueryBias is the math over arrays).
    return { id: "relative-key-query", params: Object.freeze(p) };
  },
  trainable: (params, dims, rng) => createRelativeKeyQueryTrainable(params, dims, rng),
});
