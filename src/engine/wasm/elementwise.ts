/**
 * WASM SIMD elementwise kernels with the `UnaryKernel` signature of ../kernels/elementwise.ts:
 *   gelu.forward(y, x, n)            y = gelu(x) (tanh approximation, as the reference)
 *   gelu.backward(dx, dy, x, y, n)   dx += gelu'(x) dy
 *   sin, cos, sinSqrtAbs             the same for sin x, cos x and SPDER's sin(x) sqrt|x| (./assembly/sine.ts)
 *   affineBackward(dx, dy, scale, n)  dx += scale dy   (affine's and reshape's gradient)
 * (AssemblyScript source: ./assembly/elementwise.ts.) Swap in with
 * `setKernels({ unary: { ...referenceKernels.unary, gelu: wasm.gelu } })`.
 */
import type { UnaryKernel } from "../kernels/elementwise.js";
import { checkSizes, checkView } from "./check.js";
import type { KernelExports } from "./module.js";

export interface WasmElementwiseKernels {
  gelu: UnaryKernel;
  /** sin, cos and SPDER's sin(x) sqrt|x| (./assembly/sine.ts), same signature as gelu. */
  sin: UnaryKernel;
  cos: UnaryKernel;
  sinSqrtAbs: UnaryKernel;
  affineBackward(dx: Float32Array, dy: Float32Array, scale: number, n: number): void;
}

/** A unary kernel over two exports: forward(y, x, n) and backward(dx, dy, x, n) (dx +=). */
function unaryOf(
  name: string,
  forward: (y: number, x: number, n: number) => void,
  backward: (dx: number, dy: number, x: number, n: number) => void,
): UnaryKernel {
  return {
    forward(y, x, n) {
      checkSizes(`wasm ${name}.forward`, { n });
      checkView(`wasm ${name}.forward`, "y", y, n);
      checkView(`wasm ${name}.forward`, "x", x, n);
      forward(y.byteOffset, x.byteOffset, n);
    },
    backward(dx, dy, x, _y, n) {
      checkSizes(`wasm ${name}.backward`, { n });
      checkView(`wasm ${name}.backward`, "dx", dx, n);
      checkView(`wasm ${name}.backward`, "dy", dy, n);
      checkView(`wasm ${name}.backward`, "x", x, n);
      backward(dx.byteOffset, dy.byteOffset, x.byteOffset, n);
    },
  };
}

export function createWasmElementwise(kernels: KernelExports): WasmElementwiseKernels {
  return {
    sin: unaryOf("sin", kernels.sinForward, kernels.sinBackward),
    cos: unaryOf("cos", kernels.cosForward, kernels.cosBackward),
    sinSqrtAbs: unaryOf("sinSqrtAbs", kernels.sinSqrtAbsForward, kernels.sinSqrtAbsBackward),
    gelu: unaryOf("gelu", kernels.geluForward, kernels.geluBackward),
    affineBackward(dx, dy, scale, n) {
      checkSizes("wasm affineBackward", { n });
      checkView("wasm affineBackward", "dx", dx, n);
      checkView("wasm affineBackward", "dy", dy, n);
      kernels.affineBackward(dx.byteOffset, dy.byteOffset, scale, n);
    },
  };
}
