/**
 * The RoPE kernels (RoFormer, Su et al., 2021, arXiv:2104.09864): cos/sin tables and the rotation of a
 * [seq, numHeads, headDim] query/key tensor, fast and reference. rope.ts re-exports everything here.
 *
 * Channel pair (a, b) of a head at position m, frequency theta_i, attention factor f:
 *   out_a = f * (x_a cos(m theta_i) - x_b sin(m theta_i))
 *   out_b = f * (x_b cos(m theta_i) + x_a sin(m theta_i))
 * (a, b) = (i, i + r/2) in the "half" layout (HF / GPT-NeoX rotate_half), (2i, 2i + 1) in the "interleaved"
 * layout (GPT-J / Meta); channels r .. headDim - 1 (partial rotary, r = rotary dim) pass through unchanged.
 */
import { sameBytes, viewsOverlap } from "../util/typed-arrays.js";
import { checkNumber } from "../util/validation.js";

export type RopeLayout = "half" | "interleaved";
export const ROPE_LAYOUTS: readonly RopeLayout[] = ["half", "interleaved"];

export interface RopeTable {
  /** Row-major [positions.length, invFreq.length]: attentionFactor * cos(position * invFreq[i]). */
  cos: Float32Array;
  /** Row-major [positions.length, invFreq.length]: attentionFactor * sin(position * invFreq[i]). */
  sin: Float32Array;
}

/** The largest finite float32, (2 - 2^-23) * 2^127. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Rows between exact re-seeds of the angle-addition recurrence in ropeCosSinTable. */
const RESEED_INTERVAL = 32;

/**
 * theta_i = base^(-2i/dim) for i < floor(dim / 2), unchecked. ropeInverseFrequencies validates and calls it; a
 * method whose base is computed (dynamic NTK) calls it directly, so that a base that cancels to 0 or overflows is
 * reported by the config reader's range check under the config key that caused it, not as "base".
 */
export function inverseFrequencyRow(dim: number, base: number): Float64Array {
  const half = Math.floor(dim / 2);
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / base ** ((2 * i) / dim);
  return invFreq;
}

export interface RopeTableOptions {
  /** Multiplies both cos and sin (HF `attention_scaling`). Default 1. */
  attentionFactor?: number;
  /** Write into these arrays (each [positions.length * invFreq.length]) instead of allocating new ones. */
  out?: RopeTable;
}

/**
 * cos/sin of position * invFreq[i] for every position (any real number, fractional included) and frequency.
 *
 * Precision: angles are float64 and the result is rounded to float32 once. Hugging Face computes
 * `position * inv_freq` in float32 (autocast disabled), whose rounding error grows with the position (half an
 * ulp of float32: up to 0.008 rad at position 131072 for the top frequency), so at large positions this table is
 * the more exact of the two. Like HF, `attentionFactor` (YaRN's mscale, LongRoPE's factor) multiplies both cos
 * and sin, so attention logits are scaled by attentionFactor^2.
 *
 * Speed: a row is computed directly with Math.cos/Math.sin (about 12 ns each in V8) unless its position
 * continues an arithmetic progression (the usual 0, 1, 2, ...): then it follows from the previous row by the
 * angle-addition recurrence, in float64,
 *   cos(a + d) = cos(a) cos(d) - sin(a) sin(d),   sin(a + d) = sin(a) cos(d) + cos(a) sin(d),
 * re-seeded exactly every 32 rows. The drift over 32 steps stays within a few hundred float64 ulps (1e-13),
 * far below float32's 6e-8, so every entry equals the direct float32 value or is one float32 ulp away (tested
 * against Math.cos/Math.sin up to position 131072). This makes the table about 5x faster to build; allocating
 * fresh output pages can then dominate, which `options.out` avoids.
 */
export function ropeCosSinTable(
  invFreq: ArrayLike<number>,
  positionsIn: ArrayLike<number>,
  options: RopeTableOptions = {},
): RopeTable {
  // HF's attention_scaling is a positive gain (YaRN's mscale, LongRoPE's factor): 0 or less zeroes or flips the
  // rotation, which no method means; above float32's largest value the float32 table would hold Infinity.
  const attentionFactor = checkNumber("attentionFactor", options.attentionFactor ?? 1, {
    min: 0,
    exclusiveMin: true,
    max: FLOAT32_MAX,
  });
  const half = invFreq.length;
  const freqs = Float64Array.from(invFreq);
  for (let i = 0; i < half; i++) {
    if (!Number.isFinite(freqs[i])) {
      throw new RangeError(`invFreq[${i}] must be a finite number, received ${invFreq[i]}`);
    }
  }
  const size = positionsIn.length * half;
  if (options.out && (options.out.cos.length !== size || options.out.sin.length !== size)) {
    throw new RangeError(
      `out.cos and out.sin must hold positions.length * invFreq.length = ${size} values, received ${options.out.cos.length} and ${options.out.sin.length}`,
    );
  }
  if (options.out && viewsOverlap(options.out.cos, options.out.sin)) {
    throw new RangeError("out.cos and out.sin must not overlap: they hold different values");
  }
  const cos = options.out?.cos ?? new Float32Array(size);
  const sin = options.out?.sin ?? new Float32Array(size);
  // Positions read from the output's own memory would be overwritten row by row: read a copy.
  const positions =
    ArrayBuffer.isView(positionsIn) && (viewsOverlap(positionsIn, cos) || viewsOverlap(positionsIn, sin))
      ? Array.from(positionsIn)
      : positionsIn;
  const seq = positions.length;
  // Unscaled float64 cos/sin of the previous row, and of the rotation by `step` positions.
  const rowCos = new Float64Array(half);
  const rowSin = new Float64Array(half);
  const stepCos = new Float64Array(half);
  const stepSin = new Float64Array(half);
  let step = Number.NaN;
  let sinceExact = 0;
  for (let t = 0; t < seq; t++) {
    const position = positions[t];
    if (!Number.isFinite(position)) {
      throw new RangeError(`positions[${t}] must be a finite number, received ${position}`);
    }
    const row = t * half;
    const diff = t > 0 ? position - positions[t - 1] : Number.NaN;
    if (diff === step && sinceExact < RESEED_INTERVAL) {
      sinceExact++;
      for (let i = 0; i < half; i++) {
        const c = rowCos[i];
        const s = rowSin[i];
        const nextCos = c * stepCos[i] - s * stepSin[i];
        const nextSin = s * stepCos[i] + c * stepSin[i];
        rowCos[i] = nextCos;
        rowSin[i] = nextSin;
        cos[row + i] = attentionFactor * nextCos;
        sin[row + i] = attentionFactor * nextSin;
      }
      continue;
    }
    if (t >= 2 && diff !== step && diff === positions[t - 1] - positions[t - 2]) {
      // Two equal steps in a row: a progression starts; rotate by it from the next row on.
      step = diff;
      for (let i = 0; i < half; i++) {
        stepCos[i] = Math.cos(step * freqs[i]);
        stepSin[i] = Math.sin(step * freqs[i]);
      }
    }
    sinceExact = 0;
    for (let i = 0; i < half; i++) {
      const angle = position * freqs[i];
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      rowCos[i] = c;
      rowSin[i] = s;
      cos[row + i] = attentionFactor * c;
      sin[row + i] = attentionFactor * s;
    }
  }
  return { cos, sin };
}

export interface ApplyRopeOptions {
  numHeads: number;
  headDim: number;
  /** Number of leading channels rotated (even, <= headDim); the rest pass through. Default headDim. */
  rotaryDim?: number;
  layout: RopeLayout;
  /**
   * Destination; omitted, or x itself (any view of x's exact bytes): rotate x in place. An `out` that partly
   * overlaps x, cos or sin is handled: those inputs are copied first.
   */
  out?: Float32Array;
}

interface RopeShape {
  seq: number;
  half: number;
  rotaryDim: number;
}

/** Checks x [seq, numHeads, headDim], cos/sin [seq, rotaryDim / 2] and out; returns the derived sizes. */
function checkRopeShapes(
  x: ArrayLike<number>,
  cos: ArrayLike<number>,
  sin: ArrayLike<number>,
  options: ApplyRopeOptions,
): RopeShape {
  const { numHeads, headDim, layout, out } = options;
  if (!Number.isInteger(numHeads) || numHeads < 1) {
    throw new RangeError(`numHeads must be an integer >= 1, received ${numHeads}`);
  }
  if (!Number.isInteger(headDim) || headDim < 1) {
    throw new RangeError(`headDim must be an integer >= 1, received ${headDim}`);
  }
  const rotaryDim = options.rotaryDim ?? headDim;
  if (!Number.isInteger(rotaryDim) || rotaryDim < 0 || rotaryDim % 2 !== 0 || rotaryDim > headDim) {
    throw new RangeError(
      `rotaryDim must be an even integer in [0, headDim = ${headDim}], received ${rotaryDim}`,
    );
  }
  if (layout !== "half" && layout !== "interleaved") {
    throw new RangeError(`layout must be "half" or "interleaved", received ${JSON.stringify(layout)}`);
  }
  const rowSize = numHeads * headDim;
  if (x.length % rowSize !== 0) {
    throw new RangeError(
      `x.length must be a multiple of numHeads * headDim = ${numHeads} * ${headDim} = ${rowSize}, received ${x.length}`,
    );
  }
  const seq = x.length / rowSize;
  const half = rotaryDim / 2;
  if (cos.length !== seq * half || sin.length !== seq * half) {
    throw new RangeError(
      `cos and sin must hold [seq = ${seq}, rotaryDim / 2 = ${half}] = ${seq * half} values, received ${cos.length} and ${sin.length}`,
    );
  }
  if (out !== undefined && out.length !== x.length) {
    throw new RangeError(`out.length must equal x.length = ${x.length}, received ${out.length}`);
  }
  return { seq, half, rotaryDim };
}

/**
 * Rotates x, row-major [seq, numHeads, headDim], by the angles of `cos`/`sin` (row-major [seq, rotaryDim / 2],
 * from ropeCosSinTable). In place when `options.out` is omitted or is x; otherwise writes `out` (the channels
 * past rotaryDim are copied) and leaves x untouched, also when `out` partly overlaps x. Returns the array written.
 *
 * Hot loop: one token-major pass reads each x value once and writes it once, and each token's cos/sin row
 * (rotaryDim / 2 values) stays in L1 for all its heads. Arithmetic is float64 on float32 inputs, rounded once on
 * store. What limits it is instruction throughput, not memory: per channel pair V8 emits two bounds-checked
 * float32 loads and stores with float32<->float64 conversions and six flops, all scalar (JavaScript has no SIMD),
 * about 2 ns per pair: roughly 0.3x the bandwidth of a plain copy in place (see bench/rope.bench.ts).
 */
export function applyRope(
  x: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  options: ApplyRopeOptions,
): Float32Array {
  const { seq, half, rotaryDim } = checkRopeShapes(x, cos, sin, options);
  const { numHeads, headDim } = options;
  const out = options.out ?? x;
  // The kernels read each pair before writing it, so writing the very bytes of x (in place) is exact; any other
  // overlap would read values already overwritten, so the overlapped inputs are read from copies.
  const inPlace = sameBytes(out, x);
  const source = !inPlace && viewsOverlap(out, x) ? x.slice() : x;
  const cosIn = viewsOverlap(out, cos) ? cos.slice() : cos;
  const sinIn = viewsOverlap(out, sin) ? sin.slice() : sin;
  if (!inPlace && rotaryDim < headDim) {
    // Partial rotary, out of place: copy everything once, then overwrite the rotated channels.
    out.set(source);
  }
  if (half === 0) return out;
  if (options.layout === "half") rotateHalfLayout(source, out, cosIn, sinIn, seq, numHeads, headDim, half);
  else rotateInterleavedLayout(source, out, cosIn, sinIn, seq, numHeads, headDim, half);
  return out;
}

// Both kernels walk the tensor once, token by token, and rotate four heads per inner iteration: each cos/sin
// value, loaded once, serves four channel pairs, and the loop overhead (index increments, bounds checks on the
// table) is shared. Measured on [4096, 32, 128] (bench/rope.bench.ts), that is about 1.3x faster than two heads
// per iteration and 1.6x faster than one. Leftover heads (numHeads % 4) go through a one-head loop.

function rotateHalfLayout(
  x: Float32Array,
  out: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  seq: number,
  numHeads: number,
  headDim: number,
  half: number,
): void {
  const quads = numHeads >> 2;
  const rest = numHeads & 3;
  let base = 0;
  for (let t = 0; t < seq; t++) {
    const tableRow = t * half;
    for (let h = 0; h < quads; h++, base += 4 * headDim) {
      // Head k of the four rotates the pairs (pk + i, qk + i).
      const p0 = base;
      const q0 = p0 + half;
      const p1 = p0 + headDim;
      const q1 = p1 + half;
      const p2 = p1 + headDim;
      const q2 = p2 + half;
      const p3 = p2 + headDim;
      const q3 = p3 + half;
      for (let i = 0; i < half; i++) {
        const c = cos[tableRow + i];
        const s = sin[tableRow + i];
        let a = x[p0 + i];
        let b = x[q0 + i];
        out[p0 + i] = a * c - b * s;
        out[q0 + i] = b * c + a * s;
        a = x[p1 + i];
        b = x[q1 + i];
        out[p1 + i] = a * c - b * s;
        out[q1 + i] = b * c + a * s;
        a = x[p2 + i];
        b = x[q2 + i];
        out[p2 + i] = a * c - b * s;
        out[q2 + i] = b * c + a * s;
        a = x[p3 + i];
        b = x[q3 + i];
        out[p3 + i] = a * c - b * s;
        out[q3 + i] = b * c + a * s;
      }
    }
    for (let h = 0; h < rest; h++, base += headDim) {
      const p = base;
      const q = base + half;
      for (let i = 0; i < half; i++) {
        const c = cos[tableRow + i];
        const s = sin[tableRow + i];
        const a = x[p + i];
        const b = x[q + i];
        out[p + i] = a * c - b * s;
        out[q + i] = b * c + a * s;
      }
    }
  }
}

function rotateInterleavedLayout(
  x: Float32Array,
  out: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  seq: number,
  numHeads: number,
  headDim: number,
  half: number,
): void {
  const quads = numHeads >> 2;
  const rest = numHeads & 3;
  let base = 0;
  for (let t = 0; t < seq; t++) {
    const tableRow = t * half;
    for (let h = 0; h < quads; h++, base += 4 * headDim) {
      // Head k of the four rotates the pairs (pk + 2i, pk + 2i + 1).
      const p0 = base;
      const p1 = p0 + headDim;
      const p2 = p1 + headDim;
      const p3 = p2 + headDim;
      for (let i = 0, j = 0; i < half; i++, j += 2) {
        const c = cos[tableRow + i];
        const s = sin[tableRow + i];
        let a = x[p0 + j];
        let b = x[p0 + j + 1];
        out[p0 + j] = a * c - b * s;
        out[p0 + j + 1] = b * c + a * s;
        a = x[p1 + j];
        b = x[p1 + j + 1];
        out[p1 + j] = a * c - b * s;
        out[p1 + j + 1] = b * c + a * s;
        a = x[p2 + j];
        b = x[p2 + j + 1];
        out[p2 + j] = a * c - b * s;
        out[p2 + j + 1] = b * c + a * s;
        a = x[p3 + j];
        b = x[p3 + j + 1];
        out[p3 + j] = a * c - b * s;
        out[p3 + j + 1] = b * c + a * s;
      }
    }
    for (let h = 0; h < rest; h++, base += headDim) {
      for (let i = 0, j = base; i < half; i++, j += 2) {
        const c = cos[tableRow + i];
        const s = sin[tableRow + i];
        const a = x[j];
        const b = x[j + 1];
        out[j] = a * c - b * s;
        out[j + 1] = b * c + a * s;
      }
    }
  }
}

/**
 * The plainest statement of RoPE, for testing the fast kernel: angles from positions and invFreq directly,
 * float64 throughout, always out of place. Returns a new Float64Array shaped like x.
 */
export function applyRopeReference(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  invFreq: ArrayLike<number>,
  options: { numHeads: number; headDim: number; layout: RopeLayout; attentionFactor?: number },
): Float64Array {
  const { numHeads, headDim, layout } = options;
  const factor = options.attentionFactor ?? 1;
  const rotaryDim = 2 * invFreq.length;
  const seq = positions.length;
  if (x.length !== seq * numHeads * headDim || rotaryDim > headDim) {
    throw new RangeError(
      `applyRopeReference: x.length ${x.length} must be ${seq} * ${numHeads} * ${headDim} and 2 * invFreq.length = ${rotaryDim} <= headDim`,
    );
  }
  const out = Float64Array.from(x);
  for (let t = 0; t < seq; t++) {
    for (let h = 0; h < numHeads; h++) {
      const base = (t * numHeads + h) * headDim;
      for (let i = 0; i < invFreq.length; i++) {
        const angle = positions[t] * invFreq[i];
        const ia = layout === "half" ? i : 2 * i;
        const ib = layout === "half" ? i + invFreq.length : 2 * i + 1;
        const a = x[ia + base];
        const b = x[ib + base];
        out[ia + base] = factor * (a * Math.cos(angle) - b * Math.sin(angle));
        out[ib + base] = factor * (b * Math.cos(angle) + a * Math.sin(angle));
      }
    }
  }
  return out;
}
