/**
 * The engine's memory: one WebAssembly.Memory that every tensor's storage lives in, so WASM kernels (and worker
 * threads) read and write tensors in place, with no copies across the JS/WASM boundary.
 *
 * The memory is shared (SharedArrayBuffer-backed) where the platform allows it, so that growing it never detaches
 * the Float32Array views handed out earlier and worker threads can run kernels over the same bytes. Where shared
 * memory is unavailable (a browser page that is not cross-origin isolated) it falls back to an unshared memory and
 * single-threaded kernels.
 *
 * Allocation: sizes are rounded up to a multiple of 64 bytes (one cache line, and aligned for SIMD); freed blocks go
 * to an exact-size free list and are reused first, so a training loop that allocates the same shapes every step
 * stops growing after its first step.
 */
const PAGE_BYTES = 65536;
const ALIGN_BYTES = 64;
/** 4 GiB, the wasm32 limit. Only `initial` pages are committed; the rest is reserved address space. */
const MAX_PAGES = 65536;

function createMemory(): { memory: WebAssembly.Memory; shared: boolean } {
  try {
    return {
      memory: new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true }),
      shared: true,
    };
  } catch {
    return { memory: new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES }), shared: false };
  }
}

const created = createMemory();
/** The engine's memory. Pass it to WASM kernel instances as their imported memory. */
export const memory: WebAssembly.Memory = created.memory;
/** Whether `memory` is shared (worker threads can use it). */
export const memoryIsShared: boolean = created.shared;

/** The first ALIGN_BYTES bytes are reserved (pointer 0 means "none"; also scratch for kernels). */
let top = ALIGN_BYTES * 16;
/** Free blocks by their real size, and the distinct sizes that have free blocks, ascending (for best fit). */
const freeLists = new Map<number, number[]>();
const freeSizes: number[] = [];
/** The real size of every block handed out (a request may be served by a larger free block). */
const blockSizes = new Map<number, number>();
let liveBytes = 0;

function roundUp(bytes: number): number {
  return Math.ceil(Math.max(bytes, 1) / ALIGN_BYTES) * ALIGN_BYTES;
}

/** Index of the first entry of the ascending `freeSizes` that is >= size (freeSizes.length if none). */
function firstFreeSizeAtLeast(size: number): number {
  let lo = 0;
  let hi = freeSizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (freeSizes[mid]! < size) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Byte offset of a block of at least `bytes` bytes, 64-byte aligned. Contents are unspecified.
 * Best fit: the smallest free block that is large enough, else fresh memory at the top of the heap. Exact-size
 * reuse keeps a training loop with fixed shapes flat after its first step; best fit keeps a loop over changing
 * shapes (evaluation at every length, longest first) within the peak of its largest shape.
 */
export function allocBytes(bytes: number): number {
  const size = roundUp(bytes);
  const index = firstFreeSizeAtLeast(size);
  if (index < freeSizes.length) {
    const blockSize = freeSizes[index]!;
    const list = freeLists.get(blockSize)!;
    const pointer = list.pop()!;
    if (list.length === 0) {
      freeLists.delete(blockSize);
      freeSizes.splice(index, 1);
    }
    blockSizes.set(pointer, blockSize);
    liveBytes += blockSize;
    return pointer;
  }
  const pointer = top;
  top += size;
  const needed = Math.ceil(top / PAGE_BYTES);
  const have = memory.buffer.byteLength / PAGE_BYTES;
  if (needed > have) memory.grow(Math.max(needed - have, Math.ceil(have / 4)));
  blockSizes.set(pointer, size);
  liveBytes += size;
  return pointer;
}

/** Returns a block from `allocBytes` to the free lists (`bytes` is the size that was requested). */
export function freeBytes(pointer: number, bytes: number): void {
  const size = blockSizes.get(pointer) ?? roundUp(bytes);
  blockSizes.delete(pointer);
  liveBytes -= size;
  let list = freeLists.get(size);
  if (!list) {
    freeLists.set(size, (list = []));
    freeSizes.splice(firstFreeSizeAtLeast(size), 0, size);
  }
  list.push(pointer);
}

/**
 * A 60-byte WebAssembly module, written out by hand, exporting `zero(pointer, bytes)`: one `memory.fill`
 * instruction on the engine's memory. On a SharedArrayBuffer, TypedArray.prototype.fill runs at about a quarter of
 * memset speed (0.58 ms vs 0.12-0.23 ms per 8 MB here); gradients are zeroed on every allocation, about 100 MB per
 * step of the reference model. Falls back to `fill` if the engine lacks bulk-memory instructions.
 *   (module (import "env" "memory" (memory 1 65536 [shared]))
 *     (func (export "zero") (param i32 i32) local.get 0 i32.const 0 local.get 1 memory.fill))
 */
function createZeroFill(): ((pointer: number, bytes: number) => void) | null {
  // biome-ignore format: the bytes are grouped by section
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00, // type section: (i32, i32) -> ()
    0x02, 0x12, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, // import "env" "memory"
    0x02, memoryIsShared ? 0x03 : 0x01, 0x01, 0x80, 0x80, 0x04, // memory: flags, initial 1, maximum 65536
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x07, 0x08, 0x01, 0x04, 0x7a, 0x65, 0x72, 0x6f, 0x00, 0x00, // export "zero" = function 0
    0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x41, 0x00, 0x20, 0x01, 0xfc, 0x0b, 0x00, 0x0b, // code: memory.fill
  ]);
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return instance.exports.zero as (pointer: number, bytes: number) => void;
  } catch {
    return null;
  }
}

const zeroFill = createZeroFill();

/** A zero-filled Float32Array of `length` elements living in `memory`. Its `byteOffset` is its WASM pointer. */
export function allocFloat32(length: number): Float32Array {
  const view = allocFloat32Uninitialized(length);
  if (zeroFill && length > 0) zeroFill(view.byteOffset, length * 4);
  else view.fill(0);
  return view;
}

/**
 * Like `allocFloat32` but the contents are whatever the block held before (a reused block keeps its old values).
 * For outputs a kernel overwrites completely: zeroing them first was about a sixth of a training step.
 */
export function allocFloat32Uninitialized(length: number): Float32Array {
  const pointer = allocBytes(length * 4);
  const buffer = memory.buffer;
  engineBuffers.add(buffer);
  return new Float32Array(buffer, pointer, length);
}

/** Releases a Float32Array from `allocFloat32` for reuse. The caller must not touch it afterwards. */
export function freeFloat32(view: Float32Array): void {
  freeBytes(view.byteOffset, view.length * 4);
}

/** Every ArrayBuffer object `memory.buffer` has returned: views over any of them address the engine's memory. */
const engineBuffers = new WeakSet<ArrayBufferLike>();

/** Whether `view` lives in the engine's memory (so a WASM kernel can address it by `view.byteOffset`). */
export function isInEngineMemory(view: ArrayBufferView): boolean {
  return engineBuffers.has(view.buffer);
}

/** Bytes handed out and not yet freed, and the high-water mark of the heap, for memory-growth tests. */
export function memoryStats(): { liveBytes: number; heapBytes: number; committedBytes: number } {
  return { liveBytes, heapBytes: top, committedBytes: memory.buffer.byteLength };
}
