/**
 * WASM SIMD elementwise kernels with the `UnaryKernel` signature of ../kernels/elementwise.ts:
 *   gelu.forward(y, x, n)            y = gelu(x) (tanh approximation, as the reference)
 *   gelu.backward(dx, dy, x, y, n)   dx += gelu'(x) dy
 *   affineBackward(dx, dy, scale, n)  dx += scale dy   (affine's and reshape's gradient)
 * (AssemblyScript source: ./assembly/elementwise.ts.) Swap in with
 * `setKernels({ unary: { ...referenceKernels.unary, gelu: wasm.gelu } })`.
 */
import type { UnaryKernel } from "../kernels/elementwise.js";
import { checkSizes, checkView } from "./check.js";
import type { KernelExports } from "./module.js";

export interface WasmElementwiseKernels {
  gelu: UnaryKernel;
  affineBackward(dx: Float32Array, dy: Float32Array, scale: number, n: number): void;
}

export function createWasmElementwise(kernels: KernelExports): WasmElementwiseKernels {
  return {
    gelu: {
      forward(y, x, n) {
        checkSizes("wasm gelu.forward", { n });
        checkView("wasm gelu.forward", "y", y, n);
        checkView("wasm gelu.forward", "x", x, n);
        kernels.geluForward(y.byteOffset, x.byteOffset, n);
      },
      backward(dx, dy, x, _y, n) {
        checkSizes("wasm gelu.backward", { n });
        checkView("wasm gelu.backward", "dx", dx, n);
        checkView("wasm gelu.backward", "dy", dy, n);
        checkView("wasm gelu.backward", "x", x, n);
        kernels.geluBackward(dx.byteOffset, dy.byteOffset, x.byteOffset, n);
      },
    },
    affineBackward(dx, dy, scale, n) {
      checkSizes("wasm affineBackward", { n });
      checkView("wasm affineBackward", "dx", dx, n);
      checkView("wasm affineBackward", "dy", dy, n);
      kernels.affineBackward(dx.byteOffset, dy.byteOffset, scale, n);
    },
  };
}
