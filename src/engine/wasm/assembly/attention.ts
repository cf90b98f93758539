/**
 * Fused attention of one (batch, head) slab, row by row, computing only the keys a query sees:
 *   forward:  s_ij = q_i . k_j (j < end_i), att_i = softmax(scale s_i + bias_i), out_i = sum_{j < end_i} att_ij v_j
 *   backward: datt_ij = dout_i . v_j, g_ij = scale att_ij (datt_ij - att_i . datt_i) (dbias += g / scale),
 *             dq_i += sum_j g_ij k_j,  dk_j += sum_i g_ij q_i,  dv_j += sum_i att_ij dout_i
 * with end_i = min(Tk, i + shift + 1) when causal (shift = Tk - Tq), else Tk. A causal slab thus does about half
 * the multiply-adds of the batched matmuls (./matmul.ts) that compute every score and then zero the masked ones.
 *
 * Same numbers as the matmul path, bit for bit: every dot product and weighted sum runs its terms in the order
 * the matmul micro-kernel does (ascending, one `madd` per term from a zero accumulator, in blocks of KC terms
 * whose partial sums are added to the output block after block), and the softmax and its backward are the same
 * row kernels (./softmax.ts). The masked terms the matmul adds are exact zeros (acc + 0 * x = acc), so leaving
 * them out changes no bit. src/engine/wasm/attention.test.ts holds the two paths to equality.
 *
 * Layouts (float32, row-major): q (Tq, D), k (Tk, D), v (Tk, Dv), out and dout (Tq, Dv), att (Tq, Tk); bias and
 * dbias (Tq, Tk) or 0 for none. D and Dv are multiples of 4 (the caller falls back to the matmul path otherwise).
 * `work` holds (Tk rounded up to 16) x max(D, Dv) floats for a transposed k or v, plus Tq x Tk floats in backward.
 */
import { KC, madd } from "./matmul";
import { attentionSoftmax, attentionSoftmaxBackward } from "./softmax";

/** Columns rounded up to whole blocks of 16 (four vectors): the row stride of a transposed operand. */
// @ts-expect-error: decorator
@inline
function padded(n: i32): i32 {
  return (n + 15) & ~15;
}

/** Stores the lanes of a below `count` (0..4) at o. */
// @ts-expect-error: decorator
@inline
function storeLanes(o: usize, a: v128, count: i32): void {
  if (count >= 4) v128.store(o, a);
  else if (count > 0) {
    store<f32>(o, f32x4.extract_lane(a, 0));
    if (count > 1) store<f32>(o, f32x4.extract_lane(a, 1), 4);
    if (count > 2) store<f32>(o, f32x4.extract_lane(a, 2), 8);
  }
}

/** dst (cols x ld) = src (rows x cols) transposed, for rows <= ld; lanes past `rows` are zero. */
function transpose(dst: usize, src: usize, rows: i32, cols: i32, ld: i32): void {
  for (let c = 0; c < cols; c++) {
    const d = dst + (<usize>(c * ld) << 2);
    for (let r = 0; r < rows; r++) store<f32>(d + (<usize>r << 2), load<f32>(src + (<usize>(r * cols + c) << 2)));
    for (let r = rows; r < ld; r++) store<f32>(d + (<usize>r << 2), 0);
  }
}

/**
 * out[j] = x . yT[:, j] = sum_{d < n} x[d] yT[d * ld + j] for j < end (yT: n rows of stride ld, a multiple of 16
 * and >= end, zero past the real columns). Sixteen columns at a time, in four independent accumulator chains that
 * hide the multiply-add latency; only the columns below end are stored.
 */
function rowDots(out: usize, x: usize, yT: usize, n: i32, ld: i32, end: i32): void {
  const ldBytes = <usize>ld << 2;
  for (let j = 0; j < end; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let col = yT + (<usize>j << 2);
    for (let d = 0; d < n; d++) {
      const xd = v128.load32_splat(x + (<usize>d << 2));
      a0 = madd(a0, xd, v128.load(col));
      a1 = madd(a1, xd, v128.load(col, 16));
      a2 = madd(a2, xd, v128.load(col, 32));
      a3 = madd(a3, xd, v128.load(col, 48));
      col += ldBytes;
    }
    const o = out + (<usize>j << 2);
    const left = end - j;
    storeLanes(o, a0, left);
    storeLanes(o + 16, a1, left - 4);
    storeLanes(o + 32, a2, left - 8);
    storeLanes(o + 48, a3, left - 12);
  }
}

/**
 * out[0..n) (+)= sum_{r0 <= r < r1} coef[r * coefStride] rows[r * n .. r * n + n): a weighted sum of rows, in the
 * matmul's order: terms ascending within blocks of KC (aligned at multiples of KC, as the matmul's depth blocks
 * are), each block summed from zero and then added to out (or, without `add`, the first block stored). n is a
 * multiple of 4; with r0 >= r1 and no `add`, out becomes 0.
 */
function weightedRows(out: usize, coef: usize, coefStride: i32, rows: usize, n: i32, r0: i32, r1: i32, add: bool): void {
  const rowBytes = <usize>n << 2;
  const coefStep = <usize>coefStride << 2;
  let first = !add;
  let d = 0;
  for (; d + 16 <= n; d += 16) {
    const o = out + (<usize>d << 2);
    let store0 = first;
    for (let blockStart = r0 - (r0 % KC); blockStart < r1; blockStart += KC) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      const stop = min(r1, blockStart + KC);
      let r = max(r0, blockStart);
      let c = coef + <usize>r * coefStep;
      let row = rows + <usize>r * rowBytes + (<usize>d << 2);
      for (; r < stop; r++) {
        const w = v128.load32_splat(c);
        a0 = madd(a0, w, v128.load(row));
        a1 = madd(a1, w, v128.load(row, 16));
        a2 = madd(a2, w, v128.load(row, 32));
        a3 = madd(a3, w, v128.load(row, 48));
        c += coefStep;
        row += rowBytes;
      }
      if (!store0) {
        a0 = f32x4.add(v128.load(o), a0);
        a1 = f32x4.add(v128.load(o, 16), a1);
        a2 = f32x4.add(v128.load(o, 32), a2);
        a3 = f32x4.add(v128.load(o, 48), a3);
      }
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
      store0 = false;
    }
    if (store0) memory.fill(o, 0, 64);
  }
  for (; d < n; d += 4) {
    const o = out + (<usize>d << 2);
    let store0 = first;
    for (let blockStart = r0 - (r0 % KC); blockStart < r1; blockStart += KC) {
      let a = f32x4.splat(0);
      const stop = min(r1, blockStart + KC);
      let r = max(r0, blockStart);
      let c = coef + <usize>r * coefStep;
      let row = rows + <usize>r * rowBytes + (<usize>d << 2);
      for (; r < stop; r++) {
        a = madd(a, v128.load32_splat(c), v128.load(row));
        c += coefStep;
        row += rowBytes;
      }
      v128.store(o, store0 ? a : f32x4.add(v128.load(o), a));
      store0 = false;
    }
    if (store0) v128.store(o, f32x4.splat(0));
  }
}

/** Keys query row i sees: [0, end). */
// @ts-expect-error: decorator
@inline
function visibleKeys(i: i32, Tk: i32, causal: bool, shift: i32): i32 {
  return causal ? max(0, min(Tk, i + shift + 1)) : Tk;
}

/** First query row that sees key j (causal: rows i with j <= i + shift). */
// @ts-expect-error: decorator
@inline
function firstQuery(j: i32, causal: bool, shift: i32): i32 {
  return causal ? max(0, j - shift) : 0;
}

/** Forward of one slab: att (saved for backward, masked entries 0) and out. */
export function attentionRowsForward(
  out: usize,
  att: usize,
  q: usize,
  k: usize,
  v: usize,
  bias: usize,
  Tq: i32,
  Tk: i32,
  D: i32,
  Dv: i32,
  causal: bool,
  scale: f32,
  work: usize,
): void {
  const shift = Tk - Tq;
  const ld = padded(Tk);
  transpose(work, k, Tk, D, ld);
  const attRow = <usize>Tk << 2;
  for (let i = 0; i < Tq; i++) {
    const end = visibleKeys(i, Tk, causal, shift);
    const a = att + <usize>i * attRow;
    rowDots(a, q + (<usize>(i * D) << 2), work, D, ld, end);
    // One row of the slab softmax: row i's mask is that of row 0 with shift + i.
    attentionSoftmax(a, bias ? bias + <usize>i * attRow : 0, 1, Tk, causal, shift + i, scale);
    weightedRows(out + (<usize>(i * Dv) << 2), a, 1, v, Dv, 0, end, false);
  }
}

/** Backward of one slab; dq, dk, dv, dbias may be 0 (not needed); all accumulate. */
export function attentionRowsBackward(
  dq: usize,
  dk: usize,
  dv: usize,
  dbias: usize,
  dout: usize,
  att: usize,
  q: usize,
  k: usize,
  v: usize,
  Tq: i32,
  Tk: i32,
  D: i32,
  Dv: i32,
  causal: bool,
  scale: f32,
  work: usize,
): void {
  const shift = Tk - Tq;
  const attRow = <usize>Tk << 2;
  const tkStride = Tk;
  // dv_j += sum_i att_ij dout_i (column j of att, over the rows that see key j)
  if (dv) {
    for (let j = 0; j < Tk; j++) {
      weightedRows(dv + (<usize>(j * Dv) << 2), att + (<usize>j << 2), tkStride, dout, Dv, firstQuery(j, causal, shift), Tq, true);
    }
  }
  if (!dq && !dk && !dbias) return;
  const ld = padded(Tk);
  const g = work + (<usize>(ld * Dv) << 2);
  transpose(work, v, Tk, Dv, ld);
  for (let i = 0; i < Tq; i++) {
    const end = visibleKeys(i, Tk, causal, shift);
    const gi = g + <usize>i * attRow;
    rowDots(gi, dout + (<usize>(i * Dv) << 2), work, Dv, ld, end);
    // g_i = scale dpre_i in place (0 past end), dbias_i += dpre_i
    attentionSoftmaxBackward(gi, att + <usize>i * attRow, dbias ? dbias + <usize>i * attRow : 0, 1, Tk, causal, shift + i, scale);
    if (dq) weightedRows(dq + (<usize>(i * D) << 2), gi, 1, k, D, 0, end, true);
  }
  if (dk) {
    for (let j = 0; j < Tk; j++) {
      weightedRows(dk + (<usize>(j * D) << 2), g + (<usize>j << 2), tkStride, q, D, firstQuery(j, causal, shift), Tq, true);
    }
  }
}
