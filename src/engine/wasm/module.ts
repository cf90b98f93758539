/**
 * Loading the engine's WASM kernel module (built from src/engine/wasm/assembly/ by scripts/build-wasm.mjs and
 * embedded as base64 in ./generated/kernels.wasm.ts) and instantiating it on the engine's memory.
 */
import { memory } from "../memory.js";
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

let compiled: WebAssembly.Module | null = null;

/** The compiled kernel module, compiled synchronously on first use (fine in Node and in browser workers). */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64) as BufferSource);
  return compiled;
}

/** The compiled kernel module, compiled asynchronously (browsers' main thread limits synchronous compiles). */
export async function kernelModuleAsync(): Promise<WebAssembly.Module> {
  if (!compiled) compiled = await WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64) as BufferSource);
  return compiled;
}

/** A new instance of the kernel module on the engine's memory. */
export function instantiateKernels(module: WebAssembly.Module = kernelModule()): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
