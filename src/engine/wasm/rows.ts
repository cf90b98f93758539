/**
 * WASM row kernels with the signatures of the references in ../kernels/heads.ts (AssemblyScript source:
 * ./assembly/rows.ts): fillRows / sumRows for the fused linear layer's bias, headsToSlabs / slabsToHeads for the
 * attention head layout (bit-identical to the references: copies, and sums in the same order); rotatePairs in the
 * "half" layout (float32 arithmetic, so within rounding of the float64-evaluated reference; the "interleaved"
 * layout runs the reference).
 */
import type { HeadsSizes } from "../kernels/heads.js";
import { type RotateSizes, rotatePairsBackward, rotatePairsForward } from "../kernels/rotate.js";
import { checkSizes, checkView } from "./check.js";
import type { KernelExports } from "./module.js";

type Floats = Float32Array;

export interface WasmRowKernels {
  fillRows(out: Floats, bias: Floats, R: number, N: number): void;
  sumRows(dbias: Floats, g: Floats, R: number, N: number): void;
  headsToSlabs(slabs: Floats, rows: Floats, s: HeadsSizes, accumulate: boolean): void;
  slabsToHeads(rows: Floats, slabs: Floats, s: HeadsSizes, accumulate: boolean): void;
  rotatePairsForward(out: Floats, x: Floats, cos: Floats, sin: Floats, s: RotateSizes): void;
  rotatePairsBackward(dx: Floats, dout: Floats, cos: Floats, sin: Floats, s: RotateSizes): void;
}

function checkRotate(kernel: string, y: Floats, x: Floats, cos: Floats, sin: Floats, s: RotateSizes): void {
  checkSizes(kernel, { outer: s.outer, T: s.T, inner: s.inner, D: s.D, pairs: s.pairs });
  if (2 * s.pairs > s.D)
    throw new RangeError(`${kernel}: ${s.pairs} pairs need ${2 * s.pairs} channels, D is ${s.D}`);
  const n = s.outer * s.T * s.inner * s.D;
  checkView(kernel, "out", y, n);
  checkView(kernel, "x", x, n);
  checkView(kernel, "cos", cos, s.T * s.pairs);
  checkView(kernel, "sin", sin, s.T * s.pairs);
}

function checkHeads(kernel: string, slabs: Floats, rows: Floats, s: HeadsSizes): void {
  checkSizes(kernel, { B: s.B, T: s.T, H: s.H, Dh: s.Dh, rowStride: s.rowStride, offset: s.offset });
  if (s.offset + s.H * s.Dh > s.rowStride) {
    throw new RangeError(
      `${kernel}: heads end at column ${s.offset + s.H * s.Dh}, past the row of ${s.rowStride} elements`,
    );
  }
  checkView(kernel, "slabs", slabs, s.B * s.H * s.T * s.Dh);
  checkView(kernel, "rows", rows, s.B * s.T * s.rowStride);
}

export function createWasmRows(kernels: KernelExports): WasmRowKernels {
  const rotate = (
    y: Floats,
    x: Floats,
    cos: Floats,
    sin: Floats,
    s: RotateSizes,
    backward: boolean,
  ): void => {
    const { outer, T, inner, D, pairs } = s;
    kernels.rotateHalf(
      y.byteOffset,
      x.byteOffset,
      cos.byteOffset,
      sin.byteOffset,
      outer,
      T,
      inner,
      D,
      pairs,
      backward ? 1 : 0,
    );
  };
  return {
    rotatePairsForward(out, x, cos, sin, s) {
      if (s.layout !== "half") return rotatePairsForward(out, x, cos, sin, s);
      checkRotate("wasm rotatePairsForward", out, x, cos, sin, s);
      rotate(out, x, cos, sin, s, false);
    },
    rotatePairsBackward(dx, dout, cos, sin, s) {
      if (s.layout !== "half") return rotatePairsBackward(dx, dout, cos, sin, s);
      checkRotate("wasm rotatePairsBackward", dx, dout, cos, sin, s);
      rotate(dx, dout, cos, sin, s, true);
    },
    fillRows(out, bias, R, N) {
      checkSizes("wasm fillRows", { R, N });
      checkView("wasm fillRows", "out", out, R * N);
      checkView("wasm fillRows", "bias", bias, N);
      kernels.fillRows(out.byteOffset, bias.byteOffset, R, N);
    },
    sumRows(dbias, g, R, N) {
      checkSizes("wasm sumRows", { R, N });
      checkView("wasm sumRows", "dbias", dbias, N);
      checkView("wasm sumRows", "g", g, R * N);
      kernels.sumRows(dbias.byteOffset, g.byteOffset, R, N);
    },
    headsToSlabs(slabs, rows, s, accumulate) {
      checkHeads("wasm headsToSlabs", slabs, rows, s);
      kernels.moveHeads(
        slabs.byteOffset,
        rows.byteOffset,
        s.B,
        s.T,
        s.H,
        s.Dh,
        s.rowStride,
        s.offset,
        1,
        accumulate ? 1 : 0,
      );
    },
    slabsToHeads(rows, slabs, s, accumulate) {
      checkHeads("wasm slabsToHeads", slabs, rows, s);
      kernels.moveHeads(
        slabs.byteOffset,
        rows.byteOffset,
        s.B,
        s.T,
        s.H,
        s.Dh,
        s.rowStride,
        s.offset,
        0,
        accumulate ? 1 : 0,
      );
    },
  };
}
