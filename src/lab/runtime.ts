/**
 * Kernel setup for lab jobs: the engine's WASM SIMD kernels on ONE thread when the platform has SIMD (grid jobs
 * run side by side as single-threaded processes, as the calibration did), the TypeScript references otherwise.
 * Every job, in-process or in a child, calls this first, so a run computes the same bits wherever it runs.
 */
import { type Kernels, referenceKernels, setKernels } from "../engine/index.js";
import { createWasmKernels, wasmSimdSupported } from "../engine/wasm/index.js";

let configured: string | undefined;

/** Installs the fastest single-thread kernels; returns "wasm-simd" or "reference". Idempotent. */
export function useSingleThreadKernels(): string {
  if (configured) return configured;
  configured = "reference";
  if (process.env.POSENC_KERNELS !== "reference" && wasmSimdSupported()) {
    const fast = createWasmKernels() as unknown as Record<string, unknown>;
    // Only the entries the dispatch table knows (the WASM set may carry helpers of its own).
    const known = Object.fromEntries(Object.entries(fast).filter(([key]) => key in referenceKernels));
    setKernels(known as Partial<Kernels>);
    configured = "wasm-simd";
  }
  return configured;
}
