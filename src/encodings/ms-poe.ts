/**
 * Found in the Middle: How Language Models Use Long Contexts Better via Plug-and-Play Positional Encoding
 * (Zhang, Chen, Liu, Yao, Ruwase, Chen, Wu, Wang, 2024), arXiv:2403.04797. Method: Ms-PoE (multi-scale
 * positional encoding), training-free, for RoPE models at inference.
 *
 * Head h of an attention layer reads RoPE at compressed positions
 *   id_h(m) = m / r_h
 * with per-head compression ratios spread linearly between alpha = minRatio and beta = maxRatio. As read in
 * the official code (VITA-Group/Ms-PoE, utils/modify_arch/llama.py, `MsPoELlamaRotaryEmbedding`):
 *   r_k = alpha + (beta - alpha) * k / H,   k = 0 .. H - 1      ("official" spacing)
 * so the largest ratio is beta - (beta - alpha) / H, not beta (1.78125 for H = 32, alpha 1.2, beta 1.8). The
 * "endpoints" spacing r_k = alpha + (beta - alpha) * k / (H - 1) reaches beta exactly. Defaults
 * alpha = 1.2, beta = 1.8 (src/ms_poe.sh), applied to layers 2..31 of a 32-layer model (layers 0 and 1 keep
 * plain RoPE; choosing layers is the model's job).
 *
 * Head order: ratio k goes to the head of rank k, rank 0 being the most "position-aware" head, which thus
 * keeps positions closest to the pretrained ones. The official score is the outlier fraction of the last
 * query row of the first forward pass: the share of keys whose attention weight exceeds `outlierFactor`
 * times the row mean (3 in the current code, 4 in an earlier version), heads sorted by decreasing share
 * (`(-outlier).argsort()`); `msPoeHeadOrderFromAttention` computes it. Note: the official code then applies
 * the order as a gather, `cos[head_order]`, which gives head j the ratio r_{head_order[j]}; the paper's
 * assignment (rank k -> r_k) is the inverse permutation. `msPoeScalingRatios` implements the paper's
 * assignment; pass `inversePermutation(order)` as headOrder to reproduce the official gather. The two agree
 * whenever the order is its own inverse, e.g. the identity, or the reversed order of head_type "normal".
 *
 * Hook (b) shape: ids differ per head, so this encoding's positionIds returns numHeads * length ids,
 * row-major [numHeads, length] (head h's ids at h * length + t); positionIdsPerHead does the same for any
 * numHeads. The model feeds row h to head h's RoPE.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import {
  defineEncoding,
  type EncodingSpec,
  type PositionalEncoding,
  type PositionIdContext,
  resolveParams,
} from "./types.js";

export type MsPoeRatioSpacing = "official" | "endpoints";
export const MS_POE_RATIO_SPACINGS: readonly MsPoeRatioSpacing[] = ["official", "endpoints"];

export interface MsPoeRatioOptions {
  /** alpha, the ratio of the most position-aware head. Default 1.2. */
  minRatio?: number;
  /** beta, the upper end of the ratio range. Default 1.8. */
  maxRatio?: number;
  /** headOrder[k] = the head that gets the k-th smallest ratio. Default: identity (head k gets r_k). */
  headOrder?: ArrayLike<number>;
  /** "official" (r_k = alpha + (beta - alpha) k / H) or "endpoints" (k / (H - 1)). Default "official". */
  spacing?: MsPoeRatioSpacing;
}

/** Throws unless `order` is a permutation of 0 .. n - 1. */
function checkPermutation(key: string, order: ArrayLike<number>, n: number): void {
  const seen = new Uint8Array(n);
  const ok =
    order.length === n &&
    Array.from(order).every((h) => Number.isInteger(h) && h >= 0 && h < n && seen[h]++ === 0);
  if (!ok) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      Array.from(order),
      `a permutation of the head indices 0 .. ${n - 1} (each exactly once)`,
    );
  }
}

/** inverse[order[k]] = k. */
export function inversePermutation(order: ArrayLike<number>): number[] {
  checkPermutation("order", order, order.length);
  const inverse = new Array<number>(order.length);
  for (let k = 0; k < order.length; k++) inverse[order[k]] = k;
  return inverse;
}

/**
 * Per-head compression ratios, indexed by head: ratios[headOrder[k]] = r_k with
 * r_k = minRatio + (maxRatio - minRatio) * k / H ("official") or k / (H - 1) ("endpoints"; r_0 for H = 1).
 */
export function msPoeScalingRatios(numHeads: number, options: MsPoeRatioOptions = {}): Float64Array {
  checkNumber("numHeads", numHeads, { integer: true, min: 1 });
  const minRatio = checkNumber("minRatio", options.minRatio ?? 1.2, { min: 0, exclusiveMin: true });
  const maxRatio = checkNumber("maxRatio", options.maxRatio ?? 1.8, { min: minRatio });
  const spacing = options.spacing ?? "official";
  if (spacing !== "official" && spacing !== "endpoints") {
    throw new PosencConfigError("invalid_value", "spacing", spacing, `one of "official", "endpoints"`);
  }
  const order = options.headOrder;
  if (order !== undefined) checkPermutation("headOrder", order, numHeads);
  const ratios = new Float64Array(numHeads);
  for (let k = 0; k < numHeads; k++) {
    // "official" follows the torch expression min + (max - min) * (k / H); "endpoints" interpolates as
    // (1 - f) min + f max so that f = 0 and f = 1 give alpha and beta to the last bit.
    const f = spacing === "official" ? k / numHeads : numHeads > 1 ? k / (numHeads - 1) : 0;
    ratios[order === undefined ? k : order[k]] =
      spacing === "official" ? minRatio + (maxRatio - minRatio) * f : (1 - f) * minRatio + f * maxRatio;
  }
  return ratios;
}

/** positions[i] / ratio: RoPE positions of one Ms-PoE head (fractional ids are expected). */
export function msPoeScalePositions(positions: ArrayLike<number>, ratio: number): Float64Array {
  checkNumber("ratio", ratio, { min: 0, exclusiveMin: true });
  const out = new Float64Array(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = positions[i] / ratio;
  return out;
}

/** m / ratio for m = 0 .. length - 1. */
export function msPoePositionIds(length: number, ratio: number): Float64Array {
  checkNumber("length", length, { integer: true, min: 0 });
  checkNumber("ratio", ratio, { min: 0, exclusiveMin: true });
  const ids = new Float64Array(length);
  for (let m = 0; m < length; m++) ids[m] = m / ratio;
  return ids;
}

/** Row-major [ratios.length, length]: row h = m / ratios[h]. */
export function msPoePositionIdsPerHead(length: number, ratios: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ratios.length * length);
  for (let h = 0; h < ratios.length; h++) out.set(msPoePositionIds(length, ratios[h]), h * length);
  return out;
}

/**
 * The official position-awareness order from one layer's attention probabilities, row-major
 * [numHeads, queryLength, keyLength]: in each head's last query row, the fraction of the keyLength weights
 * above outlierFactor * (row mean over all keyLength entries, masked zeros included, as torch's mean(-1));
 * heads sorted by decreasing fraction, ties by increasing head index (torch's argsort leaves ties unspecified).
 */
export function msPoeHeadOrderFromAttention(
  attention: ArrayLike<number>,
  numHeads: number,
  queryLength: number,
  keyLength: number,
  options: { outlierFactor?: number } = {},
): number[] {
  checkNumber("numHeads", numHeads, { integer: true, min: 1 });
  checkNumber("queryLength", queryLength, { integer: true, min: 1 });
  checkNumber("keyLength", keyLength, { integer: true, min: 1 });
  const factor = checkNumber("outlierFactor", options.outlierFactor ?? 3, { min: 0 });
  if (attention.length !== numHeads * queryLength * keyLength) {
    throw new RangeError(
      `attention.length must be numHeads * queryLength * keyLength = ${numHeads * queryLength * keyLength}, received ${attention.length}`,
    );
  }
  const fraction = new Float64Array(numHeads);
  for (let h = 0; h < numHeads; h++) {
    const row = (h * queryLength + queryLength - 1) * keyLength;
    let sum = 0;
    for (let k = 0; k < keyLength; k++) sum += attention[row + k];
    const threshold = factor * (sum / keyLength);
    let above = 0;
    for (let k = 0; k < keyLength; k++) if (attention[row + k] > threshold) above++;
    fraction[h] = above / keyLength;
  }
  return Array.from({ length: numHeads }, (_, h) => h).sort((a, b) => fraction[b] - fraction[a] || a - b);
}

const MS_POE_PARAMS = {
  numHeads: {
    type: "integer",
    description: "Attention heads per layer (one ratio each); 32 in the paper's Llama-2-7B / Vicuna-7B runs.",
    default: 32,
    min: 1,
  },
  minRatio: {
    type: "number",
    description: "alpha: the smallest compression ratio (most position-aware head).",
    default: 1.2,
    min: 0,
    exclusiveMin: true,
  },
  maxRatio: {
    type: "number",
    description: 'beta: the upper end of the ratios (reached exactly only with ratioSpacing "endpoints").',
    default: 1.8,
    min: 0,
    exclusiveMin: true,
  },
  ratioSpacing: {
    type: "string",
    description:
      '"official": r_k = alpha + (beta - alpha) k / H; "endpoints": k / (H - 1), so r_(H-1) = beta.',
    default: "official",
    choices: MS_POE_RATIO_SPACINGS,
  },
  headOrder: {
    type: "number[]",
    description:
      "headOrder[k] = head with the k-th smallest ratio (rank 0 = most position-aware); empty = identity.",
    default: [],
  },
} as const satisfies EncodingSpec["params"];

export interface MsPoeEncoding extends PositionalEncoding {
  /** Ratio of each head, indexed by head. */
  readonly ratios: Float64Array;
  /** Row-major [numHeads, length]: head h's ids m / r_h at h * length + m. */
  positionIds(length: number, context?: PositionIdContext): Float64Array;
  /** Same as positionIds, checking that the model's head count matches params.numHeads. */
  positionIdsPerHead(length: number, numHeads: number): Float64Array;
}

export function createMsPoeEncoding(params?: Record<string, unknown>): MsPoeEncoding {
  const p = resolveParams("ms-poe", MS_POE_PARAMS, params);
  const numHeads = p.numHeads;
  if (p.maxRatio < p.minRatio) {
    throw new PosencConfigError(
      "conflict",
      "ms-poe.maxRatio",
      p.maxRatio,
      `a number >= ms-poe.minRatio = ${p.minRatio}`,
    );
  }
  const order = p.headOrder;
  if (order.length > 0) checkPermutation("ms-poe.headOrder", order, numHeads);
  const ratios = msPoeScalingRatios(numHeads, {
    minRatio: p.minRatio,
    maxRatio: p.maxRatio,
    spacing: p.ratioSpacing as MsPoeRatioSpacing,
    headOrder: order.length > 0 ? order : undefined,
  });
  return {
    id: "ms-poe",
    params: Object.freeze(p),
    ratios,
    positionIds(length) {
      return msPoePositionIdsPerHead(length, ratios);
    },
    positionIdsPerHead(length, actualHeads) {
      if (actualHeads !== numHeads) {
        throw new RangeError(`ms-poe: numHeads ${actualHeads} does not match params.numHeads = ${numHeads}`);
      }
      return msPoePositionIdsPerHead(length, ratios);
    },
  };
}

export const msPoeSpec = defineEncoding({
  id: "ms-poe",
  name: "Ms-PoE (multi-scale positional encoding)",
  family: "position-ids",
  paper: {
    title:
      "Found in the Middle: How Language Models Use Long Contexts Better via Plug-and-Play Positional Encoding",
    arxiv: "2403.04797",
    year: 2024,
  },
  formula:
    "head h reads RoPE at m / r_h, r = alpha + (beta - alpha) k / H for rank k; positionIds returns [numHeads, length] row-major",
  summary:
    "Compresses RoPE positions by a different ratio per head, least for position-aware heads, to ease the lost-in-the-middle decay without training.",
  slots: ["positionIds"],
  params: MS_POE_PARAMS,
  create: createMsPoeEncoding,
});
