/**
 * The WASM SIMD `MatmulKernel` (../kernels/types.ts): argument checks, then the AssemblyScript kernel
 * (./assembly/matmul.ts) on one thread, or split across a thread pool when the product is large enough.
 *
 * Splitting: by batch ranges when there are several batches with disjoint outputs (even count, or at least 8
 * so the imbalance is small), otherwise by row ranges of C (multiples of the kernel's 4-row tile). Every C
 * element is computed by exactly one thread, with the same summation order as on one thread, so results are
 * bit-identical whatever the thread count.
 */
import type { MatmulShape } from "../kernels/types.js";
import { allocBytes, isInEngineMemory } from "../memory.js";
import { type KernelExports, MATMUL_ACCUMULATE, MATMUL_TRANS_A, MATMUL_TRANS_B } from "./module.js";
import type { ThreadPool } from "./pool.js";

/** Rows of C per micro-tile: row splits fall on multiples of this. */
const TILE_ROWS = 4;
/**
 * Products below this many flops (2 m n k per batch) run on one thread: waking a spinning worker costs a few
 * microseconds, a sleeping one ~50 us, while 1 MFLOP takes ~35 us at 30 GFLOP/s. Measured break-even: see
 * bench/engine-kernels.bench.ts.
 */
export const DEFAULT_SPLIT_MIN_FLOPS = 2_000_000;

function checkShape(a: Float32Array, b: Float32Array, c: Float32Array, s: MatmulShape): void {
  for (const key of ["batch", "m", "n", "k", "aBatchStride", "bBatchStride", "cBatchStride"] as const) {
    const v = s[key];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new RangeError(`wasm matmul: shape.${key} must be a non-negative integer, got ${v}`);
    }
  }
  const last = s.batch - 1;
  const need = (name: string, arr: Float32Array, stride: number, size: number): void => {
    if (!isInEngineMemory(arr)) {
      throw new RangeError(
        `wasm matmul: ${name} is not a view of the engine memory (allocate it with allocFloat32)`,
      );
    }
    if (s.batch > 0 && size > 0 && last * stride + size > arr.length) {
      throw new RangeError(
        `wasm matmul: ${name} has ${arr.length} elements, needs ${last * stride + size} for batch ${s.batch} ` +
          `(batch stride ${stride}, ${size} per product)`,
      );
    }
  };
  need("a", a, s.aBatchStride, s.m * s.k);
  need("b", b, s.bBatchStride, s.k * s.n);
  need("c", c, s.cBatchStride, s.m * s.n);
}

/** Splits [0, total) into `parts` contiguous ranges whose boundaries are multiples of `quantum`. */
function splitRange(total: number, parts: number, quantum: number): number[] {
  const bounds = [0];
  for (let p = 1; p < parts; p++) {
    const cut = Math.min(total, Math.round((total * p) / parts / quantum) * quantum);
    bounds.push(Math.max(cut, bounds[p - 1]));
  }
  bounds.push(total);
  return bounds;
}

/** Options for `createWasmMatmul`. */
export interface WasmMatmulOptions {
  /** Split products of at least this many flops across the pool. */
  splitMinFlops?: number;
}

/** A WASM `MatmulKernel` running on `kernels` (this thread's instance), using `pool` for large products. */
export function createWasmMatmul(
  kernels: KernelExports,
  pool: ThreadPool | null,
  options: WasmMatmulOptions = {},
): (a: Float32Array, b: Float32Array, c: Float32Array, shape: MatmulShape) => void {
  const work = allocBytes(kernels.WORKSPACE_BYTES.value);
  const splitMinFlops = options.splitMinFlops ?? DEFAULT_SPLIT_MIN_FLOPS;
  return function matmulWasm(a, b, c, shape) {
    checkShape(a, b, c, shape);
    const { batch, m, n, k } = shape;
    if (batch === 0 || m === 0 || n === 0) return;
    const flags =
      (shape.transA ? MATMUL_TRANS_A : 0) |
      (shape.transB ? MATMUL_TRANS_B : 0) |
      (shape.accumulate ? MATMUL_ACCUMULATE : 0);
    const pa = a.byteOffset;
    const pb = b.byteOffset;
    const pc = c.byteOffset;
    const { aBatchStride, bBatchStride, cBatchStride } = shape;
    const threads = pool ? pool.threads : 1;
    const flops = 2 * batch * m * n * Math.max(k, 1);
    if (threads === 1 || flops < splitMinFlops) {
      kernels.matmul(
        pa,
        pb,
        pc,
        m,
        n,
        k,
        flags,
        aBatchStride,
        bBatchStride,
        cBatchStride,
        0,
        batch,
        0,
        m,
        work,
      );
      return;
    }
    const disjointBatches = cBatchStride >= m * n;
    const byBatch = disjointBatches && batch >= threads && (batch % threads === 0 || batch >= 4 * threads);
    const bounds = byBatch ? splitRange(batch, threads, 1) : splitRange(m, threads, TILE_ROWS);
    const args: number[][] = [];
    for (let t = 1; t < threads; t++) {
      const lo = bounds[t];
      const hi = bounds[t + 1];
      if (lo === hi) continue;
      args.push(
        byBatch
          ? [pa, pb, pc, m, n, k, flags, aBatchStride, bBatchStride, cBatchStride, lo, hi, 0, m]
          : [pa, pb, pc, m, n, k, flags, aBatchStride, bBatchStride, cBatchStride, 0, batch, lo, hi],
      );
    }
    pool!.runMatmul(args, () => {
      const hi = bounds[1];
      if (hi === 0) return;
      if (byBatch) {
        kernels.matmul(
          pa,
          pb,
          pc,
          m,
          n,
          k,
          flags,
          aBatchStride,
          bBatchStride,
          cBatchStride,
          0,
          hi,
          0,
          m,
          work,
        );
      } else {
        kernels.matmul(
          pa,
          pb,
          pc,
          m,
          n,
          k,
          flags,
          aBatchStride,
          bBatchStride,
          cBatchStride,
          0,
          batch,
          0,
          hi,
          work,
        );
      }
    });
  };
}
