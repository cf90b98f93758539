/**
 * Moving attention heads between the token-major layout of a linear layer's output and the head-major layout the
 * attention op reads, in one pass each way (instead of slice + reshape + permute, three copies):
 *   rows  (B, T, rowStride) with head h of this part at columns offset + h * Dh ... offset + (h + 1) * Dh - 1
 *   slabs (B, H, T, Dh), contiguous
 * `headsToSlabs` writes slabs from rows, `slabsToHeads` writes rows from slabs; with `accumulate` they add (+=),
 * which makes each one the other's gradient.
 */
type Floats = Float32Array;

export interface HeadsSizes {
  B: number;
  T: number;
  H: number;
  Dh: number;
  /** Elements per (b, t) row of the token-major tensor (e.g. 3C for a fused qkv output). */
  rowStride: number;
  /** Column of head 0 of this part within a row (e.g. C for k in a fused qkv output). */
  offset: number;
}

/** slabs[b, h, t, :] (=|+=) rows[b, t, offset + h Dh : offset + (h + 1) Dh]. */
export function headsToSlabs(slabs: Floats, rows: Floats, s: HeadsSizes, accumulate: boolean): void {
  const { B, T, H, Dh, rowStride, offset } = s;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      let r = b * T * rowStride + offset + h * Dh;
      for (let t = 0; t < T; t++, r += rowStride, o += Dh) {
        if (accumulate) for (let d = 0; d < Dh; d++) slabs[o + d] += rows[r + d];
        else for (let d = 0; d < Dh; d++) slabs[o + d] = rows[r + d];
      }
    }
  }
}

/** rows[b, t, offset + h Dh : offset + (h + 1) Dh] (=|+=) slabs[b, h, t, :]. */
export function slabsToHeads(rows: Floats, slabs: Floats, s: HeadsSizes, accumulate: boolean): void {
  const { B, T, H, Dh, rowStride, offset } = s;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      let r = b * T * rowStride + offset + h * Dh;
      for (let t = 0; t < T; t++, r += rowStride, o += Dh) {
        if (accumulate) for (let d = 0; d < Dh; d++) rows[r + d] += slabs[o + d];
        else for (let d = 0; d < Dh; d++) rows[r + d] = slabs[o + d];
      }
    }
  }
}

/** out[r, :] = bias for each of the R rows of out (R x N): the starting value of a fused linear layer. */
export function fillRows(out: Floats, bias: Floats, R: number, N: number): void {
  for (let r = 0; r < R; r++) {
    const o = r * N;
    for (let j = 0; j < N; j++) out[o + j] = bias[j];
  }
}

/** dbias[j] += sum_r g[r, j] over the R rows of g (R x N): the bias gradient of a linear layer. */
export function sumRows(dbias: Floats, g: Floats, R: number, N: number): void {
  for (let r = 0; r < R; r++) {
    const o = r * N;
    for (let j = 0; j < N; j++) dbias[j] += g[o + j];
  }
}
