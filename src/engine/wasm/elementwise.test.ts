import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { affineBackward, unaryKernels } from "../kernels/elementwise.js";
import { allocFloat32 } from "../memory.js";
import { createWasmKernels } from "./index.js";

const wasm = createWasmKernels();

describe("WASM SIMD gelu", () => {
  it("has gelu(0) = 0, gelu(x) ~ x for large x and ~ 0 for very negative x, and is odd-symmetric around x/2", () => {
    const x = allocFloat32(5);
    x.set([0, 10, -10, 1, -1]);
    const y = allocFloat32(5);
    wasm.gelu.forward(y, x, 5);
    expect(y[0]).toBe(0);
    expect(y[1]).toBe(10);
    expect(Math.abs(y[2])).toBeLessThan(1e-6);
    // gelu(x) - gelu(-x) = x (tanh is odd)
    expect(y[3] - y[4]).toBeCloseTo(1, 6);
    expect(y[3]).toBeCloseTo(0.8411920071, 6); // 0.5 (1 + tanh(sqrt(2/pi) 1.044715))
  });

  it("stays finite and matches the reference at extreme inputs (the exp saturates; no inf * 0)", () => {
    // Up to |x| = 1e4 (beyond ~7e12, x^3 overflows float32 and gelu' is inf * 0 in any float32 evaluation).
    const values = [-1e4, -100, -20, -9, -5, 5, 9, 20, 100, 1e4];
    const n = values.length;
    const x = allocFloat32(n);
    x.set(values);
    const [y, yRef, dy, dx, dxRef] = [0, 0, 0, 0, 0].map(() => allocFloat32(n));
    dy.fill(1);
    wasm.gelu.forward(y, x, n);
    unaryKernels.gelu.forward(yRef, x, n);
    wasm.gelu.backward(dx, dy, x, y, n);
    unaryKernels.gelu.backward(dxRef, dy, x, yRef, n);
    for (let i = 0; i < n; i++) {
      expect(Number.isFinite(y[i]) && Number.isFinite(dx[i]), `x = ${values[i]}`).toBe(true);
      expect(Math.abs(y[i] - yRef[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(yRef[i])));
      expect(Math.abs(dx[i] - dxRef[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(dxRef[i])));
    }
  });

  it("matches the reference forward and backward (n not a multiple of 4, in place)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 103 }), fc.integer({ min: 1, max: 1 << 30 }), (n, seed) => {
        const rng = new Rng(seed);
        const x = allocFloat32(n);
        const dy = allocFloat32(n);
        const dx0 = allocFloat32(n);
        for (let i = 0; i < n; i++) {
          x[i] = (rng.next() * 2 - 1) * 6;
          dy[i] = rng.next() * 2 - 1;
          dx0[i] = rng.next() * 2 - 1;
        }
        const yRef = allocFloat32(n);
        const yWasm = allocFloat32(n);
        unaryKernels.gelu.forward(yRef, x, n);
        wasm.gelu.forward(yWasm, x, n);
        const dxRef = Float32Array.from(dx0);
        const dxWasm = allocFloat32(n);
        dxWasm.set(dx0);
        unaryKernels.gelu.backward(dxRef, dy, x, yRef, n);
        wasm.gelu.backward(dxWasm, dy, x, yWasm, n);
        for (let i = 0; i < n; i++) {
          expect(Math.abs(yWasm[i] - yRef[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(yRef[i])));
          expect(Math.abs(dxWasm[i] - dxRef[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(dxRef[i])));
        }
        const inPlace = allocFloat32(n);
        inPlace.set(x);
        wasm.gelu.forward(inPlace, inPlace, n);
        expect(Array.from(inPlace)).toEqual(Array.from(yWasm));
      }),
      { numRuns: 60 },
    );
  });
});

describe("WASM SIMD affineBackward (dx += scale dy)", () => {
  it("matches the reference: bit for bit at scale 1 (reshape's gradient), within 2 ulp otherwise", () => {
    const rng = new Rng(5);
    for (const [n, scale] of [
      [1, 1],
      [7, 1],
      [4099, 1],
      [13, 0.37],
      [1031, -2.5],
    ]) {
      const dy = allocFloat32(n);
      const dx = allocFloat32(n);
      for (let i = 0; i < n; i++) {
        dy[i] = rng.next() * 8 - 4;
        dx[i] = rng.next() * 2 - 1;
      }
      const ref = Float32Array.from(dx);
      affineBackward(ref, dy, scale, n);
      wasm.affineBackward(dx, dy, scale, n);
      for (let i = 0; i < n; i++) {
        if (scale === 1) expect(dx[i]).toBe(ref[i]);
        else
          expect(Math.abs(dx[i] - ref[i])).toBeLessThanOrEqual(
            2 * 2 ** -23 * (Math.abs(ref[i]) + Math.abs(scale * dy[i])),
          );
      }
    }
  });
});
