/**
 * Batched matrix multiply with f32x4 SIMD, GotoBLAS/BLIS style:
 *   C_b (m x n) (+)= op(A_b) (m x k) . op(B_b) (k x n)
 *
 * Loops, outermost first: batch; column blocks of NC; depth blocks of KC (op(B) block packed into NR-wide
 * micro-panels, kc x NR each, so the micro-kernel reads B contiguously whatever its layout); row blocks of MC
 * (op(A) block packed into MR-tall micro-panels, kc x MR); then NR x MR tiles computed by a micro-kernel that
 * keeps the whole MR x NR tile of C in 8 SIMD registers: per depth step it loads two B vectors, splats MR A values
 * and does MR x 2 multiply-adds. SIMD128 has no FMA (mul then add, two roundings); the relaxed-SIMD build
 * (scripts/build-wasm.mjs, `--enable relaxed-simd`) uses f32x4.relaxed_madd instead, which V8 lowers to one
 * fused multiply-add where the CPU has FMA (one rounding) and to mul + add where not. Only the micro-kernel
 * differs between the two builds.
 *
 * Summation order for every C element is fixed by (KC blocking, then p ascending) alone, independent of which
 * rows or batches a thread is given, so splitting work across threads gives bit-identical results.
 *
 * Pointers are byte offsets into the imported engine memory; sizes and strides count float32 elements.
 * `work` points to a per-thread workspace of WORKSPACE_BYTES bytes (packed A, packed B, one edge tile).
 */

const MR: i32 = 4;
const NR: i32 = 8;
/** Depth block: sums over more than KC terms are added to C block by block (./attention.ts follows the order). */
export const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 1024;

const PACKED_B_BYTES: i32 = KC * NC * 4;
const PACKED_A_BYTES: i32 = KC * MC * 4;
const TILE_BYTES: i32 = MR * NR * 4;
/** Bytes of workspace one thread needs for `matmul`. */
export const WORKSPACE_BYTES: i32 = PACKED_B_BYTES + PACKED_A_BYTES + TILE_BYTES;

const FLAG_TRANS_A: i32 = 1;
const FLAG_TRANS_B: i32 = 2;
const FLAG_ACCUMULATE: i32 = 4;

/**
 * Packs op(B)[pc .. pc+kc, jc .. jc+nc] into NR-wide micro-panels: dst[(jr/NR)*kc*NR + p*NR + jj], zero padded
 * past column nc. op(B)(p, j) = B[p*n + j], or B[j*k + p] when transposed.
 */
function packB(dst: usize, b: usize, trans: bool, k: i32, n: i32, pc: i32, kc: i32, jc: i32, nc: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    if (!trans) {
      let src = b + (<usize>(pc * n + jc + jr) << 2);
      const srcStep = <usize>n << 2;
      if (nr == NR) {
        for (let p = 0; p < kc; p++) {
          const d = panel + (<usize>(p * NR) << 2);
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += srcStep;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const d = panel + (<usize>(p * NR) << 2);
          v128.store(d, f32x4.splat(0));
          v128.store(d, f32x4.splat(0), 16);
          for (let jj = 0; jj < nr; jj++) store<f32>(d + (<usize>jj << 2), load<f32>(src + (<usize>jj << 2)));
          src += srcStep;
        }
      }
    } else if (nr == NR) {
      // Eight rows of B (= columns of op(B)), 4 depths at a time, as two 4x4 shuffle transposes.
      const ldb = <usize>k << 2;
      const src = b + (<usize>((jc + jr) * k + pc) << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const d = panel + (<usize>(p * NR) << 2);
        for (let half = 0; half < 2; half++) {
          const s = src + (<usize>p << 2) + <usize>(half * 4) * ldb;
          const r0 = v128.load(s);
          const r1 = v128.load(s + ldb);
          const r2 = v128.load(s + 2 * ldb);
          const r3 = v128.load(s + 3 * ldb);
          const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
          const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
          const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
          const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
          const dh = d + (<usize>half << 4);
          v128.store(dh, v128.shuffle<i64>(t0, t2, 0, 2));
          v128.store(dh, v128.shuffle<i64>(t0, t2, 1, 3), 32);
          v128.store(dh, v128.shuffle<i64>(t1, t3, 0, 2), 64);
          v128.store(dh, v128.shuffle<i64>(t1, t3, 1, 3), 96);
        }
      }
      for (; p < kc; p++) {
        const d = panel + (<usize>(p * NR) << 2);
        for (let jj = 0; jj < NR; jj++) store<f32>(d + (<usize>jj << 2), load<f32>(src + <usize>jj * ldb + (<usize>p << 2)));
      }
    } else {
      for (let jj = 0; jj < NR; jj++) {
        const d = panel + (<usize>jj << 2);
        if (jj < nr) {
          const src = b + (<usize>((jc + jr + jj) * k + pc) << 2);
          for (let p = 0; p < kc; p++) store<f32>(d + (<usize>(p * NR) << 2), load<f32>(src + (<usize>p << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(d + (<usize>(p * NR) << 2), 0);
        }
      }
    }
  }
}

/**
 * Packs op(A)[ic .. ic+mc, pc .. pc+kc] into MR-tall micro-panels: dst[(ir/MR)*kc*MR + p*MR + ii], zero padded
 * past row mc. op(A)(i, p) = A[i*k + p], or A[p*m + i] when transposed.
 */
function packA(dst: usize, a: usize, trans: bool, m: i32, k: i32, ic: i32, mc: i32, pc: i32, kc: i32): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const panel = dst + <usize>(ir * kc) * 4;
    if (trans) {
      let src = a + (<usize>(pc * m + ic + ir) << 2);
      const srcStep = <usize>m << 2;
      if (mr == MR) {
        for (let p = 0; p < kc; p++) {
          v128.store(panel + (<usize>(p * MR) << 2), v128.load(src));
          src += srcStep;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const d = panel + (<usize>(p * MR) << 2);
          v128.store(d, f32x4.splat(0));
          for (let ii = 0; ii < mr; ii++) store<f32>(d + (<usize>ii << 2), load<f32>(src + (<usize>ii << 2)));
          src += srcStep;
        }
      }
    } else if (mr == MR) {
      // Four rows of A, read 4 depths at a time and transposed in registers (4x4 shuffle transpose).
      const lda = <usize>k << 2;
      const src = a + (<usize>((ic + ir) * k + pc) << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2);
        const r0 = v128.load(s);
        const r1 = v128.load(s + lda);
        const r2 = v128.load(s + 2 * lda);
        const r3 = v128.load(s + 3 * lda);
        const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
        const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
        const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
        const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
        const d = panel + (<usize>(p * MR) << 2);
        v128.store(d, v128.shuffle<i64>(t0, t2, 0, 2));
        v128.store(d, v128.shuffle<i64>(t0, t2, 1, 3), 16);
        v128.store(d, v128.shuffle<i64>(t1, t3, 0, 2), 32);
        v128.store(d, v128.shuffle<i64>(t1, t3, 1, 3), 48);
      }
      for (; p < kc; p++) {
        const d = panel + (<usize>(p * MR) << 2);
        const s = src + (<usize>p << 2);
        store<f32>(d, load<f32>(s));
        store<f32>(d + 4, load<f32>(s + lda));
        store<f32>(d + 8, load<f32>(s + 2 * lda));
        store<f32>(d + 12, load<f32>(s + 3 * lda));
      }
    } else {
      for (let ii = 0; ii < MR; ii++) {
        const d = panel + (<usize>ii << 2);
        if (ii < mr) {
          const src = a + (<usize>((ic + ir + ii) * k + pc) << 2);
          for (let p = 0; p < kc; p++) store<f32>(d + (<usize>(p * MR) << 2), load<f32>(src + (<usize>p << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(d + (<usize>(p * MR) << 2), 0);
        }
      }
    }
  }
}

/** acc + a * b: fused (relaxed_madd) in the relaxed-SIMD build, mul then add otherwise (decided at compile time). */
// @ts-expect-error: decorator
@inline
export function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * The micro-kernel: the MR x NR tile at c (row stride ldc bytes) (+)= packed A panel (kc x MR) . packed B panel
 * (kc x NR). With `add`, the tile is added to C; otherwise it overwrites C.
 */
// @ts-expect-error: decorator
@inline
function kernel4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // One depth step per iteration. (Unrolling by two lets binaryen fuse the steps into longer expressions, and
  // V8 then needs more than its 15 free SIMD registers and spills accumulators to the stack: 30% slower.)
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(c00, a, b0);
    c01 = madd(c01, a, b1);
    a = v128.load32_splat(pa, 4);
    c10 = madd(c10, a, b0);
    c11 = madd(c11, a, b1);
    a = v128.load32_splat(pa, 8);
    c20 = madd(c20, a, b0);
    c21 = madd(c21, a, b1);
    a = v128.load32_splat(pa, 12);
    c30 = madd(c30, a, b0);
    c31 = madd(c31, a, b1);
    pa += 16;
    pb += 32;
  }
  const r0 = c;
  const r1 = r0 + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  if (add) {
    c00 = f32x4.add(v128.load(r0), c00);
    c01 = f32x4.add(v128.load(r0, 16), c01);
    c10 = f32x4.add(v128.load(r1), c10);
    c11 = f32x4.add(v128.load(r1, 16), c11);
    c20 = f32x4.add(v128.load(r2), c20);
    c21 = f32x4.add(v128.load(r2, 16), c21);
    c30 = f32x4.add(v128.load(r3), c30);
    c31 = f32x4.add(v128.load(r3, 16), c31);
  }
  v128.store(r0, c00);
  v128.store(r0, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

function kernelFull(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  if (add) kernel4x8(pa, pb, kc, c, ldc, true);
  else kernel4x8(pa, pb, kc, c, ldc, false);
}

/** A ragged tile (mr < MR or nr < NR): compute the full tile into `tile`, then merge the valid part into C. */
function kernelEdge(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool, mr: i32, nr: i32, tile: usize): void {
  kernel4x8(pa, pb, kc, tile, <usize>(NR * 4), false);
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * ldc;
    const t = tile + (<usize>(i * NR) << 2);
    for (let j = 0; j < nr; j++) {
      const o = row + (<usize>j << 2);
      const v = load<f32>(t + (<usize>j << 2));
      store<f32>(o, add ? load<f32>(o) + v : v);
    }
  }
}

/**
 * Batches [batchBegin, batchEnd) and, within each, rows [rowBegin, rowEnd) of C. `flags`: 1 transA, 2 transB,
 * 4 accumulate. Strides are per batch, in elements (0 broadcasts the operand).
 */
export function matmul(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  flags: i32,
  aStride: i32,
  bStride: i32,
  cStride: i32,
  batchBegin: i32,
  batchEnd: i32,
  rowBegin: i32,
  rowEnd: i32,
  work: usize,
): void {
  const transA = (flags & FLAG_TRANS_A) != 0;
  const transB = (flags & FLAG_TRANS_B) != 0;
  const accumulate = (flags & FLAG_ACCUMULATE) != 0;
  const packedB = work;
  const packedA = work + <usize>PACKED_B_BYTES;
  const tile = packedA + <usize>PACKED_A_BYTES;
  const ldc = <usize>n << 2;
  for (let bi = batchBegin; bi < batchEnd; bi++) {
    const aB = a + (<usize>bi * <usize>aStride << 2);
    const bB = b + (<usize>bi * <usize>bStride << 2);
    const cB = c + (<usize>bi * <usize>cStride << 2);
    if (k == 0) {
      if (!accumulate) memory.fill(cB + <usize>rowBegin * ldc, 0, <usize>(rowEnd - rowBegin) * ldc);
      continue;
    }
    for (let jc = 0; jc < n; jc += NC) {
      const nc = min(NC, n - jc);
      for (let pc = 0; pc < k; pc += KC) {
        const kc = min(KC, k - pc);
        const add = accumulate || pc > 0;
        packB(packedB, bB, transB, k, n, pc, kc, jc, nc);
        for (let ic = rowBegin; ic < rowEnd; ic += MC) {
          const mc = min(MC, rowEnd - ic);
          packA(packedA, aB, transA, m, k, ic, mc, pc, kc);
          for (let jr = 0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const pb = packedB + (<usize>(jr * kc) << 2);
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const pa = packedA + (<usize>(ir * kc) << 2);
              const cTile = cB + <usize>(ic + ir) * ldc + (<usize>(jc + jr) << 2);
              if (mr == MR && nr == NR) kernelFull(pa, pb, kc, cTile, ldc, add);
              else kernelEdge(pa, pb, kc, cTile, ldc, add, mr, nr, tile);
            }
          }
        }
      }
    }
  }
}
