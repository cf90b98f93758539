/**
 * Loading the engine's WASM kernel module (built from src/engine/wasm/assembly/ by scripts/build-wasm.mjs and
 * embedded as base64 in ./generated/kernels.wasm.ts) and instantiating it on the engine's memory.
 */
import { memory, memoryIsShared } from "../memory.js";
import { allowRelaxedSimd } from "../platform/workers.js";
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "./generated/kernels.wasm.js";

/**
 * The two builds of the kernels (scripts/build-wasm.mjs): "simd" (SIMD128 only) and "relaxed-simd" (the matmul
 * micro-kernel uses f32x4.relaxed_madd: a fused multiply-add where the CPU has FMA).
 */
export type KernelVariant = "simd" | "relaxed-simd";

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
  affineBackward(dx: number, dy: number, scale: number, n: number): void;
  geluBackward(dx: number, dy: number, x: number, n: number): void;
  sinForward(y: number, x: number, n: number): void;
  sinBackward(dx: number, dy: number, x: number, n: number): void;
  cosForward(y: number, x: number, n: number): void;
  cosBackward(dx: number, dy: number, x: number, n: number): void;
  sinSqrtAbsForward(y: number, x: number, n: number): void;
  sinSqrtAbsBackward(dx: number, dy: number, x: number, n: number): void;
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
  /** One slab of fused attention, only the visible keys (./assembly/attention.ts). */
  attentionRowsForward(
    out: number,
    att: number,
    q: number,
    k: number,
    v: number,
    bias: number,
    Tq: number,
    Tk: number,
    D: number,
    Dv: number,
    causal: number,
    scale: number,
    work: number,
  ): void;
  attentionRowsBackward(
    dq: number,
    dk: number,
    dv: number,
    dbias: number,
    dout: number,
    att: number,
    q: number,
    k: number,
    v: number,
    Tq: number,
    Tk: number,
    D: number,
    Dv: number,
    causal: number,
    scale: number,
    work: number,
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

/** (func (result f32) (f32x4.extract_lane 0 (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))) */
const RELAXED_SIMD_PROBE = (() => {
  const zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
  const body = [0x00, ...zero, ...zero, ...zero, 0xfd, 0x85, 0x02, 0xfd, 0x1f, 0x00, 0x0b]; // relaxed_madd, lane 0
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7d];
  return new Uint8Array([
    ...header,
    0x03,
    0x02,
    0x01,
    0x00,
    0x0a,
    body.length + 2,
    0x01,
    body.length,
    ...body,
  ]);
})();

let relaxedSupport: boolean | undefined;

/**
 * Whether this WebAssembly engine compiles relaxed SIMD, after allowing it where a flag is needed (Node 20: see
 * `allowRelaxedSimd`). Probed once.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport === undefined) {
    const valid = () => {
      try {
        return typeof WebAssembly === "object" && WebAssembly.validate(RELAXED_SIMD_PROBE);
      } catch {
        return false;
      }
    };
    relaxedSupport = wasmSimdSupported() && (valid() || (allowRelaxedSimd() && valid()));
  }
  return relaxedSupport;
}

/** The variant `initEngine` uses by default: "relaxed-simd" where supported, else "simd". */
export function defaultKernelVariant(): KernelVariant {
  return relaxedSimdSupported() ? "relaxed-simd" : "simd";
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

function moduleBytes(variant: KernelVariant): BufferSource {
  const bytes = decodeBase64(variant === "relaxed-simd" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
  return (memoryIsShared ? bytes : unsharedMemoryVariant(bytes)) as BufferSource;
}

const compiled = new Map<KernelVariant, WebAssembly.Module>();

function checkVariant(variant: KernelVariant): void {
  if (variant === "relaxed-simd" && !relaxedSimdSupported()) {
    throw new Error(
      "wasm kernels: the relaxed-simd variant needs relaxed SIMD, which this WebAssembly engine lacks",
    );
  }
}

/** The compiled kernel module, compiled synchronously on first use (fine in Node and in browser workers). */
export function kernelModule(variant: KernelVariant = "simd"): WebAssembly.Module {
  let module = compiled.get(variant);
  if (!module) {
    checkVariant(variant);
    module = new WebAssembly.Module(moduleBytes(variant));
    compiled.set(variant, module);
  }
  return module;
}

/** The compiled kernel module, compiled asynchronously (browsers' main thread limits synchronous compiles). */
export async function kernelModuleAsync(variant: KernelVariant = "simd"): Promise<WebAssembly.Module> {
  let module = compiled.get(variant);
  if (!module) {
    checkVariant(variant);
    module = await WebAssembly.compile(moduleBytes(variant));
    compiled.set(variant, module);
  }
  return module;
}

/** The embedded kernel binary, as built (shared memory import). */
export function kernelBinary(variant: KernelVariant = "simd"): Uint8Array {
  return decodeBase64(variant === "relaxed-simd" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
}

/** A new instance of the kernel module on the engine's memory. */
export function instantiateKernels(module: WebAssembly.Module = kernelModule()): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
