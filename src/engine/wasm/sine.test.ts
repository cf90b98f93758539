/**
 * The WASM SIMD sin, cos and sinSqrtAbs kernels (./assembly/sine.ts) held to the reference kernels (Math.sin in
 * float64, rounded to float32): values and accumulated gradients, tails (n not a multiple of 4), in place, the
 * quadrant boundaries, large arguments, x = 0 (SPDER's limit) and NaN / Infinity.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { unaryKernels } from "../kernels/elementwise.js";
import { allocFloat32 } from "../memory.js";
import { createWasmKernels } from "./index.js";

const wasm = createWasmKernels();
const NAMES = ["sin", "cos", "sinSqrtAbs"] as const;

/** Forward and backward (from dx0) of the WASM kernel and of the reference on the same float32 inputs. */
function both(name: (typeof NAMES)[number], values: number[], dyValues?: number[], dx0Values?: number[]) {
  const n = values.length;
  const [x, dy, yRef, yWasm, dxRef, dxWasm] = [0, 0, 0, 0, 0, 0].map(() => allocFloat32(n));
  x.set(values);
  dy.set(dyValues ?? values.map(() => 1));
  if (dx0Values) {
    dxRef.set(dx0Values);
    dxWasm.set(dx0Values);
  }
  unaryKernels[name].forward(yRef, x, n);
  wasm[name].forward(yWasm, x, n);
  unaryKernels[name].backward(dxRef, dy, x, yRef, n);
  wasm[name].backward(dxWasm, dy, x, yWasm, n);
  return { x, yRef, yWasm, dxRef, dxWasm };
}

/** |a - b| <= tol (1 + |b|) for every element, or both NaN (one assertion on the worst element). */
function expectClose(a: Float32Array, b: Float32Array, tol: number, label: string) {
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < a.length; i++) {
    const bad = Number.isNaN(b[i])
      ? Number.isNaN(a[i])
        ? 0
        : Number.POSITIVE_INFINITY
      : Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])) - tol;
    if (!(bad <= excess)) {
      worst = i;
      excess = bad;
    }
  }
  expect(worst, worst < 0 ? label : `${label}[${worst}]: ${a[worst]} vs reference ${b[worst]}`).toBe(-1);
}

describe("WASM SIMD sin, cos, sinSqrtAbs", () => {
  it("exact values at 0 and the quadrant points; SPDER's gradient is 0 at x = 0 and its forward 0", () => {
    const points = [0, Math.PI / 2, Math.PI, (3 * Math.PI) / 2, -Math.PI / 2, Math.PI / 4, -Math.PI / 4];
    const sin = both("sin", points);
    expect(sin.yWasm[0]).toBe(0);
    expect(sin.dxWasm[0]).toBe(1); // cos 0
    expectClose(sin.yWasm, sin.yRef, 2e-7, "sin");
    expectClose(both("cos", points).yWasm, both("cos", points).yRef, 2e-7, "cos");
    const spder = both("sinSqrtAbs", [0, 0, 0, 0, 1e-30]);
    expect(Array.from(spder.yWasm.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(spder.dxWasm.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Number.isFinite(spder.dxWasm[4])).toBe(true);
  });

  it("matches the reference over |x| <= 1e4 (SIREN's pre-activations are 30 z), NaN for NaN and +-Infinity", () => {
    const rng = new Rng(7);
    for (const scale of [1, 10, 100, 1e4]) {
      const values = Array.from({ length: 4001 }, () => (2 * rng.next() - 1) * scale);
      // The relative tolerance grows with |x|: float32 x itself is only known to |x| 6e-8.
      const tol = 4e-7 * Math.max(1, scale / 10);
      for (const name of NAMES) {
        const r = both(name, values);
        const rootScale = name === "sinSqrtAbs" ? Math.sqrt(scale) : 1;
        expectClose(r.yWasm, r.yRef, tol * rootScale, `${name} y, scale ${scale}`);
        expectClose(r.dxWasm, r.dxRef, tol * rootScale, `${name} dx, scale ${scale}`);
      }
    }
    for (const name of ["sin", "cos"] as const) {
      const r = both(name, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1]);
      expect(Array.from(r.yWasm.subarray(0, 3)).every(Number.isNaN)).toBe(true);
    }
  });

  it("accumulates into dx like the reference, for any n (SIMD body and scalar tail) and in place", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 67 }), fc.integer({ min: 1, max: 1 << 30 }), (n, seed) => {
        const rng = new Rng(seed);
        const values = Array.from({ length: n }, () => (2 * rng.next() - 1) * 40);
        const dy = Array.from({ length: n }, () => 2 * rng.next() - 1);
        const dx0 = Array.from({ length: n }, () => 2 * rng.next() - 1);
        for (const name of NAMES) {
          const r = both(name, values, dy, dx0);
          expectClose(r.yWasm, r.yRef, 2e-6, `${name} y`);
          expectClose(r.dxWasm, r.dxRef, 2e-6, `${name} dx`);
          const inPlace = allocFloat32(n);
          inPlace.set(r.x);
          wasm[name].forward(inPlace, inPlace, n);
          expect(Array.from(inPlace)).toEqual(Array.from(r.yWasm));
        }
      }),
      { numRuns: 30 },
    );
  });
});
