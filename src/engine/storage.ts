/**
 * Where tensor storage comes from. Normally every buffer is a Float32Array in the engine's WebAssembly.Memory
 * (../engine/memory.ts), so WASM kernels address it by `byteOffset`, and freed buffers are reused.
 *
 * For gradient checks only, `withFloat64Storage` swaps in plain Float64Arrays (typed as Float32Array: every
 * reference kernel touches storage only through indexing, `length`, `fill`, `set` and `subarray`, which behave the
 * same on both). Central finite differences then run entirely in float64, so the check measures the gradient
 * rules, not float32 rounding. Kernels in this mode are always the TypeScript references.
 */
import { allocFloat32, allocFloat32Uninitialized, freeFloat32 } from "./memory.js";

let float64Mode = false;

/** A zero-filled buffer of `length` elements for tensor data, gradients or saved activations. */
export function allocStorage(length: number): Float32Array {
  if (float64Mode) return new Float64Array(length) as unknown as Float32Array;
  return allocFloat32(length);
}

/**
 * A buffer whose contents are unspecified (old values of a reused block), for outputs that a kernel overwrites
 * completely. Never for gradients or anything a kernel accumulates into (+=).
 */
export function allocStorageUninitialized(length: number): Float32Array {
  if (float64Mode) return new Float64Array(length) as unknown as Float32Array;
  return allocFloat32Uninitialized(length);
}

/**
 * Owners beyond the first of buffers that several tensors share (zero-copy views such as `reshape` outputs). A
 * buffer absent from the map has exactly one owner. `freeStorage` drops one owner; the last one frees the buffer.
 */
const extraOwners = new Map<Float32Array, number>();

/** Adds an owner to `view` (a tensor that shares it); returns it. */
export function shareStorage(view: Float32Array): Float32Array {
  extraOwners.set(view, (extraOwners.get(view) ?? 0) + 1);
  return view;
}

/** Owners of `view` beyond the first (0 when not shared). */
export function sharedOwners(view: Float32Array): number {
  return extraOwners.get(view) ?? 0;
}

/**
 * Drops one owner of a buffer from `allocStorage`; the last owner returns it for reuse (float64 buffers are left
 * to the garbage collector).
 */
export function freeStorage(view: Float32Array): void {
  const extra = extraOwners.get(view);
  if (extra !== undefined) {
    if (extra === 1) extraOwners.delete(view);
    else extraOwners.set(view, extra - 1);
    return;
  }
  if ((view as ArrayBufferView) instanceof Float64Array) return;
  freeFloat32(view);
}

/** Whether storage is currently float64 (inside `withFloat64Storage`). */
export function isFloat64Storage(): boolean {
  return float64Mode;
}

/**
 * Runs `fn` with float64 storage for every tensor it creates. For gradient checks; tensors created inside must
 * not be mixed with float32 tensors created outside.
 */
export function withFloat64Storage<T>(fn: () => T): T {
  const previous = float64Mode;
  float64Mode = true;
  try {
    return fn();
  } finally {
    float64Mode = previous;
  }
}
