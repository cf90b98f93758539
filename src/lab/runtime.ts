/**
 * Kernel setup for lab jobs: the engine's WASM SIMD kernels on ONE thread when the platform has SIMD (grid jobs
 * run side by side as single-threaded processes, as the calibration did), the TypeScript references otherwise.
 * Every job, in-process or in a child, calls this first, so a run computes the same bits wherever it runs.
 */
import { initEngineSync } from "../engine/index.js";

let configured: string | undefined;

/** Installs the fastest single-thread kernels; returns "wasm-simd" or "reference". Idempotent. */
export function useSingleThreadKernels(): string {
  if (configured) return configured;
  const kernels = process.env.POSENC_KERNELS === "reference" ? "reference" : "auto";
  // POSENC_RELAXED_SIMD=0: the plain SIMD128 kernels (for A/B timing; the relaxed build rounds products once).
  const info = initEngineSync({ threads: 1, kernels, relaxedSimd: process.env.POSENC_RELAXED_SIMD !== "0" });
  configured = info.kernels === "wasm" ? "wasm-simd" : "reference";
  return configured;
}
