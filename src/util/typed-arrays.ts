/**
 * Aliasing of typed-array views. Two views alias when they share bytes of one buffer: a kernel writing one while
 * reading the other then reads values it already overwrote. Pure, no Node: the library core uses it.
 */

/** Whether the bytes of `a` and `b` intersect (views of the same buffer whose byte ranges overlap). */
export function viewsOverlap(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/** Whether `a` and `b` view exactly the same bytes (the same view, or two views of the same range). */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}
