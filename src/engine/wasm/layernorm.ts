/**
 * WASM SIMD LayerNorm with the signatures of the references in ../kernels/layernorm.ts (math there and in
 * ./assembly/layernorm.ts). Sums are float32 (4 lanes, then across lanes), so results differ from the
 * float64-accumulating reference by float32 rounding.
 */
import { checkSizes, checkView } from "./check.js";
import type { KernelExports } from "./module.js";

type Floats = Float32Array;

export interface WasmLayernormKernels {
  layernormForward(
    out: Floats,
    mean: Floats,
    rstd: Floats,
    inp: Floats,
    w: Floats | null,
    b: Floats | null,
    N: number,
    C: number,
    eps: number,
  ): void;
  layernormBackward(
    dinp: Floats,
    dw: Floats | null,
    db: Floats | null,
    dout: Floats,
    inp: Floats,
    w: Floats | null,
    mean: Floats,
    rstd: Floats,
    N: number,
    C: number,
  ): void;
}

/** Byte offset of an optional per-channel vector (0 for none), after checking it. */
function optional(kernel: string, name: string, view: Floats | null, length: number): number {
  if (!view) return 0;
  checkView(kernel, name, view, length);
  return view.byteOffset;
}

export function createWasmLayernorm(kernels: KernelExports): WasmLayernormKernels {
  return {
    layernormForward(out, mean, rstd, inp, w, b, N, C, eps) {
      const name = "wasm layernormForward";
      checkSizes(name, { N, C });
      if (!(eps >= 0)) throw new RangeError(`${name}: eps must be >= 0, got ${eps}`);
      checkView(name, "out", out, N * C);
      checkView(name, "mean", mean, N);
      checkView(name, "rstd", rstd, N);
      checkView(name, "inp", inp, N * C);
      const wp = optional(name, "w", w, C);
      const bp = optional(name, "b", b, C);
      if (C === 0) return;
      kernels.layernormForward(
        out.byteOffset,
        mean.byteOffset,
        rstd.byteOffset,
        inp.byteOffset,
        wp,
        bp,
        N,
        C,
        eps,
      );
    },
    layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C) {
      const name = "wasm layernormBackward";
      checkSizes(name, { N, C });
      checkView(name, "dinp", dinp, N * C);
      checkView(name, "dout", dout, N * C);
      checkView(name, "inp", inp, N * C);
      checkView(name, "mean", mean, N);
      checkView(name, "rstd", rstd, N);
      const dwp = optional(name, "dw", dw, C);
      const dbp = optional(name, "db", db, C);
      const wp = optional(name, "w", w, C);
      if (C === 0) return;
      kernels.layernormBackward(
        dinp.byteOffset,
        dwp,
        dbp,
        dout.byteOffset,
        inp.byteOffset,
        wp,
        mean.byteOffset,
        rstd.byteOffset,
        N,
        C,
      );
    },
  };
}
