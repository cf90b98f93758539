/**
 * WASM SIMD softmax kernels with the signatures of the references in ../kernels/softmax.ts:
 *   softmaxForward(out, inp, N, C):            out[r] = softmax(inp[r])
 *   softmaxBackward(dinp, dout, out, N, C):    dinp[r] += out[r] * (dout[r] - out[r] . dout[r])
 * (AssemblyScript source: ./assembly/softmax.ts; float32 sums and a polynomial exp, so results differ from the
 * float64-accumulating reference by float32 rounding.)
 */
import { checkSizes, checkView } from "./check.js";
import type { KernelExports } from "./module.js";

export interface WasmSoftmaxKernels {
  softmaxForward(out: Float32Array, inp: Float32Array, N: number, C: number): void;
  softmaxBackward(dinp: Float32Array, dout: Float32Array, out: Float32Array, N: number, C: number): void;
}

export function createWasmSoftmax(kernels: KernelExports): WasmSoftmaxKernels {
  return {
    softmaxForward(out, inp, N, C) {
      checkSizes("wasm softmaxForward", { N, C });
      checkView("wasm softmaxForward", "out", out, N * C);
      checkView("wasm softmaxForward", "inp", inp, N * C);
      kernels.softmaxRows(out.byteOffset, inp.byteOffset, N, C);
    },
    softmaxBackward(dinp, dout, out, N, C) {
      checkSizes("wasm softmaxBackward", { N, C });
      checkView("wasm softmaxBackward", "dinp", dinp, N * C);
      checkView("wasm softmaxBackward", "dout", dout, N * C);
      checkView("wasm softmaxBackward", "out", out, N * C);
      kernels.softmaxRowsBackward(dinp.byteOffset, dout.byteOffset, out.byteOffset, N, C);
    },
  };
}
