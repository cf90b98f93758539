import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { layernormBackward, layernormForward } from "../kernels/layernorm.js";
import { allocFloat32 } from "../memory.js";
import { createWasmKernels } from "./index.js";

const wasm = createWasmKernels();

function filled(rng: Rng, length: number, offset = 0): Float32Array {
  const view = allocFloat32(length);
  for (let i = 0; i < length; i++) view[i] = offset + rng.next() * 2 - 1;
  return view;
}

function copy(view: Float32Array | null): Float32Array | null {
  if (!view) return null;
  const out = allocFloat32(view.length);
  out.set(view);
  return out;
}

function expectClose(
  name: string,
  actual: Float32Array,
  expected: Float32Array,
  tol: number,
  slack: (i: number) => number = () => 0,
): void {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])) + slack(i))) {
      throw new Error(`${name}[${i}]: wasm ${actual[i]} vs reference ${expected[i]}`);
    }
  }
}

describe("WASM SIMD layernorm", () => {
  it("normalizes a hand-checked row: [1, 2, 3, 4] -> (x - 2.5) / sqrt(1.25 + eps)", () => {
    const x = allocFloat32(4);
    x.set([1, 2, 3, 4]);
    const y = allocFloat32(4);
    const mean = allocFloat32(1);
    const rstd = allocFloat32(1);
    wasm.layernormForward(y, mean, rstd, x, null, null, 1, 4, 0);
    expect(mean[0]).toBe(2.5);
    expect(rstd[0]).toBeCloseTo(1 / Math.sqrt(1.25), 6);
    expect(Array.from(y).map((v) => Number(v.toFixed(5)))).toEqual([-1.34164, -0.44721, 0.44721, 1.34164]);
  });

  it("matches the reference forward and backward over random shapes, with and without w and b", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 45 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1 << 30 }),
        (N, C, withW, withB, seed) => {
          const rng = new Rng(seed);
          const x = filled(rng, N * C, 3); // offset mean: exercises the subtraction
          const w = withW ? filled(rng, C) : null;
          const b = withB ? filled(rng, C) : null;
          const yRef = allocFloat32(N * C);
          const yWasm = allocFloat32(N * C);
          const [meanRef, rstdRef, meanWasm, rstdWasm] = [0, 1, 2, 3].map(() => allocFloat32(N));
          layernormForward(yRef, meanRef, rstdRef, x, w, b, N, C, 1e-5);
          wasm.layernormForward(yWasm, meanWasm, rstdWasm, x, w, b, N, C, 1e-5);
          // y = (x - mean) * rstd: the two kernels sum the mean in different orders, so their means may differ by
          // a few float32 ulps of |x| (<= 4 here), and y by that times rstd * |w|. A row of nearly equal values
          // (rstd up to 1/sqrt(eps) = 316) makes that the larger term: without it the property fails now and then.
          const ulpsOfMean = (i: number) =>
            8 * 2 ** -24 * 4 * rstdRef[Math.floor(i / C)]! * (w ? Math.abs(w[i % C]!) : 1);
          expectClose("y", yWasm, yRef, 2e-5, ulpsOfMean);
          expectClose("mean", meanWasm, meanRef, 1e-6);
          expectClose("rstd", rstdWasm, rstdRef, 2e-5);
          const dy = filled(rng, N * C);
          const dx0 = filled(rng, N * C);
          const dw0 = withW ? filled(rng, C) : null;
          const db0 = filled(rng, C);
          const [dxRef, dxWasm] = [copy(dx0)!, copy(dx0)!];
          const [dwRef, dwWasm] = [copy(dw0), copy(dw0)];
          const [dbRef, dbWasm] = [copy(db0)!, copy(db0)!];
          layernormBackward(dxRef, dwRef, dbRef, dy, x, w, meanRef, rstdRef, N, C);
          wasm.layernormBackward(dxWasm, dwWasm, dbWasm, dy, x, w, meanRef, rstdRef, N, C);
          expectClose("dx", dxWasm, dxRef, 5e-5);
          if (dwRef && dwWasm) expectClose("dw", dwWasm, dwRef, 2e-5);
          expectClose("db", dbWasm, dbRef, 1e-6);
        },
      ),
      { numRuns: 80 },
    );
  });
});
