/**
 * Loading the engine's WASM kernel module (built from src/engine/wasm/assembly/ by scripts/build-wasm.mjs and
 * embedded as base64 in ./generated/kernels.wasm.ts) and instantiating it on the engine's memory.
 */
import { memory, memoryIsShared } from "../memory.js";
import { KERNELS_WASM_BASE64 } from "./generated/kernels.wasm.js";

/** The functions the kernel module exports. Pointers are byte offsets into the engine's memory. */
export interface KernelExports {
  matmul(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    flags: number,
    aStride: number,
    bStride: number,
    cStride: number,
    batchBegin: number,
    batchEnd: number,
    rowBegin: number,
    rowEnd: number,
    work: number,
  ): void;
  geluForward(y: number, x: number, n: number): void;
  geluBackward(dx: number, dy: number, x: number, n: number): void;
  layernormForward(
    out: number,
    mean: number,
    rstd: number,
    inp: number,
    w: number,
    b: number,
    N: number,
    C: number,
    eps: number,
  ): void;
  layernormBackward(
    dinp: number,
    dw: number,
    db: number,
    dout: number,
    inp: number,
    w: number,
    mean: number,
    rstd: number,
    N: number,
    C: number,
  ): void;
  binaryForwardRows(
    op: number,
    out: number,
    a: number,
    aRow: number,
    b: number,
    bRow: number,
    R: number,
    C: number,
  ): void;
  binaryBackwardRows(
    op: number,
    da: number,
    db: number,
    dout: number,
    a: number,
    aRow: number,
    b: number,
    bRow: number,
    R: number,
    C: number,
  ): void;
  softmaxRows(out: number, inp: number, rows: number, cols: number): void;
  softmaxRowsBackward(dinp: number, dout: number, out: number, rows: number, cols: number): void;
  attentionSoftmax(
    att: number,
    bias: number,
    Tq: number,
    Tk: number,
    causal: number,
    shift: number,
    scale: number,
  ): void;
  attentionSoftmaxBackward(
    datt: number,
    att: number,
    dbias: number,
    Tq: number,
    Tk: number,
    causal: number,
    shift: number,
    scale: number,
  ): void;
  fillRows(out: number, bias: number, R: number, C: number): void;
  sumRows(db: number, g: number, R: number, C: number): void;
  moveHeads(
    slabs: number,
    rows: number,
    B: number,
    T: number,
    H: number,
    Dh: number,
    rowStride: number,
    offset: number,
    toSlabs: number,
    accumulate: number,
  ): void;
  rotateHalf(
    out: number,
    x: number,
    cos: number,
    sin: number,
    outer: number,
    T: number,
    inner: number,
    D: number,
    P: number,
    backward: number,
  ): void;
  /** Workspace bytes one thread needs for `matmul` (a WebAssembly.Global). */
  WORKSPACE_BYTES: { value: number };
}

/** `matmul` flag bits. */
export const MATMUL_TRANS_A = 1;
export const MATMUL_TRANS_B = 2;
export const MATMUL_ACCUMULATE = 4;

/**
 * A minimal module using one SIMD128 instruction (`v128.const`, `f32x4.add`, `f32x4.extract_lane`): it validates
 * exactly where the engine's SIMD kernels can run.
 */
const SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7d, // type: () -> f32
  0x03,
  0x02,
  0x01,
  0x00, // func 0 of type 0
  0x0a,
  0x19,
  0x01,
  0x17,
  0x00, // code section: 1 body of 23 bytes, no locals
  0xfd,
  0x0c,
  ...new Array<number>(16).fill(0), // v128.const 0
  0xfd,
  0x1f,
  0x00, // f32x4.extract_lane 0
  0x0b, // end
]);

/** Whether this WebAssembly engine supports SIMD128 (and so the engine's WASM kernels). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The module as built imports a shared memory (`env.memory`, limits flags 0x03: maximum present, shared). Where
 * the engine's memory is not shared (a browser page without cross-origin isolation), the import's flags byte is
 * rewritten to 0x01 (maximum present, not shared) so the same kernels link against it; they use no atomics.
 */
export function unsharedMemoryVariant(bytes: Uint8Array): Uint8Array {
  // import entry: module "env" (len 3), field "memory" (len 6), kind 0x02 (memory), limits flags
  const pattern = [0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03];
  const out = bytes.slice();
  search: for (let i = 8; i + pattern.length <= out.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (out[i + j] !== pattern[j]) continue search;
    out[i + pattern.length - 1] = 0x01;
    return out;
  }
  throw new Error("wasm kernels: shared memory import not found in the kernel module");
}

function moduleBytes(): BufferSource {
  const bytes = decodeBase64(KERNELS_WASM_BASE64);
  return (memoryIsShared ? bytes : unsharedMemoryVariant(bytes)) as BufferSource;
}

let compiled: WebAssembly.Module | null = null;

/** The compiled kernel module, compiled synchronously on first use (fine in Node and in browser workers). */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(moduleBytes());
  return compiled;
}

/** The compiled kernel module, compiled asynchronously (browsers' main thread limits synchronous compiles). */
export async function kernelModuleAsync(): Promise<WebAssembly.Module> {
  if (!compiled) compiled = await WebAssembly.compile(moduleBytes());
  return compiled;
}

/** The embedded kernel binary, as built (shared memory import). */
export function kernelBinary(): Uint8Array {
  return decodeBase64(KERNELS_WASM_BASE64);
}

/** A new instance of the kernel module on the engine's memory. */
export function instantiateKernels(module: WebAssembly.Module = kernelModule()): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
