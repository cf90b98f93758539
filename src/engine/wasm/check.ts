/** Argument checks shared by the WASM kernel wrappers: a WASM kernel must never read or write outside a view. */
import { isInEngineMemory } from "../memory.js";

/** Throws a RangeError unless `view` lives in the engine memory and holds at least `needed` elements. */
export function checkView(kernel: string, name: string, view: Float32Array, needed: number): void {
  if (!isInEngineMemory(view)) {
    throw new RangeError(
      `${kernel}: ${name} is not a view of the engine memory (allocate it with allocFloat32)`,
    );
  }
  if (view.length < needed) {
    throw new RangeError(`${kernel}: ${name} has ${view.length} elements, needs ${needed}`);
  }
}

/** Throws a RangeError unless every named size is a non-negative integer below 2^31. */
export function checkSizes(kernel: string, sizes: Record<string, number>): void {
  for (const [name, value] of Object.entries(sizes)) {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      throw new RangeError(`${kernel}: ${name} must be a non-negative integer, got ${value}`);
    }
  }
}
