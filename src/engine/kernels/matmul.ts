/**
 * Reference batched matmul honouring `MatmulKernel` (./types.ts):
 *   C_b (m x n) (+)= op(A_b) (m x k) . op(B_b) (k x n)   for b in [0, batch)
 *
 * Plain JS, one thread, about 4 GFLOP/s: each product runs a 4x4 register tile (16 accumulators held in locals)
 * over a packed copy of A transposed (k x m, so the 4 A values of one step are contiguous) and of B when it is
 * stored transposed. Packing costs O(mk + kn), negligible next to the O(mkn) product.
 *
 * Accumulation is in float64 (JS numbers), rounded once when stored. The kernel also runs on Float64Array
 * (the float64 gradient checks use it) because it touches the arrays only through indexing.
 */
import type { MatmulShape } from "./types.js";

type Floats = Float32Array;

/** A scratch array of the same element type as `like`, reused across calls while large enough. */
let scratch32 = new Float32Array(0);
let scratch32b = new Float32Array(0);
let scratch64 = new Float64Array(0);
let scratch64b = new Float64Array(0);
function scratch(like: Floats, size: number, second: boolean): Floats {
  if (like instanceof Float64Array) {
    if (second) {
      if (scratch64b.length < size) scratch64b = new Float64Array(size);
      return scratch64b as unknown as Floats;
    }
    if (scratch64.length < size) scratch64 = new Float64Array(size);
    return scratch64 as unknown as Floats;
  }
  if (second) {
    if (scratch32b.length < size) scratch32b = new Float32Array(size);
    return scratch32b;
  }
  if (scratch32.length < size) scratch32 = new Float32Array(size);
  return scratch32;
}

/** Checks that every operand's last batch slab fits inside its array; a RangeError names the operand. */
function checkMatmulBounds(a: Floats, b: Floats, c: Floats, s: MatmulShape): void {
  const last = s.batch - 1;
  const need = (name: string, arr: Floats, stride: number, size: number): void => {
    if (s.batch > 0 && last * stride + size > arr.length) {
      throw new RangeError(
        `matmul kernel: ${name} has ${arr.length} elements, needs ${last * stride + size} for batch ${s.batch} ` +
          `(batch stride ${stride}, ${size} per product)`,
      );
    }
  };
  need("a", a, s.aBatchStride, s.m * s.k);
  need("b", b, s.bBatchStride, s.k * s.n);
  need("c", c, s.cBatchStride, s.m * s.n);
}

/**
 * out (m x n) (+)= aT^T . bRow, where aT is A transposed (k x m, row-major) and bRow is B (k x n, row-major).
 * aT and bRow are read from the given offsets.
 */
// biome-ignore format: the 4x4 tile reads best as a grid
function tiledProduct(
  out: Floats, outOffset: number, aT: Floats, aOffset: number, bRow: Floats, bOffset: number,
  m: number, n: number, k: number, accumulate: boolean,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = aOffset + i;
      let pb = bOffset + j;
      for (let p = 0; p < k; p++) {
        const a0 = aT[pa], a1 = aT[pa + 1], a2 = aT[pa + 2], a3 = aT[pa + 3];
        const b0 = bRow[pb], b1 = bRow[pb + 1], b2 = bRow[pb + 2], b3 = bRow[pb + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        pa += m;
        pb += n;
      }
      const r0 = outOffset + i * n + j, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
      if (accumulate) {
        out[r0] += c00; out[r0 + 1] += c01; out[r0 + 2] += c02; out[r0 + 3] += c03;
        out[r1] += c10; out[r1 + 1] += c11; out[r1 + 2] += c12; out[r1 + 3] += c13;
        out[r2] += c20; out[r2 + 1] += c21; out[r2 + 2] += c22; out[r2 + 3] += c23;
        out[r3] += c30; out[r3 + 1] += c31; out[r3 + 2] += c32; out[r3 + 3] += c33;
      } else {
        out[r0] = c00; out[r0 + 1] = c01; out[r0 + 2] = c02; out[r0 + 3] = c03;
        out[r1] = c10; out[r1 + 1] = c11; out[r1 + 2] = c12; out[r1 + 3] = c13;
        out[r2] = c20; out[r2 + 1] = c21; out[r2 + 2] = c22; out[r2 + 3] = c23;
        out[r3] = c30; out[r3 + 1] = c31; out[r3 + 2] = c32; out[r3 + 3] = c33;
      }
    }
  }
  // Ragged edges: the last m % 4 rows (all columns) and the last n % 4 columns of the tiled rows.
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += aT[aOffset + p * m + i] * bRow[bOffset + p * n + j];
      const o = outOffset + i * n + j;
      out[o] = accumulate ? out[o] + sum : sum;
    }
  }
}

/** Writes the transpose of src (rows x cols, row-major, from srcOffset) into dst (cols x rows). */
function transposeInto(dst: Floats, src: Floats, srcOffset: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const row = srcOffset + r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[row + c];
  }
}

/** The reference `MatmulKernel`. */
export function matmulReference(a: Floats, b: Floats, c: Floats, shape: MatmulShape): void {
  const { batch, m, n, k, transA, transB, aBatchStride, bBatchStride, cBatchStride, accumulate } = shape;
  checkMatmulBounds(a, b, c, shape);
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate)
      for (let bi = 0; bi < batch; bi++) c.fill(0, bi * cBatchStride, bi * cBatchStride + m * n);
    return;
  }
  const aPack = transA ? null : scratch(a, m * k, false);
  const bPack = transB ? scratch(b, k * n, true) : null;
  let packedA = -1;
  let packedB = -1;
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * aBatchStride;
    const bOff = bi * bBatchStride;
    // A stored m x k needs transposing to k x m; stored k x m (transA) it is already aT. Skip repacking an
    // operand broadcast over the batch (stride 0).
    let aT: Floats = a;
    let aTOff = aOff;
    if (aPack) {
      if (packedA !== aOff) transposeInto(aPack, a, aOff, m, k);
      packedA = aOff;
      aT = aPack;
      aTOff = 0;
    }
    let bRow: Floats = b;
    let bRowOff = bOff;
    if (bPack) {
      if (packedB !== bOff) transposeInto(bPack, b, bOff, n, k);
      packedB = bOff;
      bRow = bPack;
      bRowOff = 0;
    }
    tiledProduct(c, bi * cBatchStride, aT, aTOff, bRow, bRowOff, m, n, k, accumulate);
  }
}

/** The simplest correct product, for testing faster kernels (including matmulReference itself). */
export function matmulNaive(a: Floats, b: Floats, c: Floats, shape: MatmulShape): void {
  const { batch, m, n, k, transA, transB, aBatchStride, bBatchStride, cBatchStride, accumulate } = shape;
  checkMatmulBounds(a, b, c, shape);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = a[bi * aBatchStride + (transA ? p * m + i : i * k + p)];
          const bv = b[bi * bBatchStride + (transB ? j * k + p : p * n + j)];
          sum += av * bv;
        }
        const o = bi * cBatchStride + i * n + j;
        c[o] = accumulate ? c[o] + sum : sum;
      }
    }
  }
}
