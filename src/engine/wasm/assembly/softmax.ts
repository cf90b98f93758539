/**
 * Row softmax kernels with f32x4 SIMD, for plain softmax over [N, C] and for the attention probabilities:
 *   forward:  y_j = exp(x_j - max x) / sum_i exp(x_i - max x)
 *   backward: dx_j += y_j (dy_j - sum_i y_i dy_i)
 * exp is a SIMD polynomial (Cephes expf: range reduction by ln 2, degree-6 polynomial; relative error ~2 ulp)
 * that returns exactly 0 below -87.3, like Math.exp underflowing.
 *
 * Pointers are byte offsets into the engine memory; 0 means "none" for optional operands.
 */

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MAX: f32 = 88.3762626647949;
const EXP_MIN: f32 = -87.3365447505531;

/** 1.5 * 2^23: adding it to a float of magnitude < 2^22 rounds it to an integer held in the low mantissa bits. */
const ROUND_MAGIC: f32 = 12582912;

/**
 * exp of four floats. Clamping uses pmin/pmax (one instruction each; the IEEE min/max of SIMD128 cost V8 several)
 * and the rounding n = nearest(x log2 e) and its integer come from the magic-number trick, not nearest +
 * trunc_sat (a long instruction sequence on x64); the results are the same, NaN still propagates.
 */
// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  const underflow = f32x4.lt(x, f32x4.splat(EXP_MIN));
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  // x = n ln2 + r, |r| <= ln2 / 2
  const shifted = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(shifted, f32x4.splat(ROUND_MAGIC));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n via the exponent bits: (n + 127) << 23, n read from the low mantissa bits of `shifted`.
  const nInt = i32x4.sub(shifted, i32x4.splat(0x4b400000));
  const pow2n = i32x4.shl(i32x4.add(nInt, i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, pow2n), underflow);
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline
function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * One row: out[j] = softmax(scale * inp[j] + bias[j]) over j < end, and out[j] = 0 for end <= j < len.
 * out may equal inp. bias 0 means no bias.
 */
function softmaxRow(out: usize, inp: usize, bias: usize, end: i32, len: i32, scale: f32): void {
  if (end <= 0) {
    memory.fill(out, 0, <usize>len << 2);
    return;
  }
  const scaleV = f32x4.splat(scale);
  let maxV = f32x4.splat(-Infinity);
  let maxS: f32 = -Infinity;
  let j = 0;
  // Pass 1: pre = scale * inp + bias into out, and the row maximum.
  for (; j + 4 <= end; j += 4) {
    const o = <usize>j << 2;
    let pre = f32x4.mul(v128.load(inp + o), scaleV);
    if (bias) pre = f32x4.add(pre, v128.load(bias + o));
    v128.store(out + o, pre);
    maxV = f32x4.max(maxV, pre);
  }
  for (; j < end; j++) {
    const o = <usize>j << 2;
    let pre = load<f32>(inp + o) * scale;
    if (bias) pre += load<f32>(bias + o);
    store<f32>(out + o, pre);
    maxS = max(maxS, pre);
  }
  let m = max(hmax(maxV), maxS);
  if (m == -Infinity) m = 0; // every entry -inf: all exps are 0 (the row becomes NaN, as in the reference)
  // Pass 2: out = exp(pre - max), and the sum.
  const mV = f32x4.splat(m);
  let sumV = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= end; j += 4) {
    const o = out + (<usize>j << 2);
    const e = expv(f32x4.sub(v128.load(o), mV));
    v128.store(o, e);
    sumV = f32x4.add(sumV, e);
  }
  // The last 1-3 entries as one vector, the missing lanes -inf (exp 0): one SIMD exp instead of one per entry.
  const tail = end - j;
  if (tail > 0) {
    const o = out + (<usize>j << 2);
    let x = f32x4.splat(-Infinity);
    x = f32x4.replace_lane(x, 0, load<f32>(o));
    if (tail > 1) x = f32x4.replace_lane(x, 1, load<f32>(o, 4));
    if (tail > 2) x = f32x4.replace_lane(x, 2, load<f32>(o, 8));
    const e = expv(f32x4.sub(x, mV));
    store<f32>(o, f32x4.extract_lane(e, 0));
    if (tail > 1) store<f32>(o, f32x4.extract_lane(e, 1), 4);
    if (tail > 2) store<f32>(o, f32x4.extract_lane(e, 2), 8);
    sumV = f32x4.add(sumV, e);
  }
  const inv: f32 = 1 / hsum(sumV);
  // Pass 3: normalize; zero the masked tail.
  const invV = f32x4.splat(inv);
  j = 0;
  for (; j + 4 <= end; j += 4) {
    const o = out + (<usize>j << 2);
    v128.store(o, f32x4.mul(v128.load(o), invV));
  }
  for (; j < end; j++) {
    const o = out + (<usize>j << 2);
    store<f32>(o, load<f32>(o) * inv);
  }
  if (end < len) memory.fill(out + (<usize>end << 2), 0, <usize>(len - end) << 2);
}

/** sum_j a[j] b[j] over j < n. */
function dot(a: usize, b: usize, n: i32): f32 {
  let sV = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    sV = f32x4.add(sV, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s: f32 = 0;
  for (; j < n; j++) s += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return hsum(sV) + s;
}

/** out[r] = softmax(inp[r]) for `rows` rows of `cols` values. */
export function softmaxRows(out: usize, inp: usize, rows: i32, cols: i32): void {
  const step = <usize>cols << 2;
  for (let r = 0; r < rows; r++) softmaxRow(out + <usize>r * step, inp + <usize>r * step, 0, cols, cols, 1);
}

/** dinp[r] += out[r] * (dout[r] - out[r] . dout[r]) for each row. */
export function softmaxRowsBackward(dinp: usize, dout: usize, out: usize, rows: i32, cols: i32): void {
  const step = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * step;
    const d = dot(out + o, dout + o, cols);
    const dV = f32x4.splat(d);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const p = o + (<usize>j << 2);
      const y = v128.load(out + p);
      v128.store(dinp + p, f32x4.add(v128.load(dinp + p), f32x4.mul(y, f32x4.sub(v128.load(dout + p), dV))));
    }
    for (; j < cols; j++) {
      const p = o + (<usize>j << 2);
      store<f32>(dinp + p, load<f32>(dinp + p) + load<f32>(out + p) * (load<f32>(dout + p) - d));
    }
  }
}

/**
 * Attention probabilities of one (batch, head) slab, in place: att (Tq x Tk) holds q.k scores on entry and
 * softmax(scale * score + bias) on exit, with row i limited to keys j < i + shift + 1 when causal (the rest 0).
 * bias (Tq x Tk, row stride Tk) may be 0.
 */
export function attentionSoftmax(att: usize, bias: usize, Tq: i32, Tk: i32, causal: bool, shift: i32, scale: f32): void {
  const step = <usize>Tk << 2;
  for (let i = 0; i < Tq; i++) {
    const end = causal ? min(Tk, i + shift + 1) : Tk;
    softmaxRow(att + <usize>i * step, att + <usize>i * step, bias ? bias + <usize>i * step : 0, end, Tk, scale);
  }
}

/**
 * Backward of `attentionSoftmax` for one slab, in place on datt: with dpre = att * (datt - att . datt) over the
 * unmasked keys, dbias += dpre (when dbias is not 0) and datt = scale * dpre (0 on masked keys).
 */
export function attentionSoftmaxBackward(
  datt: usize,
  att: usize,
  dbias: usize,
  Tq: i32,
  Tk: i32,
  causal: bool,
  shift: i32,
  scale: f32,
): void {
  const step = <usize>Tk << 2;
  const scaleV = f32x4.splat(scale);
  for (let i = 0; i < Tq; i++) {
    const end = causal ? max(0, min(Tk, i + shift + 1)) : Tk;
    const row = <usize>i * step;
    const d = dot(att + row, datt + row, end);
    const dV = f32x4.splat(d);
    let j = 0;
    for (; j + 4 <= end; j += 4) {
      const p = row + (<usize>j << 2);
      const dpre = f32x4.mul(v128.load(att + p), f32x4.sub(v128.load(datt + p), dV));
      if (dbias) v128.store(dbias + p, f32x4.add(v128.load(dbias + p), dpre));
      v128.store(datt + p, f32x4.mul(dpre, scaleV));
    }
    for (; j < end; j++) {
      const p = row + (<usize>j << 2);
      const dpre = load<f32>(att + p) * (load<f32>(datt + p) - d);
      if (dbias) store<f32>(dbias + p, load<f32>(dbias + p) + dpre);
      store<f32>(datt + p, dpre * scale);
    }
    if (end < Tk) memory.fill(datt + row + (<usize>end << 2), 0, <usize>(Tk - end) << 2);
  }
}
