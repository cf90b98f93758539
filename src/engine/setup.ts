/**
 * The engine's entry point for choosing kernels: `initEngine` (async: compiles the WASM module off the main
 * thread where the platform allows and starts a worker pool) and `initEngineSync` (Node, tests, workers: compiles
 * synchronously; reuses a running pool but cannot start one, since starting workers is asynchronous).
 *
 *   await initEngine();                                   // fastest available: WASM SIMD + 2 threads where possible
 *   initEngineSync({ threads: 1 });                       // WASM SIMD on this thread only
 *   initEngineSync({ kernels: "reference" });             // the TypeScript references (tests)
 *
 * "auto" kernels means WASM SIMD when `wasmSimdSupported()`, else the references. "auto" threads means
 * min(2, logical CPUs) where shared memory and workers exist (cross-origin isolation in browsers), else 1.
 * Selecting replaces the whole kernel table (`resetKernels` first), so switching back and forth is safe.
 * Runs unchanged in browsers: everything platform-specific is in ./platform/.
 */
import { resetKernels, setKernels } from "./kernels/index.js";
import { hardwareConcurrency } from "./platform/workers.js";
import {
  createWasmKernels,
  currentThreadPool,
  startThreadPool,
  type ThreadPool,
  threadPoolSupported,
  wasmKernelTable,
  wasmSimdSupported,
} from "./wasm/index.js";
import { defaultKernelVariant, type KernelVariant, kernelModuleAsync } from "./wasm/module.js";

export type KernelChoice = "auto" | "reference" | "wasm";

export interface EngineOptions {
  /** Kernel family: "auto" (default), "reference" (TypeScript, always available) or "wasm" (throws without SIMD). */
  kernels?: KernelChoice;
  /** Threads for large ops, counting the caller's: "auto" (default), 1, 2, ... (WASM kernels only). */
  threads?: number | "auto";
  /**
   * Use the relaxed-SIMD build of the WASM kernels (matmul with fused multiply-add) where the WebAssembly engine
   * supports it; default true. In Node 20 this turns on V8's `--experimental-wasm-relaxed-simd` (see
   * platform/workers.ts `allowRelaxedSimd`). false: always the plain SIMD128 build.
   */
  relaxedSimd?: boolean;
}

/** What `initEngine` selected. */
export interface EngineInfo {
  kernels: "reference" | "wasm";
  /** Threads large ops may use (1 without a pool). */
  threads: number;
  pool: ThreadPool | null;
  /** The WASM kernel build ("simd" or "relaxed-simd"); absent for the references. */
  variant?: KernelVariant;
}

let current: EngineInfo = { kernels: "reference", threads: 1, pool: null };

function variantOf(options: EngineOptions): KernelVariant {
  return options.relaxedSimd === false ? "simd" : defaultKernelVariant();
}

/** The current selection (the references until an init function runs). */
export function engineInfo(): EngineInfo {
  return current;
}

function checkOptions(
  fn: string,
  options: EngineOptions,
): { kernels: KernelChoice; threads: number | "auto" } {
  const kernels = options.kernels ?? "auto";
  const threads = options.threads ?? "auto";
  if (kernels !== "auto" && kernels !== "reference" && kernels !== "wasm") {
    throw new RangeError(`${fn}: kernels must be "auto", "reference" or "wasm", got ${String(kernels)}`);
  }
  if (threads !== "auto" && !(Number.isInteger(threads) && threads >= 1)) {
    throw new RangeError(`${fn}: threads must be "auto" or an integer >= 1, got ${String(threads)}`);
  }
  if (kernels === "wasm" && !wasmSimdSupported()) {
    throw new Error(`${fn}: kernels "wasm" requested, but this WebAssembly engine lacks SIMD128`);
  }
  return { kernels, threads };
}

function useReference(): EngineInfo {
  resetKernels();
  current = { kernels: "reference", threads: 1, pool: null };
  return current;
}

function useWasm(pool: ThreadPool | null, variant: KernelVariant): EngineInfo {
  const wasm = createWasmKernels({ pool, variant });
  resetKernels();
  setKernels(wasmKernelTable(wasm));
  current = { kernels: "wasm", threads: wasm.threads, pool, variant };
  return current;
}

/** Selects kernels (and starts a thread pool when asked and possible). Safe to call again to change them. */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const { kernels, threads } = checkOptions("initEngine", options);
  if (kernels === "reference" || (kernels === "auto" && !wasmSimdSupported())) return useReference();
  const variant = variantOf(options);
  await kernelModuleAsync(variant);
  let pool: ThreadPool | null = null;
  if (threads !== 1 && threadPoolSupported()) {
    const wanted = threads === "auto" ? Math.min(2, await hardwareConcurrency()) : threads;
    const running = currentThreadPool();
    if (running && (running.threads !== wanted || running.variant !== variant)) await running.close();
    if (wanted > 1) pool = currentThreadPool() ?? (await startThreadPool({ workers: wanted - 1, variant }));
  }
  return useWasm(pool, variant);
}

/**
 * Synchronous selection: WASM kernels on this thread, plus the running pool if one was started earlier (by
 * `initEngine`) and threads is not 1. Never starts workers.
 */
export function initEngineSync(options: EngineOptions = {}): EngineInfo {
  const { kernels, threads } = checkOptions("initEngineSync", options);
  if (kernels === "reference" || (kernels === "auto" && !wasmSimdSupported())) return useReference();
  const variant = variantOf(options);
  const running = currentThreadPool();
  const pool =
    threads !== 1 &&
    running &&
    running.variant === variant &&
    (threads === "auto" || running.threads <= threads)
      ? running
      : null;
  return useWasm(pool, variant);
}

/** Stops the thread pool, if one is running, and falls back to single-threaded kernels of the same family. */
export async function shutdownEngine(): Promise<void> {
  const running = currentThreadPool();
  if (running) await running.close();
  if (current.kernels === "wasm") useWasm(null, current.variant ?? "simd");
}
