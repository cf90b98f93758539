/** Test helpers: float32 arrays in the engine's memory (where the WASM kernels read and write). */
import type { Rng } from "../../util/rng.js";
import { allocFloat32 } from "../memory.js";

/** `length` uniform values in [-1, 1) (at least one element, so an empty size still has a view). */
export function randomEngineArray(rng: Rng, length: number): Float32Array {
  const view = allocFloat32(Math.max(length, 1));
  for (let i = 0; i < length; i++) view[i] = rng.next() * 2 - 1;
  return view;
}

/** A copy in a fresh engine-memory view. */
export function copyEngineArray(view: Float32Array): Float32Array {
  const out = allocFloat32(view.length);
  out.set(view);
  return out;
}
