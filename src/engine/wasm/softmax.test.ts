import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { softmaxBackward, softmaxForward } from "../kernels/softmax.js";
import { allocFloat32, freeFloat32 } from "../memory.js";
import { createWasmKernels } from "./index.js";

const wasm = createWasmKernels();

function randomArray(rng: Rng, length: number, spread: number): Float32Array {
  const view = allocFloat32(Math.max(length, 1));
  for (let i = 0; i < length; i++) view[i] = (rng.next() * 2 - 1) * spread;
  return view;
}

function expectClose(actual: Float32Array, expected: Float32Array, rel: number, abs: number): void {
  for (let i = 0; i < expected.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`element ${i}: wasm ${actual[i]} vs reference ${expected[i]} (tol ${tol})`);
    }
  }
}

describe("WASM SIMD softmax", () => {
  it("gives uniform rows for constant input and exact zeros where exp underflows", () => {
    const x = allocFloat32(8);
    x.set([5, 5, 5, 5, 0, -200, -200, -200]);
    const y = allocFloat32(8);
    wasm.softmaxForward(y, x, 2, 4);
    expect(Array.from(y.subarray(0, 4))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(y[4]).toBe(1);
    expect(Array.from(y.subarray(5))).toEqual([0, 0, 0]);
  });

  it("matches the reference forward and backward over random shapes (C not a multiple of 4)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom(0.1, 3, 30),
        fc.integer({ min: 1, max: 1 << 30 }),
        (N, C, spread, seed) => {
          const rng = new Rng(seed);
          const x = randomArray(rng, N * C, spread);
          const dy = randomArray(rng, N * C, 1);
          const dx0 = randomArray(rng, N * C, 1);
          const yRef = allocFloat32(N * C);
          const yWasm = allocFloat32(N * C);
          softmaxForward(yRef, x, N, C);
          wasm.softmaxForward(yWasm, x, N, C);
          expectClose(yWasm, yRef, 2e-6, 1e-9);
          const dxRef = allocFloat32(N * C);
          const dxWasm = allocFloat32(N * C);
          dxRef.set(dx0.subarray(0, N * C));
          dxWasm.set(dx0.subarray(0, N * C));
          softmaxBackward(dxRef, dy, yRef, N, C);
          wasm.softmaxBackward(dxWasm, dy, yRef, N, C);
          expectClose(dxWasm, dxRef, 1e-5, 1e-6);
          for (const view of [x, dy, dx0, yRef, yWasm, dxRef, dxWasm]) freeFloat32(view);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("works in place (out === inp)", () => {
    const rng = new Rng(3);
    const x = randomArray(rng, 3 * 9, 4);
    const expected = allocFloat32(27);
    softmaxForward(expected, x, 3, 9);
    wasm.softmaxForward(x, x, 3, 9);
    expectClose(x, expected, 2e-6, 1e-9);
  });

  it("rejects views outside the engine memory and short views", () => {
    const y = allocFloat32(4);
    expect(() => wasm.softmaxForward(y, new Float32Array(4), 1, 4)).toThrow(
      /inp is not a view of the engine memory/,
    );
    expect(() => wasm.softmaxForward(y, y, 2, 4)).toThrow(/out has 4 elements, needs 8/);
  });
});
