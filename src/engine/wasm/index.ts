/**
 * The engine's WASM SIMD kernels: same signatures as the TypeScript reference kernels (../kernels/), selected
 * automatically where WebAssembly SIMD is available (`wasmSimdSupported()`).
 *
 *   const kernels = createWasmKernels();               // sync, one thread (Node, browser workers)
 *   const kernels = await initWasmKernels({ threads: 2 }); // async compile, plus a worker pool when possible
 *
 * Operands must be views of the engine memory (allocFloat32 in ../memory.ts); kernels address them by byteOffset.
 */
import { type Kernels, referenceKernels } from "../kernels/index.js";
import type { MatmulKernel } from "../kernels/types.js";
import { hardwareConcurrency } from "../platform/workers.js";
import { createWasmAttention, type WasmAttentionKernels } from "./attention.js";
import { createWasmBinary, type WasmBinaryKernels } from "./binary.js";
import { createWasmElementwise, type WasmElementwiseKernels } from "./elementwise.js";
import { createWasmLayernorm, type WasmLayernormKernels } from "./layernorm.js";
import { createWasmMatmul, type WasmMatmulOptions } from "./matmul.js";
import {
  defaultKernelVariant,
  instantiateKernels,
  type KernelVariant,
  kernelModule,
  kernelModuleAsync,
  wasmSimdSupported,
} from "./module.js";
import { currentThreadPool, startThreadPool, type ThreadPool, threadPoolSupported } from "./pool.js";
import { createWasmRows, type WasmRowKernels } from "./rows.js";
import { createWasmSoftmax, type WasmSoftmaxKernels } from "./softmax.js";

export { DEFAULT_SPLIT_MIN_FLOPS } from "./matmul.js";
export {
  defaultKernelVariant,
  type KernelVariant,
  relaxedSimdSupported,
  wasmSimdSupported,
} from "./module.js";
export {
  currentThreadPool,
  MAX_WORKERS,
  startThreadPool,
  type ThreadPool,
  threadPoolSupported,
} from "./pool.js";

/** The WASM kernel set: drop-in replacements for the same-named reference kernels (../kernels/index.ts). */
export interface WasmKernels
  extends WasmSoftmaxKernels,
    WasmAttentionKernels,
    WasmElementwiseKernels,
    WasmLayernormKernels,
    WasmBinaryKernels,
    WasmRowKernels {
  matmul: MatmulKernel;
  /** Threads a large op may use (1 without a pool). */
  readonly threads: number;
  /** The pool in use, if any. */
  readonly pool: ThreadPool | null;
  /** The kernel build in use. */
  readonly variant: KernelVariant;
}

/** Options for `createWasmKernels`. */
export interface WasmKernelOptions extends WasmMatmulOptions {
  /** A running thread pool to split large ops across (see `startThreadPool`); default none. */
  pool?: ThreadPool | null;
  /** The kernel build: default the pool's, else `defaultKernelVariant()` (relaxed SIMD where supported). */
  variant?: KernelVariant;
  /**
   * Attention by the fused row kernels, which skip masked keys (./attention.ts), instead of batched matmuls;
   * default: without a pool (the matmuls split across the pool's threads, the row kernels run on one).
   */
  fusedAttention?: boolean;
}

/** Creates the kernels synchronously on this thread (compiles the module on first use). */
export function createWasmKernels(options: WasmKernelOptions = {}): WasmKernels {
  if (!wasmSimdSupported()) throw new Error("createWasmKernels: this WebAssembly engine lacks SIMD128");
  const pool = options.pool ?? null;
  const variant = options.variant ?? pool?.variant ?? defaultKernelVariant();
  if (pool && pool.variant !== variant) {
    throw new Error(
      `createWasmKernels: variant "${variant}" differs from the running pool's "${pool.variant}" (close the pool first)`,
    );
  }
  const kernels = instantiateKernels(kernelModule(variant));
  const matmul = createWasmMatmul(kernels, pool, options);
  return {
    matmul,
    ...createWasmSoftmax(kernels),
    ...createWasmAttention(kernels, matmul, { fused: options.fusedAttention ?? pool === null }),
    ...createWasmElementwise(kernels),
    ...createWasmLayernorm(kernels),
    ...createWasmBinary(kernels),
    ...createWasmRows(kernels),
    threads: pool ? pool.threads : 1,
    pool,
    variant,
  };
}

/** Options for `initWasmKernels`. */
export interface InitWasmKernelOptions extends WasmMatmulOptions {
  /**
   * Threads to use, counting the caller's: 1 for none, "auto" (default) for min(2, logical CPUs) where shared
   * memory and workers are available. Reuses the running pool if there is one.
   */
  threads?: number | "auto";
  /** Microseconds an idle worker spins before sleeping (default 200). */
  spinMicros?: number;
  /** The kernel build (default `defaultKernelVariant()`). */
  variant?: KernelVariant;
}

/** Compiles the module asynchronously, starts a pool when asked and possible, and creates the kernels. */
export async function initWasmKernels(options: InitWasmKernelOptions = {}): Promise<WasmKernels> {
  if (!wasmSimdSupported()) throw new Error("initWasmKernels: this WebAssembly engine lacks SIMD128");
  const variant = options.variant ?? currentThreadPool()?.variant ?? defaultKernelVariant();
  await kernelModuleAsync(variant);
  const requested = options.threads ?? "auto";
  let pool: ThreadPool | null = null;
  if (requested !== 1 && threadPoolSupported()) {
    const threads = requested === "auto" ? Math.min(2, await hardwareConcurrency()) : requested;
    if (threads > 1) {
      pool =
        currentThreadPool() ??
        (await startThreadPool({ workers: threads - 1, spinMicros: options.spinMicros, variant }));
    }
  }
  return createWasmKernels({ ...options, pool, variant });
}

/**
 * The WASM kernels as entries of the engine's kernel table, for `setKernels(wasmKernelTable(kernels))`
 * (../kernels/index.ts): matmul, softmax, layernorm, attention, broadcast binary arithmetic, the linear layer's
 * bias rows, the attention head layout, and gelu, sin, cos and sinSqrtAbs within the unary table (the other unary functions stay the
 * references).
 */
export function wasmKernelTable(kernels: WasmKernels): Partial<Kernels> {
  return {
    matmul: kernels.matmul,
    softmaxForward: kernels.softmaxForward,
    softmaxBackward: kernels.softmaxBackward,
    layernormForward: kernels.layernormForward,
    layernormBackward: kernels.layernormBackward,
    attentionForward: kernels.attentionForward,
    attentionBackward: kernels.attentionBackward,
    binaryForward: kernels.binaryForward,
    binaryBackward: kernels.binaryBackward,
    rotatePairsForward: kernels.rotatePairsForward,
    rotatePairsBackward: kernels.rotatePairsBackward,
    fillRows: kernels.fillRows,
    sumRows: kernels.sumRows,
    headsToSlabs: kernels.headsToSlabs,
    slabsToHeads: kernels.slabsToHeads,
    affineBackward: kernels.affineBackward,
    unary: {
      ...referenceKernels.unary,
      gelu: kernels.gelu,
      sin: kernels.sin,
      cos: kernels.cos,
      sinSqrtAbs: kernels.sinSqrtAbs,
    },
  };
}
