/**
 * ALiBi, from "Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation"
 * (Press, Smith and Lewis, 2021; ICLR 2022), arXiv:2108.12409.
 *
 * No position embedding; each head h adds a fixed, non-learned linear penalty to its attention logits:
 *   causal (the paper):   bias[h, i, j] = -m_h * (i - j)     for keys j at or before query i
 *   symmetric:            bias[h, i, j] = -m_h * |i - j|     for bidirectional (encoder) attention
 * with i, j the absolute positions of query and key. Slopes m_h (the official `get_slopes`):
 *   n a power of two:  m_h = r^h, h = 1 .. n, r = 2^(-2^-(log2(n) - 3)) = 2^(-8/n)
 *   otherwise:         slopes(p) ++ every other slope of slopes(2p), first n - p of them, p = 2^floor(log2 n)
 *
 * Future keys (j > i) in the causal variant get bias 0, not -Infinity: masking is the attention's job (it applies
 * one causal mask whatever the encoding, NoPE included), and -Infinity poisons arithmetic the mask does not
 * (0 * -Infinity = NaN in a backward pass; a bias added before a masked_fill). The same convention holds for
 * Kerple (the official code's `tril`) and T5 (unidirectional buckets map the future to bucket 0).
 *
 * The official fairseq code adds m_h * j instead of -m_h * (i - j); the two differ by -m_h * i, the same for every
 * key of a row, which softmax ignores (issue #7 of ofirpress/attention_with_linear_biases). We return the paper's
 * form, which is also the one that stays correct without the causal mask.
 *
 * The symmetric variant is "Implementation 1" of ofirpress/attention_with_linear_biases issue #5 (the authors'
 * answer for encoders), used by MosaicBERT (mosaicml/examples, bert/src/bert_layers.py `rebuild_alibi_tensor`:
 * `alibi = slopes * -|memory_position - context_position|`).
 *
 * This file also holds the position-grid helpers the other attention-bias methods (t5-bias.ts, kerple.ts) share.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { biasVariantOf, fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

// ---------------------------------------------------------------------------------------------------------------
// Correctly rounded powers. Python's `**` on floats is C's pow (glibc: correctly rounded in practice), V8's `**`
// is not: 2 ** -0.5 gives 0.7071067811865475 where pow gives 0.7071067811865476 (= Math.SQRT1_2). To reproduce
// get_slopes bit for bit we evaluate the two powers it takes in double-double arithmetic (about 104 bits) and round
// once. Only the powers need this; the products start * ratio**i are plain IEEE multiplications in both languages.
// ---------------------------------------------------------------------------------------------------------------

/** An unevaluated sum hi + lo with |lo| <= ulp(hi) / 2. */
interface DoubleDouble {
  hi: number;
  lo: number;
}

/** Dekker's split constant 2^27 + 1: splits a double into two 26-bit halves whose products are exact. */
const SPLITTER = 134217729;

function quickTwoSum(a: number, b: number): DoubleDouble {
  const hi = a + b;
  return { hi, lo: b - (hi - a) };
}

/** a * b as an exact double-double (Dekker's TwoProduct; JS has no fused multiply-add). */
function twoProduct(a: number, b: number): DoubleDouble {
  const p = a * b;
  const ca = SPLITTER * a;
  const aHi = ca - (ca - a);
  const aLo = a - aHi;
  const cb = SPLITTER * b;
  const bHi = cb - (cb - b);
  const bLo = b - bHi;
  return { hi: p, lo: aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo };
}

function ddMultiply(a: DoubleDouble, b: DoubleDouble): DoubleDouble {
  const p = twoProduct(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + a.hi * b.lo + a.lo * b.hi);
}

/** sqrt(a) by one Newton step from the double square root: relative error about 2^-104. */
function ddSqrt(a: DoubleDouble): DoubleDouble {
  const x = Math.sqrt(a.hi);
  const square = twoProduct(x, x);
  const residual = a.hi - square.hi - square.lo + a.lo;
  return quickTwoSum(x, residual / (2 * x));
}

/** x^n for an integer n >= 0, correctly rounded (barring a true value within ~2^-100 relative of a tie). */
function powIntCorrectlyRounded(x: number, n: number): number {
  let result: DoubleDouble = { hi: 1, lo: 0 };
  let square: DoubleDouble = { hi: x, lo: 0 };
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = ddMultiply(result, square);
    if (e > 1) square = ddMultiply(square, square);
  }
  return result.hi + result.lo;
}

/** 2^(-2^-j) for an integer j >= 0, correctly rounded: j square roots of 1/2 in double-double. */
function rootOfHalfCorrectlyRounded(j: number): number {
  let value: DoubleDouble = { hi: 0.5, lo: 0 };
  for (let k = 0; k < j; k++) value = ddSqrt(value);
  return value.hi + value.lo;
}

/** The slopes for n = 2^k heads: r, r^2, ..., r^n with r = 2^(-2^-(k-3)), as `start * ratio**i`. */
function powerOfTwoSlopes(k: number): number[] {
  const n = 2 ** k;
  // For k <= 3 the exponent -2^(3-k) is an integer and the start an exact power of two.
  const start = k <= 3 ? 2 ** -(2 ** (3 - k)) : rootOfHalfCorrectlyRounded(k - 3);
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) slopes.push(start * powIntCorrectlyRounded(start, i));
  return slopes;
}

/** The largest accepted head count: get_slopes is O(numHeads log numHeads) here, and no model comes close. */
export const ALIBI_MAX_HEADS = 65536;

/**
 * Per-head ALiBi slopes m_0 .. m_{numHeads-1}, exactly as the official `get_slopes`
 * (ofirpress/attention_with_linear_biases, fairseq/models/transformer.py): for a power of two n, the geometric
 * sequence 2^(-8/n), 2^(-16/n), ..., 2^-8; otherwise the slopes of the closest smaller power of two p followed
 * by the first n - p of every other slope of 2p heads (which interleave between the first ones).
 * Bit-identical to the Python reference (see the double-double note above).
 */
export function alibiSlopes(numHeads: number): number[] {
  checkNumber("numHeads", numHeads, { integer: true, min: 1, max: ALIBI_MAX_HEADS });
  let k = 0;
  while (2 ** (k + 1) <= numHeads) k++;
  const closest = 2 ** k;
  const slopes = powerOfTwoSlopes(k);
  if (closest === numHeads) return slopes;
  const doubled = powerOfTwoSlopes(k + 1);
  for (let i = 0; i < numHeads - closest; i++) slopes.push(doubled[2 * i]);
  return slopes;
}

// ---------------------------------------------------------------------------------------------------------------
// Position grids shared by the attention-bias methods (ALiBi, T5, Kerple).
// ---------------------------------------------------------------------------------------------------------------

/** Query i at absolute position queryOffset + i (i < queryLength), key j at position j (j < keyLength). */
export interface BiasGridOptions {
  /** Absolute position of the first query, e.g. the number of cached tokens while decoding. Default 0. */
  queryOffset?: number;
}

/**
 * The positions of a [queryLength, keyLength] grid: queries at queryOffset + i, keys at j. Validates the
 * sizes (integers >= 0) and the offset (integer >= 0), naming the argument on failure.
 */
export function biasGridPositions(
  queryLength: number,
  keyLength: number,
  queryOffset = 0,
): { queryPositions: Float64Array; keyPositions: Float64Array } {
  checkNumber("queryLength", queryLength, { integer: true, min: 0 });
  checkNumber("keyLength", keyLength, { integer: true, min: 0 });
  // Past 2^53 positions are no longer exact integers (and 1e308 would overflow the float32 bias to -Infinity).
  checkNumber("queryOffset", queryOffset, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
  const queryPositions = new Float64Array(queryLength);
  for (let i = 0; i < queryLength; i++) queryPositions[i] = queryOffset + i;
  const keyPositions = new Float64Array(keyLength);
  for (let j = 0; j < keyLength; j++) keyPositions[j] = j;
  return { queryPositions, keyPositions };
}

/** Throws a RangeError naming `name[index]` unless every position is a finite number. */
export function checkPositions(name: string, positions: ArrayLike<number>): void {
  for (let i = 0; i < positions.length; i++) {
    if (!Number.isFinite(positions[i])) {
      throw new RangeError(`${name}[${i}] must be a finite number, received ${positions[i]}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ALiBi bias.
// ---------------------------------------------------------------------------------------------------------------

export type AlibiVariant = "causal" | "symmetric";
export const ALIBI_VARIANTS: readonly AlibiVariant[] = ["causal", "symmetric"];

function checkSlopes(slopes: ArrayLike<number>, numHeads: number): void {
  let valid = slopes.length === numHeads && numHeads >= 1;
  for (let h = 0; valid && h < slopes.length; h++) valid = Number.isFinite(slopes[h]);
  if (!valid) {
    throw new PosencConfigError(
      "invalid_value",
      "slopes",
      Array.from(slopes),
      `an array of numHeads = ${numHeads} finite numbers (at least one), one slope per head`,
    );
  }
}

/**
 * ALiBi bias for arbitrary positions (fractional and remapped position ids included), row-major
 * [slopes.length, queryPositions.length, keyPositions.length]:
 *   causal:    -slopes[h] * (q_i - k_j) where k_j <= q_i, and 0 where k_j > q_i (masked by the attention)
 *   symmetric: -slopes[h] * |q_i - k_j|
 */
export function alibiBiasAt(
  slopes: ArrayLike<number>,
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: { causal?: boolean } = {},
): Float32Array {
  const causal = options.causal ?? true;
  if (typeof causal !== "boolean")
    throw new PosencConfigError("invalid_type", "causal", causal, "true or false");
  checkSlopes(slopes, slopes.length);
  checkPositions("queryPositions", queryPositions);
  checkPositions("keyPositions", keyPositions);
  const numHeads = slopes.length;
  const q = queryPositions.length;
  const k = keyPositions.length;
  const out = new Float32Array(numHeads * q * k);
  // Plain loops, one per variant: this runs on every forward pass. "0 - x" keeps a zero bias +0 (-m * 0 is -0).
  for (let h = 0; h < numHeads; h++) {
    const m = slopes[h];
    for (let i = 0; i < q; i++) {
      const row = (h * q + i) * k;
      const qi = queryPositions[i];
      if (causal) {
        for (let j = 0; j < k; j++) {
          const d = qi - keyPositions[j];
          out[row + j] = d > 0 ? 0 - m * d : 0;
        }
      } else {
        for (let j = 0; j < k; j++) out[row + j] = 0 - m * Math.abs(qi - keyPositions[j]);
      }
    }
  }
  return out;
}

export interface AlibiBiasOptions extends BiasGridOptions {
  /** true (default): the paper's causal bias; false: the symmetric (bidirectional) bias. */
  causal?: boolean;
  /** Per-head slopes; default alibiSlopes(numHeads). */
  slopes?: ArrayLike<number>;
}

/**
 * ALiBi bias for query i at absolute position queryOffset + i against keys 0 .. keyLength - 1, row-major
 * [numHeads, queryLength, keyLength]. See alibiBiasAt for the two variants.
 */
export function alibiBias(
  numHeads: number,
  queryLength: number,
  keyLength: number,
  options: AlibiBiasOptions = {},
): Float32Array {
  checkNumber("numHeads", numHeads, { integer: true, min: 1, max: ALIBI_MAX_HEADS });
  const slopes = options.slopes ?? alibiSlopes(numHeads);
  checkSlopes(slopes, numHeads);
  const { queryPositions, keyPositions } = biasGridPositions(queryLength, keyLength, options.queryOffset);
  return alibiBiasAt(slopes, queryPositions, keyPositions, { causal: options.causal });
}

const ALIBI_PARAMS = {
  variant: {
    type: "string",
    description:
      'Distance penalty: "causal" = -m (i - j) for past keys, 0 for future keys (masked by the attention); "symmetric" = -m |i - j| for bidirectional attention (ALiBi issue #5, MosaicBERT).',
    default: "causal",
    choices: ALIBI_VARIANTS,
  },
  slopes: {
    type: "number[]",
    description:
      "Per-head slopes m_h, one per head; empty (default) uses the official geometric slopes for the model's head count.",
    default: [],
  },
} as const satisfies EncodingSpec["params"];

export const alibiSpec = defineEncoding({
  id: "alibi",
  name: "ALiBi",
  family: "attention-bias",
  paper: {
    title: "Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation",
    arxiv: "2108.12409",
    year: 2021,
  },
  formula:
    "bias[h, i, j] = -m_h * (i - j) for j <= i (causal) or -m_h * |i - j| (symmetric); m_h = 2^(-8h/n) for n = 2^k heads",
  summary:
    "Adds a fixed per-head linear distance penalty to attention logits instead of position embeddings, which lets models trained short run on longer inputs.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ variant: biasVariantOf(dims) }),
  params: ALIBI_PARAMS,
  trainable: (params, dims, _rng, path): TrainableEncoding => fixedTrainable(alibiSpec, params, dims, path),
  create(params, path = "alibi"): PositionalEncoding {
    const p = resolveParams(path, ALIBI_PARAMS, params);
    const custom = p.slopes;
    const causal = p.variant === "causal";
    return {
      id: "alibi",
      params: Object.freeze(p),
      attentionBias(queryPositions, keyPositions, numHeads) {
        checkNumber("numHeads", numHeads, { integer: true, min: 1, max: ALIBI_MAX_HEADS });
        if (custom.length > 0 && custom.length !== numHeads) {
          throw new PosencConfigError(
            "invalid_value",
            `${path}.slopes`,
            custom,
            `one slope per head: ${numHeads} values for this model (or [] for the official slopes)`,
          );
        }
        const slopes = custom.length > 0 ? custom : alibiSlopes(numHeads);
        return alibiBiasAt(slopes, queryPositions, keyPositions, { causal });
      },
    };
  },
});
