/**
 * The WASM SIMD `MatmulKernel` (../kernels/types.ts): argument checks, then the AssemblyScript kernel
 * (./assembly/matmul.ts) on one thread, or split across a thread pool when the product is large enough.
 *
 * Splitting: into chunks of batches when there are enough batches with disjoint outputs, otherwise of rows of C
 * (multiples of the kernel's 4-row tile), taken dynamically by the caller and the pool's workers. Every C
 * element is computed by exactly one thread, with the same summation order as on one thread, so results are
 * bit-identical whatever the thread count.
 */
import type { MatmulShape } from "../kernels/types.js";
import { allocBytes, isInEngineMemory } from "../memory.js";
import { type KernelExports, MATMUL_ACCUMULATE, MATMUL_TRANS_A, MATMUL_TRANS_B } from "./module.js";
import type { ThreadPool } from "./pool.js";

/** Rows of C per micro-tile: row splits fall on multiples of this. */
const TILE_ROWS = 4;
/** Chunks per thread when a product is split (dynamic scheduling through a shared counter, see ./pool.ts). */
const CHUNKS_PER_THREAD = 4;
/** Fewest rows in a row chunk: packing op(B) (k n) costs about 10% of a 64-row chunk's product (64 k n). */
const MIN_CHUNK_ROWS = 64;
/**
 * Products below this many flops (2 m n k per batch) run on one thread: waking a spinning worker costs a few
 * microseconds, a sleeping one ~50 us, while 1 MFLOP takes ~35 us at 30 GFLOP/s. Measured break-even: see
 * bench/engine-kernels.bench.ts.
 */
export const DEFAULT_SPLIT_MIN_FLOPS = 1_000_000;

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
    // Chunks: ranges of batches when the outputs of batches are disjoint and there are enough of them, else
    // ranges of rows (multiples of the 4-row tile). About CHUNKS_PER_THREAD chunks per thread, so a thread that
    // starts late or runs slowly takes fewer of them.
    const byBatch = cBatchStride >= m * n && batch >= 2 * threads;
    const units = byBatch ? batch : Math.ceil(m / TILE_ROWS);
    // A row chunk packs all of op(B) again, so it must be tall enough for that to be cheap.
    const minUnits = byBatch ? 1 : MIN_CHUNK_ROWS / TILE_ROWS;
    const unitsPerChunk = Math.max(minUnits, Math.ceil(units / (threads * CHUNKS_PER_THREAD)));
    const chunkSize = byBatch ? unitsPerChunk : unitsPerChunk * TILE_ROWS;
    const chunkCount = Math.ceil((byBatch ? batch : m) / chunkSize);
    if (chunkCount < 2) {
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
    pool!.runMatmul({
      a: pa,
      b: pb,
      c: pc,
      m,
      n,
      k,
      flags,
      aStride: aBatchStride,
      bStride: bBatchStride,
      cStride: cBatchStride,
      batch,
      byBatch,
      chunkSize,
      chunkCount,
    });
  };
}
