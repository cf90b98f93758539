/**
 * CoPE, from "Contextual Position Encoding: Learning to Count What's Important"
 * (Golovneva, Wang, Weston and Sukhbaatar, 2024), arXiv:2405.18719.
 *
 * Positions are counted in context: each query decides, through a gate per key, which tokens count.
 *   gates        g_ij = sigmoid(q_i . k_j / sqrt(d))          keys j <= i (causal), 0 for masked keys
 *   positions    p_ij = sum_{t=j..i} g_it                     (a reverse cumulative sum over keys), clamped to npos - 1
 *   logits       z_ij = (1 - w) q_i . e[floor(p_ij)] + w q_i . e[ceil(p_ij)],   w = p_ij - floor(p_ij)
 *   attention    softmax_j((q_i . k_j + z_ij) / sqrt(d))
 * e[0..npos-1] is a learned table of position embeddings of the head dimension d. The interpolation needs only the
 * npos dot products q_i . e[p], computed once per query, then gathered at floor(p) and ceil(p); floor and ceil are
 * constants for the gradient, w and the gathered logits are not (so the gates learn through w).
 *
 * Details from the official code (facebookresearch/RAM, projects/cope/src/cope/context_position.py
 * `ContextPosSelfAttn`, and src/models/transformer.py):
 *   - the gate logits are the raw q . k divided by sqrt(head_dim); the attention reuses the same q . k;
 *   - gates are multiplied by the attention mask (causal `tril`, diagonal included), so with all gates 1,
 *     p_ij = i - j + 1 and p_ii = g_ii; a decoder's masked keys get p = 0;
 *   - npos defaults to block_size + 1 (position 0 is possible); positions are clamped to npos - 1;
 *   - e is `pos_emb` of shape [1, head_dim, npos], initialised to zeros, shared by every head of a layer (heads are
 *     folded into the batch), one per layer unless `--cope-shared`;
 *   - by default z is added before the division by sqrt(head_dim), so the bias on the scaled logits is
 *     z / sqrt(d); `--cope-nodiv` adds z after it (bias z).
 *
 * CoPE needs q and k, so it has no framework-free hook: this file gives the math over plain arrays (for tests,
 * analysis and plots) and the trainable form (hook e, `contentAttention`, returning a bias) through engine ops.
 */
import {
  constantParameter,
  cumsum,
  lerpGather,
  matmul,
  mul,
  type Parameter,
  sigmoid,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkBoolean, checkNumber } from "../util/validation.js";
import type { ModelDims, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** Sizes of q or k laid out row-major [slices, seqLen, headDim] (a slice = one head of one example). */
function sliceCount(name: string, values: ArrayLike<number>, seqLen: number, headDim: number): number {
  checkNumber("seqLen", seqLen, { integer: true, min: 1 });
  checkNumber("headDim", headDim, { integer: true, min: 1 });
  const perSlice = seqLen * headDim;
  if (values.length === 0 || values.length % perSlice !== 0) {
    throw new RangeError(
      `${name} must hold a whole number >= 1 of [seqLen, headDim] = [${seqLen}, ${headDim}] slices, received ${values.length} values`,
    );
  }
  return values.length / perSlice;
}

export interface CopeGateOptions {
  /** true (default): keys after the query get gate 0 (the decoder's mask); false: every key is gated. */
  causal?: boolean;
  /** Multiplies q . k inside the sigmoid; default 1 / sqrt(headDim) as the official code. */
  scale?: number;
}

/**
 * Gates g_ij = sigmoid(scale * q_i . k_j), [slices, seqLen, seqLen]; 0 for j > i when causal. q and k are
 * row-major [slices, seqLen, headDim].
 */
export function copeGates(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  seqLen: number,
  headDim: number,
  options: CopeGateOptions = {},
): Float64Array {
  const slices = sliceCount("q", q, seqLen, headDim);
  if (k.length !== q.length)
    throw new RangeError(`k must have the length of q (${q.length}), received ${k.length}`);
  const causal = checkBoolean("causal", options.causal ?? true);
  const scale = checkNumber("scale", options.scale ?? 1 / Math.sqrt(headDim));
  const gates = new Float64Array(slices * seqLen * seqLen);
  for (let s = 0; s < slices; s++) {
    const base = s * seqLen * headDim;
    for (let i = 0; i < seqLen; i++) {
      const last = causal ? i : seqLen - 1;
      for (let j = 0; j <= last; j++) {
        let dot = 0;
        for (let c = 0; c < headDim; c++) dot += q[base + i * headDim + c] * k[base + j * headDim + c];
        gates[(s * seqLen + i) * seqLen + j] = 1 / (1 + Math.exp(-scale * dot));
      }
    }
  }
  return gates;
}

/**
 * Contextual positions p_ij = min(sum_{t >= j} g_it, numPositions - 1) over rows of `gates` ([..., seqLen,
 * seqLen]); with causal gates the sum stops at t = i. All gates 1 gives p_ij = i - j + 1 (before clamping).
 */
export function copePositions(gates: ArrayLike<number>, seqLen: number, numPositions: number): Float64Array {
  checkNumber("seqLen", seqLen, { integer: true, min: 1 });
  checkNumber("numPositions", numPositions, { integer: true, min: 1 });
  if (gates.length === 0 || gates.length % (seqLen * seqLen) !== 0) {
    throw new RangeError(
      `gates must hold [seqLen, seqLen] = [${seqLen}, ${seqLen}] blocks, received ${gates.length}`,
    );
  }
  const maxPosition = numPositions - 1;
  const positions = new Float64Array(gates.length);
  for (let row = 0; row < gates.length / seqLen; row++) {
    let sum = 0;
    for (let j = seqLen - 1; j >= 0; j--) {
      sum += gates[row * seqLen + j];
      positions[row * seqLen + j] = Math.min(sum, maxPosition);
    }
  }
  return positions;
}

/**
 * Interpolated position logits z_ij = (1 - w) q_i . e[floor p_ij] + w q_i . e[ceil p_ij], w = p_ij - floor p_ij,
 * [slices, seqLen, seqLen]. `positionEmbedding` is row-major [headDim, numPositions] (the official pos_emb layout,
 * column p = e[p]), shared by every slice; positions must lie in [0, numPositions - 1].
 */
export function copeInterpolate(
  q: ArrayLike<number>,
  positions: ArrayLike<number>,
  positionEmbedding: ArrayLike<number>,
  seqLen: number,
  headDim: number,
): Float64Array {
  const slices = sliceCount("q", q, seqLen, headDim);
  if (positions.length !== slices * seqLen * seqLen) {
    throw new RangeError(
      `positions must hold ${slices * seqLen * seqLen} values, received ${positions.length}`,
    );
  }
  const numPositions = positionEmbedding.length / headDim;
  if (!Number.isInteger(numPositions) || numPositions < 1) {
    throw new RangeError(
      `positionEmbedding must be [headDim, numPositions] = [${headDim}, n >= 1], received ${positionEmbedding.length} values`,
    );
  }
  const z = new Float64Array(positions.length);
  const table = new Float64Array(numPositions); // q_i . e[p] for every integer p
  for (let s = 0; s < slices; s++) {
    for (let i = 0; i < seqLen; i++) {
      const qBase = (s * seqLen + i) * headDim;
      for (let p = 0; p < numPositions; p++) {
        let dot = 0;
        for (let c = 0; c < headDim; c++) dot += q[qBase + c] * positionEmbedding[c * numPositions + p];
        table[p] = dot;
      }
      for (let j = 0; j < seqLen; j++) {
        const index = (s * seqLen + i) * seqLen + j;
        const p = positions[index];
        if (!(p >= 0 && p <= numPositions - 1)) {
          throw new RangeError(`positions[${index}] must lie in [0, ${numPositions - 1}], received ${p}`);
        }
        const lo = Math.floor(p);
        const w = p - lo;
        z[index] = (1 - w) * table[lo] + w * table[Math.ceil(p)];
      }
    }
  }
  return z;
}

export interface CopeBiasOptions {
  /** Size of the embedding table: positions are clamped to numPositions - 1. Default positionEmbedding / headDim. */
  numPositions?: number;
  causal?: boolean;
  /** true (default, the official code): the bias on the scaled logits is z / sqrt(headDim); false: z (nodiv). */
  scalePositionLogits?: boolean;
}

/**
 * The whole CoPE bias for slices of q and k: what hook (e) adds to the scaled logits q . k / sqrt(d),
 * [slices, seqLen, seqLen]: z / sqrt(d) (or z with scalePositionLogits false) at the clamped contextual positions.
 */
export function copeBias(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  positionEmbedding: ArrayLike<number>,
  seqLen: number,
  headDim: number,
  options: CopeBiasOptions = {},
): Float64Array {
  const numPositions = checkNumber(
    "numPositions",
    options.numPositions ?? positionEmbedding.length / headDim,
    {
      integer: true,
      min: 1,
    },
  );
  if (positionEmbedding.length !== headDim * numPositions) {
    throw new RangeError(
      `positionEmbedding must hold headDim * numPositions = ${headDim * numPositions} values, received ${positionEmbedding.length}`,
    );
  }
  const scaled = checkBoolean("scalePositionLogits", options.scalePositionLogits ?? true);
  const gates = copeGates(q, k, seqLen, headDim, { causal: options.causal ?? true });
  const z = copeInterpolate(
    q,
    copePositions(gates, seqLen, numPositions),
    positionEmbedding,
    seqLen,
    headDim,
  );
  if (scaled) for (let n = 0; n < z.length; n++) z[n] /= Math.sqrt(headDim);
  return z;
}

// ---------------------------------------------------------------------------------------------------------------
// Trainable form (hook e) over engine tensors.
// ---------------------------------------------------------------------------------------------------------------

export interface CopeTensorOptions {
  causal: boolean;
  scalePositionLogits: boolean;
}

/**
 * The CoPE bias through differentiable engine ops: q, k [..., T, Dh], positionEmbedding [Dh, npos] -> [..., T, T].
 * The interpolation is the engine's `lerpGather` over the [..., T, npos] table of q . e logits: one pass forward
 * and one backward, where the composition of where/floor/two row gathers it replaced cost ~30% of a training
 * step (profiled on the counting reproduction). Clamped entries get no gradient, as torch.clamp.
 */
export function copeBiasTensor(
  q: Tensor,
  k: Tensor,
  positionEmbedding: Tensor,
  options: CopeTensorOptions,
): Tensor {
  if (q.rank < 2 || k.rank !== q.rank || q.shape.some((d, n) => d !== k.shape[n])) {
    throw new RangeError(
      `copeBiasTensor: q and k need the same shape [..., T, Dh], received [${q.shape}] and [${k.shape}]`,
    );
  }
  const T = q.shape[q.rank - 2];
  const Dh = q.shape[q.rank - 1];
  if (positionEmbedding.rank !== 2 || positionEmbedding.shape[0] !== Dh) {
    throw new RangeError(
      `copeBiasTensor: positionEmbedding must be [Dh = ${Dh}, npos], received [${positionEmbedding.shape}]`,
    );
  }
  let gates = sigmoid(mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(Dh)));
  if (options.causal) {
    const tril = new Float64Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) tril[i * T + j] = 1;
    gates = mul(gates, tensor(tril, [T, T]));
  }
  const positions = cumsum(gates, -1, true); // p_ij = sum_{t >= j} g_it
  // z_ij = q_i . e[p_ij], interpolated between floor and ceil; lerpGather clamps p to npos - 1 (no gradient there).
  const z = lerpGather(matmul(q, positionEmbedding), positions);
  return options.scalePositionLogits ? mul(z, 1 / Math.sqrt(Dh)) : z;
}

/** The trainable CoPE: one position table [headDim, npos] per layer (zeros, as the official init). */
export function createCopeTrainable(
  params: Record<string, unknown>,
  dims: ModelDims,
  _rng: Rng,
  path = "cope",
): TrainableEncoding & {
  tables: readonly Parameter[];
  contentAttention: NonNullable<TrainableEncoding["contentAttention"]>;
} {
  const p = resolveParams(path, COPE_PARAMS, params);
  checkNumber("dims.headDim", dims.headDim, { integer: true, min: 1 });
  checkNumber("dims.numLayers", dims.numLayers, { integer: true, min: 1 });
  const numPositions =
    p.maxPositions === 0
      ? checkNumber("dims.maxSeqLen", dims.maxSeqLen, { integer: true, min: 1 }) + 1
      : p.maxPositions;
  const count = p.shareAcrossLayers ? 1 : dims.numLayers;
  const tables = Array.from({ length: count }, (_, l) =>
    constantParameter([dims.headDim, numPositions], 0, `cope.layer${l}.positionEmbedding`),
  );
  const options = { causal: dims.causal, scalePositionLogits: p.scalePositionLogits };
  return {
    id: "cope",
    tables,
    parameters: () => [...tables],
    contentAttention({ q, k, layer }) {
      const table = tables[p.shareAcrossLayers ? 0 : layer];
      if (!table) throw new RangeError(`cope.contentAttention: layer ${layer} is not in 0..${count - 1}`);
      return { bias: copeBiasTensor(q, k, table, options) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Spec.
// ---------------------------------------------------------------------------------------------------------------

export const COPE_PARAMS = {
  maxPositions: {
    type: "integer",
    description:
      "Size npos of the position-embedding table; contextual positions are clamped to npos - 1. 0 (default): the model's maxSeqLen + 1, as the official block_size + 1. Earlier name: numPositions.",
    aliases: ["numPositions"],
    default: 0,
    min: 0,
  },
  scalePositionLogits: {
    type: "boolean",
    description:
      "true (official default): z is added before the 1/sqrt(headDim) scaling, so the bias is z / sqrt(headDim); false: z is added after it (--cope-nodiv).",
    default: true,
  },
  shareAcrossLayers: {
    type: "boolean",
    description: "One position-embedding table for all layers (--cope-shared) instead of one per layer.",
    default: false,
  },
} as const satisfies EncodingSpec["params"];

export const copeSpec = defineEncoding({
  id: "cope",
  name: "CoPE (contextual position encoding)",
  family: "attention-bias",
  paper: {
    title: "Contextual Position Encoding: Learning to Count What's Important",
    arxiv: "2405.18719",
    year: 2024,
  },
  formula:
    "p_ij = sum_{t=j..i} sigmoid(q_i.k_t / sqrt(d)); bias_ij = q_i.e[p_ij] / sqrt(d), e interpolated between floor and ceil of p",
  summary:
    "Counts positions with learned gates on the keys, so a query can measure distance in words, sentences or any tokens it finds relevant, and adds the interpolated position logit to attention.",
  slots: ["contextual"],
  params: COPE_PARAMS,
  create(params, path = "cope"): PositionalEncoding {
    const p = resolveParams(path, COPE_PARAMS, params);
    // No framework-free hook: the positions depend on q and k (see copeBias for the math over arrays).
    return { id: "cope", params: Object.freeze(p) };
  },
  trainable: createCopeTrainable,
});
